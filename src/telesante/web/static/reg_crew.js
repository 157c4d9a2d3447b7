// The crew's phone: the mission token is in the URL fragment (never sent to the server with the
// page, nor in a Referer); every call to the crew API carries it as a bearer token. The crew sees
// where to go and why, moves its mission's status forward and sends its bilan.
const root = document.getElementById("reg-crew");
const labels = JSON.parse(document.getElementById("reg-crew-labels").textContent);
const token = decodeURIComponent(location.hash.slice(1));
const message = document.getElementById("crew-message");
const bilanForm = document.getElementById("crew-bilan");
const bilanMessage = document.getElementById("bilan-message");
const FINISHED = new Set(["RET-BASE", "ANNULE"]);
const FIELD_NAMES = {
  heart_rate: "pouls",
  systolic: "PA systolique",
  diastolic: "PA diastolique",
  spo2: "SpO₂",
  respiratory_rate: "fréquence respiratoire",
  temperature: "température",
  glasgow: "Glasgow",
  glucose_mg_dl: "glycémie",
  observations: "observations",
};

async function api(path, body) {
  const response = await fetch(`/api/regulation/crew/${path}`, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(refusal(response.status, data));
  return data;
}

function refusal(status, problem) {
  if (status === 401) return "Lien de mission invalide : demandez un nouveau lien à la salle de régulation.";
  if (status === 422 && problem.errors?.length) {
    const fields = problem.errors.map((e) => FIELD_NAMES[e.field.split(".").pop()] || e.field);
    return `Valeur refusée : ${[...new Set(fields)].join(", ")}.`;
  }
  return problem.detail ? `Refusé : ${problem.detail}` : "La salle de régulation ne répond pas, réessayez.";
}

function text(id, value) {
  document.getElementById(id).textContent = value ?? "";
}

function show(mission) {
  root.dataset.state = FINISHED.has(mission.status) ? "finished" : "active";
  root.dataset.status = mission.status;
  text("crew-priority", mission.priority);
  document.getElementById("crew-priority").className = `reg-prio reg-prio-${mission.priority}`;
  text("crew-motive", mission.motive || "Motif non précisé");
  text("crew-address", mission.address || "Adresse non précisée");
  text("crew-city", mission.city);
  text("crew-access", mission.access_details ? `Accès : ${mission.access_details}` : "");
  const patient = [mission.patient.age != null ? `${mission.patient.age} ans` : "", labels.sexes[mission.patient.sex] || ""];
  text("crew-patient", patient.some(Boolean) ? `Patient : ${patient.filter(Boolean).join(", ")}` : "");
  text("crew-resource", mission.resource.name);
  text("crew-case", mission.case_id);
  text("crew-status", labels.status[mission.status] || mission.status);
  const now = labels.order.indexOf(mission.status);
  let first = true;
  for (const button of document.querySelectorAll("#crew-actions button[data-status]")) {
    const ahead = !FINISHED.has(mission.status) && labels.order.indexOf(button.dataset.status) > now;
    button.hidden = !ahead;
    button.classList.toggle("secondary", ahead && !first);
    if (ahead) first = false;
  }
  document.getElementById("crew-mission").hidden = false;
  document.getElementById("crew-actions").hidden = false;
  document.getElementById("crew-refresh").hidden = false;
  bilanForm.hidden = FINISHED.has(mission.status);
  message.textContent = FINISHED.has(mission.status) ? "Mission terminée." : "";
}

async function run(action) {
  try {
    show(await action());
  } catch (error) {
    message.textContent = error.message;
  }
}

for (const button of document.querySelectorAll("#crew-actions button[data-status]")) {
  button.addEventListener("click", () => run(() => api("status", { status: button.dataset.status })));
}

bilanForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const bilan = {};
  for (const field of bilanForm.querySelectorAll("input, textarea")) {
    const value = field.value.trim();
    if (value) bilan[field.name] = field.type === "number" ? Number(value.replace(",", ".")) : value;
  }
  try {
    show(await api("bilan", bilan));
    bilanForm.reset();
    bilanMessage.textContent = "Bilan transmis à la salle de régulation.";
  } catch (error) {
    bilanMessage.textContent = error.message;
  }
});

document.getElementById("crew-refresh").addEventListener("click", () => run(() => api("mission")));

if (token) {
  run(() => api("mission"));
} else {
  message.textContent = "Lien de mission incomplet : ouvrez le lien complet reçu de la salle de régulation.";
}
