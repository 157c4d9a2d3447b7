// What the session keeps, shown to both participants: the checklist and its ticks, the images filed
// in the patient's record, the report once ended. Read from the API; the other side is told to
// read it again over the call's data channel ({t: "refresh"}).

const $ = (id) => document.getElementById(id);
const time = (at) => new Date(at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const SOURCES = { camera: "caméra", dermatoscope: "dermatoscope", otoscope: "otoscope", externe: "source externe" };

export class SessionRecord {
  // ctx: {api(path, options), say(text), hook, tell(message)}; onCapture(capture, img): an extra per image
  constructor(ctx, onCapture = null) {
    this.ctx = ctx;
    this.onCapture = onCapture;
    this.session = null;
    $("ta-checklist-form")?.addEventListener("submit", (e) => {
      e.preventDefault();
      this.pick($("ta-checklist-code").value);
    });
  }

  async refresh() {
    const response = await this.ctx.api();
    if (!response.ok) return null;
    this.session = await response.json();
    this.ctx.hook.session = this.session;
    this.render(this.session);
    return this.session;
  }

  render(s) {
    const active = s.status === "active";
    const form = $("ta-checklist-form");
    if (form) form.hidden = !active || Boolean(s.checklist);
    $("ta-checklist-title").textContent = s.checklist ? s.checklist.title : "Aucune liste d'étapes choisie.";
    $("ta-steps").replaceChildren(...s.steps.map((step) => this.step(step, active)));
    $("ta-captures").replaceChildren(...s.captures.map((c) => this.capture(c)));
    $("ta-report").hidden = !s.report_document_id;
  }

  step(step, active) {
    const item = document.createElement("li");
    item.className = step.done_at ? "ta-step ta-done" : "ta-step";
    const label = document.createElement("label");
    label.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = Boolean(step.done_at);
    box.disabled = !active || Boolean(step.done_at); // a tick is kept with its time, not undone
    box.addEventListener("change", () => this.tick(step.position));
    label.append(box, ` ${step.label}`);
    item.append(label);
    if (step.done_at) item.append(` — fait à ${time(step.done_at)}`);
    return item;
  }

  capture(c) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = `/api/teleassistance/sessions/${this.session.id}/captures/${c.id}`;
    image.alt = `Image (${SOURCES[c.source] || c.source}) enregistrée à ${time(c.taken_at)}`;
    const caption = `${time(c.taken_at)}, ${SOURCES[c.source] || c.source}, ${c.marks.length} annotation(s)`;
    item.append(image, caption);
    this.onCapture?.(c, image, item);
    return item;
  }

  async pick(code) {
    await this.change("/checklist", JSON.stringify({ checklist: code }));
  }

  async tick(position) {
    await this.change(`/steps/${position}`);
  }

  async change(path, body) {
    const headers = body ? { "content-type": "application/json" } : {};
    const response = await this.ctx.api(path, { method: "POST", headers, body });
    if (!response.ok) this.ctx.say(await problem(response));
    await this.refresh();
    this.ctx.tell({ t: "refresh" });
  }
}

export async function problem(response) {
  const body = await response.json().catch(() => ({}));
  return body.errors?.[0]?.reason || body.detail || `erreur ${response.status}`;
}
