// The regulator's video page: send the caller a one-time link, see their camera big (the regulator
// is heard, not seen), capture still images into the file, end the session.

import { LABELS } from "./call/quality.js";
import { Room } from "./call/room.js";

const $ = (id) => document.getElementById(id);
const root = $("video-regulation");
const csrf = root.dataset.csrf;
const api = `/api/regulation/files/${root.dataset.file}/video`;
const hook = { state: "idle", peers: async () => [], captures: 0 };
window.telesanteCall = hook; // read by the browser tests
const flags = { audio: true, video: false, screen: false };
let stream = null;
let room = null;

function say(text) {
  $("call-status").textContent = text;
}

const time = (at) => (at ? new Date(at).toLocaleTimeString("fr-FR") : "");

function post(path, body, type = "application/json") {
  return fetch(api + path, {
    method: "POST",
    headers: { "x-csrf-token": csrf, "content-type": type },
    body,
    credentials: "same-origin",
  });
}

async function problem(response) {
  const body = await response.json().catch(() => ({}));
  return body.errors?.[0]?.reason || body.detail || `erreur ${response.status}`;
}

function controls(on) {
  for (const id of ["btn-mic", "btn-end"]) $(id).disabled = !on;
  if (!on) $("btn-capture").disabled = true;
}

async function token() {
  const response = await post("/token");
  if (!response.ok) {
    say(await problem(response));
    return null;
  }
  return response.json();
}

async function join() {
  room?.leave(); // a new link is a new session: the earlier room is over
  const joined = await token();
  if (!joined) return;
  stream ??= await navigator.mediaDevices.getUserMedia({ audio: true });
  room = new Room({
    stream,
    socket: joined.socket,
    fetchToken: async () => (await token())?.token,
    hook,
    view: {
      say,
      remote: (_, remote) => {
        $("caller-video").srcObject = remote;
        $("btn-capture").disabled = false;
      },
      gone: () => {
        $("caller-video").srcObject = null;
        $("btn-capture").disabled = true;
      },
      quality: (worst) => {
        $("quality").className = `quality quality-${worst}`;
        $("quality").textContent = `Qualité du réseau : ${LABELS[worst]}`;
      },
      message: onMessage,
      closed: ended,
    },
  });
  await room.connect(joined.token);
}

function onMessage(m) {
  if (m.type === "welcome") {
    controls(true);
    say(m.peers.length ? "L'appelant est en ligne." : "En attente de l'appelant : il doit ouvrir le lien reçu.");
    room.send({ type: "state", ...flags });
  } else if (m.type === "joined") {
    say("L'appelant a rejoint l'appel vidéo.");
    room.send({ type: "state", ...flags });
  } else if (m.type === "left") {
    say("L'appelant a quitté l'appel vidéo.");
  } else if (m.type === "state") {
    const notes = [!m.audio && "micro coupé", !m.video && "caméra coupée"].filter(Boolean);
    $("caller-state").textContent = `Caméra de l'appelant${notes.length ? ` (${notes.join(", ")})` : ""}`;
  } else if (m.type === "ended") {
    ended("Appel vidéo terminé.");
  } else if (m.type === "error") {
    say(m.detail);
  }
}

function ended(text) {
  room?.close();
  $("caller-video").srcObject = null;
  controls(false);
  say(text);
  refresh();
}

function item(text, image) {
  const li = document.createElement("li");
  if (image) li.append(image);
  li.append(text);
  return li;
}

async function refresh() {
  const response = await fetch(api, { credentials: "same-origin" });
  if (!response.ok) return;
  const filed = await response.json();
  $("captures").replaceChildren(
    ...filed.captures.map((c) => {
      const image = document.createElement("img");
      image.src = c.url;
      image.alt = `Image capturée à ${time(c.taken_at)}`;
      return item(`${time(c.taken_at)}, par ${c.taken_by || "?"}`, image);
    }),
  );
  $("sessions").replaceChildren(
    ...filed.sessions.map((s) =>
      item(
        `Lien envoyé à ${time(s.started_at)} par ${s.started_by || "?"} (${s.channel === "email" ? "e-mail" : "SMS"})` +
          (s.used_at ? `, ouvert à ${time(s.used_at)}` : ", pas encore ouvert") +
          (s.ended_at ? `, terminé à ${time(s.ended_at)}` : ", en cours"),
      ),
    ),
  );
  hook.filed = filed;
}

async function capture() {
  const video = $("caller-video");
  if (!video.videoWidth) return say("Pas encore d'image de l'appelant.");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const image = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  const response = await post("/captures", image, "image/jpeg");
  if (!response.ok) return say(`Image refusée : ${await problem(response)}`);
  hook.captures += 1;
  say("Image enregistrée dans le dossier.");
  await refresh();
}

$("link-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = JSON.stringify({ channel: $("link-channel").value, contact: $("link-contact").value.trim() });
  const response = await post("", body);
  if (!response.ok) {
    $("link-result").textContent = `Lien non envoyé : ${await problem(response)}`;
    return;
  }
  const sent = await response.json();
  hook.link = sent.link;
  $("link-result").textContent = `Lien envoyé (valable 30 minutes). À lire à l'appelant si besoin : ${sent.link}`;
  await refresh();
  await join();
});
$("btn-capture").addEventListener("click", capture);
$("btn-mic").addEventListener("click", (e) => {
  flags.audio = !flags.audio;
  stream.getAudioTracks().forEach((t) => (t.enabled = flags.audio));
  e.currentTarget.setAttribute("aria-pressed", String(!flags.audio));
  e.currentTarget.textContent = flags.audio ? "Couper le micro" : "Réactiver le micro";
  room.send({ type: "state", ...flags });
});
$("btn-end").addEventListener("click", async () => {
  const response = await post("/end");
  if (!response.ok) say(await problem(response)); // otherwise "ended" comes over the socket
});

refresh();
if (root.dataset.live) join();
