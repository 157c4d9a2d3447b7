// The doctor's side: the professional's camera and extra source, drawing on either (pointer, arrow,
// circle, free line, text label) with marks sent over the data channel as they are drawn; a frozen
// frame annotated and sent into the record; a full-resolution photo on request; the checklist; the end.

import { Overlay, burn, headerJson, normalise, stored } from "./ta_marks.js";
import { problem } from "./ta_record.js";

const $ = (id) => document.getElementById(id);
let counter = 0;
const newId = () => `${Date.now().toString(36)}-${++counter}`;

export async function setup(ctx) {
  const { say, hook } = ctx;
  const views = {
    main: { video: $("ta-main"), overlay: new Overlay($("ta-main-overlay"), $("ta-main")) },
    extra: { video: $("ta-extra"), overlay: new Overlay($("ta-extra-overlay"), $("ta-extra")) },
  };
  const still = { image: $("ta-still"), overlay: new Overlay($("ta-still-overlay"), $("ta-still")), marks: [], source: "camera" };
  const pending = new Map(); // mark id -> {at, resolve}: the round trip ends with the other side's ack
  let extraKind = "externe";
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true }); // heard, not seen: the image is theirs
  } catch {
    say("Micro inaccessible : vous verrez le professionnel sans qu'il vous entende.");
    stream = new MediaStream();
  }
  hook.sent = [];
  hook.rtts = [];
  hook.shown = (track = "main") => views[track].overlay.shown();
  hook.inbound = () => inbound(ctx.room);
  hook.sendMark = (mark) => send(mark);

  function tool() {
    const type = document.querySelector('input[name="ta-tool"]:checked').value;
    const mark = { id: newId(), type, points: [], color: $("ta-color").value, pinned: $("ta-pin").checked };
    if (type === "text") mark.text = $("ta-label-text").value.trim().slice(0, 80) || "Ici";
    return mark;
  }

  function send(mark) {
    const sent = { ...mark, points: stored(mark).points };
    views[sent.track].overlay.add(sent);
    hook.sent.push(sent);
    return new Promise((resolve) => {
      pending.set(sent.id, { at: performance.now(), resolve });
      if (!ctx.tell({ t: "mark", mark: sent })) {
        pending.delete(sent.id);
        say("Annotation non transmise : la liaison avec le professionnel n'est pas encore établie.");
        resolve(null);
      }
    });
  }

  for (const [track, view] of Object.entries(views)) drawOn(view.overlay, (mark) => send({ ...mark, track }), tool);
  drawOn(still.overlay, (mark) => {
    const kept = { ...mark, pinned: true };
    still.marks.push(kept);
    still.overlay.add(kept);
  }, tool);

  async function freeze(track) {
    const { video } = views[track];
    if (!video.videoWidth) return say("Pas encore d'image à figer.");
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [video.videoWidth, video.videoHeight];
    canvas.getContext("2d").drawImage(video, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    await annotate(URL.createObjectURL(blob), track === "extra" ? extraKind : "camera");
  }

  async function annotate(url, source) {
    still.image.src = url;
    await still.image.decode();
    still.source = source;
    still.marks = [];
    still.overlay.clear();
    $("ta-still-panel").hidden = false;
    hook.frozen = true;
    say("Image figée : annotez-la puis envoyez-la.");
  }

  async function sendStill() {
    const canvas = burn(still.image, still.marks);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const response = await ctx.api(`/captures?source=${still.source}`, {
      method: "POST",
      headers: { "content-type": "image/png", "x-marks": headerJson(still.marks.map(stored)) },
      body: blob,
    });
    if (!response.ok) return say(`Image refusée : ${await problem(response)}`);
    const shot = await response.json();
    ctx.tell({ t: "still", capture: shot.id });
    closeStill();
    say("Image annotée envoyée au professionnel et enregistrée dans le dossier.");
    await ctx.record.refresh();
  }

  function closeStill() {
    $("ta-still-panel").hidden = true;
    still.overlay.clear();
    hook.frozen = false;
  }

  function data(m) {
    if (m.t === "ack") {
      const waiting = pending.get(m.id);
      pending.delete(m.id);
      if (waiting) {
        const rtt = performance.now() - waiting.at;
        hook.rtts.push(rtt);
        waiting.resolve(rtt);
      }
    } else if (m.t === "sources") {
      extraKind = m.extra?.kind || "externe";
      $("ta-extra-view").hidden = !m.extra;
      if (m.extra) views.extra.video.play().catch(() => {}); // a hidden video's autoplay did not start it
      $("ta-extra-caption").textContent = m.extra ? `${m.extra.kind} (${m.extra.label})` : "";
      hook.extra = m.extra;
    } else if (m.t === "photo-done") {
      say("Photo haute résolution reçue : elle est dans le dossier, vous pouvez l'annoter.");
      ctx.record.refresh();
    } else if (m.t === "photo-failed") {
      say(`Photo impossible : ${m.detail}`);
    } else if (m.t === "refresh") {
      ctx.record.refresh();
    }
  }

  // An image in the record (a full-resolution photo) can be annotated as a frozen frame.
  ctx.record.onCapture = (capture, image, item) => {
    if (ctx.record.session.status !== "active") return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Annoter cette image";
    button.addEventListener("click", () => annotate(image.src, capture.source));
    item.append(button);
  };

  async function end() {
    if (!confirm("Terminer la téléassistance ? Le compte rendu sera versé au dossier du patient.")) return;
    const response = await ctx.api("/end", { method: "POST" });
    if (!response.ok) return say(await problem(response));
    ctx.tell({ t: "ended" });
    ctx.room?.send({ type: "end" }); // closes the call for both (the session is already ended)
    await ctx.ended("Téléassistance terminée : le compte rendu est versé au dossier du patient.");
  }

  $("ta-freeze-main").addEventListener("click", () => freeze("main"));
  $("ta-freeze-extra").addEventListener("click", () => freeze("extra"));
  $("ta-send").addEventListener("click", sendStill);
  $("ta-discard").addEventListener("click", closeStill);
  $("ta-clear").addEventListener("click", () => {
    views.main.overlay.clear();
    views.extra.overlay.clear();
    ctx.tell({ t: "clear" });
  });
  $("ta-photo").addEventListener("click", () => {
    if (ctx.tell({ t: "photo", track: "main" })) say("Photo haute résolution demandée au professionnel…");
  });
  $("ta-mic").addEventListener("click", (e) => {
    const audio = stream.getAudioTracks()[0];
    if (!audio) return;
    audio.enabled = !audio.enabled;
    e.currentTarget.setAttribute("aria-pressed", String(!audio.enabled));
    e.currentTarget.textContent = audio.enabled ? "Couper le micro" : "Réactiver le micro";
  });
  $("ta-end").addEventListener("click", end);

  return {
    stream,
    data,
    opened: () => ($("ta-photo").disabled = false),
    remote: (_, remote, { track, slot }) => {
      if (track.kind === "audio") {
        $("ta-audio").srcObject = new MediaStream([track]);
        return;
      }
      views[slot === 1 ? "extra" : "main"].video.srcObject = new MediaStream([track]);
      $("ta-freeze-main").disabled = false;
    },
    gone: () => {
      for (const view of Object.values(views)) view.video.srcObject = null;
    },
    stop: () => stream.getTracks().forEach((t) => t.stop()),
  };
}

