// The caller's page: a one-time link from the SAMU regulator shows the phone's camera to them.
// No account: the link (in the fragment, never sent to a server by the browser) is spent once for
// a join token of the session's call; the room is the téléconsultation's call layer (call/room.js).

import { Room } from "./call/room.js";

const $ = (id) => document.getElementById(id);
const hook = { state: "ready", peers: async () => [] };
window.telesanteCall = hook; // read by the browser tests
const link = location.hash.slice(1);
history.replaceState(null, "", location.pathname); // the one-time token leaves the address bar
const flags = { audio: true, video: true, screen: false };
let facing = "environment"; // the rear camera first: the caller shows the scene, not their face
let stream = null;
let room = null;

function say(text) {
  $("call-status").textContent = text;
}

function refuse(text) {
  hook.state = "refused";
  $("intro").classList.add("hidden");
  say(text);
}

function ended(text) {
  room?.close();
  hook.state = "ended";
  stream?.getTracks().forEach((t) => t.stop());
  $("live").classList.add("hidden");
  say(text);
}

const camera = () => ({ facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } });

async function spend() {
  const response = await fetch("/api/regulation/video/join", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: link }),
  });
  return response.ok ? response.json() : null;
}

function onMessage(m) {
  if (m.type === "welcome") {
    say(m.peers.length ? "Le médecin voit votre caméra et vous entend." : "En attente du médecin…");
    room.send({ type: "state", ...flags });
  } else if (m.type === "joined") {
    say("Le médecin voit votre caméra et vous entend.");
    room.send({ type: "state", ...flags });
  } else if (m.type === "left") {
    say("Le médecin s'est déconnecté. Restez sur cette page, il va revenir.");
  } else if (m.type === "ended") {
    ended("Le médecin a terminé l'appel vidéo. Merci, vous pouvez fermer cette page.");
  } else if (m.type === "error") {
    say(m.detail);
  }
}

async function start() {
  $("btn-start").disabled = true;
  say("Connexion…");
  const joined = await spend().catch(() => null);
  if (!joined) {
    return refuse(
      "Ce lien n'est plus valable : il a déjà servi ou a expiré. Si le médecin le demande, il vous enverra un nouveau lien.",
    );
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: camera(), audio: true });
  } catch {
    return refuse("Caméra ou micro inaccessible : autorisez-les dans les réglages du navigateur, puis demandez un nouveau lien au médecin.");
  }
  $("intro").classList.add("hidden");
  $("live").classList.remove("hidden");
  $("local-video").srcObject = stream;
  room = new Room({
    stream,
    socket: joined.socket,
    fetchToken: null, // a guest: the link's token, then the rejoin tokens the server hands over
    hook,
    view: {
      say,
      remote: (_, remote) => ($("remote-audio").srcObject = remote),
      gone: () => {},
      message: onMessage,
      closed: ended,
    },
  });
  await room.connect(joined.token);
}

async function flip() {
  // A phone opens one camera at a time: stop this one before asking for the other.
  const old = stream.getVideoTracks()[0];
  old.stop();
  facing = facing === "environment" ? "user" : "environment";
  const track = (await navigator.mediaDevices.getUserMedia({ video: camera() })).getVideoTracks()[0];
  stream.removeTrack(old);
  stream.addTrack(track);
  await room.mesh.replaceVideo(track);
  $("local-video").srcObject = stream;
}

if (!link) refuse("Ce lien est incomplet. Demandez au médecin du SAMU de vous renvoyer un lien.");
$("btn-start").addEventListener("click", start);
$("btn-flip").addEventListener("click", () => flip().catch(() => say("Impossible de changer de caméra.")));
$("btn-mic").addEventListener("click", (e) => {
  flags.audio = !flags.audio;
  stream.getAudioTracks().forEach((t) => (t.enabled = flags.audio));
  e.currentTarget.setAttribute("aria-pressed", String(!flags.audio));
  e.currentTarget.textContent = flags.audio ? "Couper le micro" : "Réactiver le micro";
  room.send({ type: "state", ...flags });
});
$("btn-hangup").addEventListener("click", () => {
  room.leave();
  ended("Vous avez raccroché. Le médecin peut vous rappeler au téléphone.");
});
