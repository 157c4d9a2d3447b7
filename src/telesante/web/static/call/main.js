// The téléconsultation's call page: camera and micro, controls, chat, shared files, quality and the
// end of the call. The room itself (socket and mesh) is room.js, shared with the other acts' calls.

import { LABELS } from "./quality.js";
import { Room } from "./room.js";

const root = document.getElementById("appel");
const appointmentId = root.dataset.appointment;
const csrf = root.dataset.csrf;
const guest = root.dataset.guest === "oui";
const $ = (id) => document.getElementById(id);
const hook = { state: "starting", peers: async () => [], messages: [], marks: {} };
const mark = (name) => (hook.marks[name] ??= Math.round(performance.now())); // read by bench/call_setup.py
window.telesanteCall = hook; // read by the browser tests and the benchmark
let callPass = null; // a guest's credential for files, handed over its socket (passes.py)
let passHeader = "x-call-pass";

function say(text) {
  $("call-status").textContent = text;
}

function guestToken() {
  const match = location.hash.match(/jeton=([\w-]+)/);
  history.replaceState(null, "", location.pathname); // the one-time token leaves the address bar
  return match ? match[1] : null;
}

async function memberToken() {
  const response = await fetch(`/api/teleconsultations/${appointmentId}/call/token`, {
    method: "POST",
    headers: { "x-csrf-token": csrf },
    credentials: "same-origin",
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    say(problem.detail || "Impossible de rejoindre l'appel.");
    return null;
  }
  return (await response.json()).token;
}

function tile(peer) {
  let item = document.querySelector(`[data-peer="${peer.id}"]`);
  if (item) return item;
  item = document.createElement("li");
  item.className = "call-tile";
  item.dataset.peer = peer.id;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("aria-label", `Image de ${peer.name}`);
  const name = document.createElement("span");
  name.className = "tile-name";
  name.textContent = peer.name;
  const state = document.createElement("span");
  state.className = "tile-state";
  item.append(video, name, state);
  $("videos").append(item);
  return item;
}

function addChat(who, text, at) {
  const item = document.createElement("li");
  const time = at ? new Date(at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" }) : "";
  item.textContent = `${time} ${who} : ${text}`;
  $("chat-log").append(item);
  hook.messages.push({ who, text });
}

function addFile(m) {
  const item = document.createElement("li");
  const time = new Date(m.at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
  const link = document.createElement("a");
  link.href = m.file.url;
  link.download = m.file.filename;
  link.textContent = m.file.filename;
  // A guest has no session cookie: its download goes through fetch, with its call pass.
  if (guest) {
    link.addEventListener("click", (e) => {
      e.preventDefault();
      downloadWithPass(m.file);
    });
  }
  item.append(`${time} ${m.name} a partagé `, link, ` (${Math.ceil(m.file.size / 1024)} Ko)`);
  $("chat-log").append(item);
  hook.messages.push({ who: m.name, text: m.text, file: m.file });
}

async function downloadWithPass(file) {
  const response = await fetch(file.url, { headers: { [passHeader]: callPass } });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    $("file-status").textContent = problem.detail || "Téléchargement impossible.";
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = file.filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

function ended(reason) {
  room?.close();
  hook.state = "ended";
  stream.getTracks().forEach((t) => t.stop());
  root.classList.add("call-ended");
  say(reason);
}

mark("script");
// The join token is fetched while the camera starts: neither waits for the other.
const earlyToken = guest ? Promise.resolve(guestToken()) : memberToken().catch(() => null);
let stream;
try {
  stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
  mark("media");
} catch (error) {
  say("Caméra ou micro inaccessible : autorisez-les dans le navigateur puis rechargez la page.");
  throw error;
}
$("local-video").srcObject = stream;
const flags = { audio: true, video: true, screen: false };

function onMessage(m, sender) {
  if (m.type === "welcome") {
    mark("welcome");
    say(m.peers.length ? "Vous êtes dans l'appel." : "Vous êtes dans l'appel. En attente des autres participants…");
    send({ type: "state", ...flags });
  } else if (m.type === "joined") {
    tile(m.peer);
    say(`${m.peer.name} a rejoint l'appel.`);
    send({ type: "state", ...flags });
  } else if (m.type === "left") {
    say(`${m.peer?.name || "Un participant"} a quitté l'appel.`);
  } else if (m.type === "signal") {
    if (sender) tile(sender);
  } else if (m.type === "state") {
    const item = document.querySelector(`[data-peer="${m.from}"]`);
    if (item) {
      item.classList.toggle("camera-off", !m.video && !m.screen);
      const notes = [!m.audio && "micro coupé", !m.video && !m.screen && "caméra coupée", m.screen && "partage d'écran"];
      item.querySelector(".tile-state").textContent = notes.filter(Boolean).join(", ");
    }
  } else if (m.type === "chat") {
    addChat(m.name, m.text, m.at);
  } else if (m.type === "file") {
    addFile(m);
  } else if (m.type === "pass") {
    callPass = m.pass;
    passHeader = m.header;
  } else if (m.type === "ended") {
    ended("Le professionnel a terminé la téléconsultation.");
  } else if (m.type === "error") {
    say(m.detail);
  }
}

const room = new Room({
  stream,
  socket: root.dataset.socket,
  fetchToken: guest ? null : memberToken,
  hook,
  view: {
    say,
    remote: (peer, remote) => {
      mark("remote-track");
      tile(peer).querySelector("video").srcObject = remote;
    },
    gone: (id) => document.querySelector(`[data-peer="${id}"]`)?.remove(),
    quality: (worst, stats) => {
      const rtt = stats.find((s) => s?.rtt != null)?.rtt;
      const loss = Math.max(0, ...stats.map((s) => s?.loss || 0));
      $("quality").className = `quality quality-${worst}`;
      $("quality").textContent =
        `Qualité du réseau : ${LABELS[worst]}` + (rtt != null ? ` (${Math.round(rtt * 1000)} ms, ${(loss * 100).toFixed(1)} % de pertes)` : "");
    },
    message: onMessage,
    closed: ended,
  },
});
const send = (message) => room.send(message);
const mesh = room.mesh;
// Test hook: measure `name` ("good", "fair", "poor") on every link instead of getStats' RTT and
// losses, until called with null. The mesh degrades through its usual path (adapt, applyProfile).
hook.forceQuality = (name) => {
  mesh.forced = name;
};
const firstToken = await earlyToken;
mark("token");
say("Connexion à l'appel…");
await room.connect(firstToken);

function toggle(button, on, labels) {
  button.setAttribute("aria-pressed", String(!on));
  button.textContent = on ? labels[0] : labels[1];
}

$("btn-mic").addEventListener("click", (e) => {
  flags.audio = !flags.audio;
  stream.getAudioTracks().forEach((t) => (t.enabled = flags.audio));
  toggle(e.currentTarget, flags.audio, ["Couper le micro", "Réactiver le micro"]);
  send({ type: "state", ...flags });
});

$("btn-cam").addEventListener("click", (e) => {
  flags.video = !flags.video;
  stream.getVideoTracks().forEach((t) => (t.enabled = flags.video));
  $("local-video").parentElement.classList.toggle("camera-off", !flags.video);
  toggle(e.currentTarget, flags.video, ["Couper la caméra", "Réactiver la caméra"]);
  send({ type: "state", ...flags });
});

let screenTrack = null;
async function stopScreen() {
  screenTrack?.stop();
  screenTrack = null;
  flags.screen = false;
  await mesh.replaceVideo(stream.getVideoTracks()[0]);
  $("local-video").srcObject = stream;
  toggle($("btn-screen"), true, ["Partager l'écran", "Arrêter le partage"]);
  send({ type: "state", ...flags });
}
$("btn-screen").addEventListener("click", async () => {
  if (screenTrack) return stopScreen();
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
    screenTrack = display.getVideoTracks()[0];
    screenTrack.addEventListener("ended", stopScreen);
    await mesh.replaceVideo(screenTrack);
    $("local-video").srcObject = display;
    flags.screen = true;
    toggle($("btn-screen"), false, ["Partager l'écran", "Arrêter le partage"]);
    send({ type: "state", ...flags });
  } catch {
    say("Partage d'écran annulé ou indisponible.");
  }
});

$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text) return;
  send({ type: "chat", text });
  addChat("Vous", text, new Date().toISOString());
  $("chat-input").value = "";
});