// Pointer gestures on an overlay become marks: a click for a pointer or a label, a drag for the rest.
function drawOn(overlay, done, tool) {
  const canvas = overlay.canvas;
  canvas.addEventListener("pointerdown", (e) => {
    const rect = overlay.rect();
    if (!rect || e.button !== 0) return;
    const box = canvas.getBoundingClientRect();
    const at = (event) => normalise(rect, event.clientX - box.left, event.clientY - box.top);
    const mark = tool();
    mark.points = [at(e)];
    if (mark.type === "pointer" || mark.type === "text") return done(mark);
    canvas.setPointerCapture(e.pointerId);
    const move = (event) => {
      if (mark.type === "line") mark.points.push(at(event));
      else mark.points[1] = at(event);
      overlay.setDraft(mark);
    };
    const up = (event) => {
      move(event);
      canvas.removeEventListener("pointermove", move);
      overlay.setDraft(null);
      done(mark);
    };
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", up, { once: true });
  });
}

// Each inbound video of the call (the camera, the extra source) and the frames decoded from it.
async function inbound(room) {
  const out = [];
  for (const { pc } of room?.mesh.peers.values() || []) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        out.push({ mid: r.mid, framesDecoded: r.framesDecoded || 0, width: r.frameWidth || 0, height: r.frameHeight || 0 });
      }
    });
  }
  return out;
}