// Files go over HTTP, never over the socket; the server announces them to everyone, us included.
$("file-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("file-input").files[0];
  const status = $("file-status");
  if (!file) return;
  if (guest && !callPass) {
    status.textContent = "Connexion à l'appel en cours, réessayez dans un instant.";
    return;
  }
  status.textContent = `Envoi de ${file.name}…`;
  const headers = { "content-type": file.type || "application/octet-stream" };
  if (guest) headers[passHeader] = callPass;
  else headers["x-csrf-token"] = csrf;
  const url = `/api/teleconsultations/${appointmentId}/files?filename=${encodeURIComponent(file.name)}`;
  const response = await fetch(url, { method: "POST", headers, body: file, credentials: "same-origin" });
  if (response.ok) {
    status.textContent = `${file.name} partagé.`;
    $("file-input").value = "";
  } else {
    const problem = await response.json().catch(() => ({}));
    status.textContent = `Fichier refusé : ${problem.detail || `erreur ${response.status}`}`;
  }
});

$("btn-end")?.addEventListener("click", () => {
  if (confirm("Terminer la téléconsultation pour tous les participants ?")) send({ type: "end" });
});
hook.end = () => send({ type: "end" }); // the tests end without the confirmation dialog

$("btn-leave")?.addEventListener("click", () => {
  room.leave();
  ended("Vous avez quitté l'appel.");
});

$("btn-invite")?.addEventListener("click", (e) => {
  const form = $("invite-form");
  form.classList.toggle("hidden");
  e.currentTarget.setAttribute("aria-expanded", String(!form.classList.contains("hidden")));
});
$("invite-form")?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const rpps = $("invite-rpps").value.trim();
  const response = await fetch(`/api/teleconsultations/${appointmentId}/call/invitations`, {
    method: "POST",
    headers: { "x-csrf-token": csrf, "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(rpps ? { rpps } : { display_name: $("invite-name").value.trim() }),
  });
  const body = await response.json();
  const problem = body.errors?.[0]?.reason || body.detail || "Invitation impossible.";
  $("invite-link").textContent = !response.ok
    ? problem
    : body.with_account
      ? "Invitation envoyée : le professionnel rejoint l'appel depuis son compte."
      : `Lien à usage unique (30 min) : ${location.origin}${body.url}`;
  if (response.ok) hook.invitation = body.url;
});
