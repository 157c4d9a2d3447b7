// A téléassistance session's page, for both participants: while the doctor is rung, the call's
// state as it changes (live events on /ws); then the call itself, through the shared call layer
// (call/room.js) with two video slots (the camera and an extra source) and one data channel for
// the marks (ADR 0014). What each role shows and does is ta_assisted.js or ta_doctor.js.

import { LABELS } from "./call/quality.js";
import { Room } from "./call/room.js";
import { SessionRecord } from "./ta_record.js";

const $ = (id) => document.getElementById(id);
const root = $("ta-session");
const { session: id, role, csrf, socket } = root.dataset;
const hook = { state: "idle", peers: async () => [], channel: "closed" };
let side = null; // what the role's module (ta_assisted.js, ta_doctor.js) gives: its stream and handlers
window.telesanteCall = hook; // read by the browser tests and the benchmark
const STATES = {
  taken: "Un confrère a déjà accepté cet appel.",
  cancelled: "Le professionnel a annulé l'appel.",
  missed: "Appel sans réponse : aucun médecin n'a accepté à temps.",
};

function say(text) {
  $("ta-status").textContent = text;
}

function api(path = "", options = {}) {
  const headers = { "x-csrf-token": csrf, ...(options.headers || {}) };
  return fetch(`/api/teleassistance/sessions/${id}${path}`, { credentials: "same-origin", ...options, headers });
}

// The data channel of the call (one peer: the other participant); replaced after a reconnection.
const link = {
  channel: null,
  handle: () => {},
  attach(channel) {
    this.channel = channel;
    channel.onopen = () => {
      hook.channel = "open";
      this.opened?.();
    };
    channel.onclose = () => channel === this.channel && (hook.channel = "closed");
    channel.onmessage = (e) => this.handle(JSON.parse(e.data));
  },
  send(message) {
    if (this.channel?.readyState !== "open") return false;
    this.channel.send(JSON.stringify(message));
    return true;
  },
};

const ctx = { id, role, api, say, hook, tell: (message) => link.send(message) };
const record = role === "rung" ? null : new SessionRecord(ctx);
ctx.record = record;

async function token() {
  const response = await api("/join", { method: "POST" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    say(body.detail || "Impossible de rejoindre l'appel.");
    return null;
  }
  return (await response.json()).token;
}

async function join() {
  const room = new Room({
    stream: side.stream,
    socket,
    fetchToken: token,
    hook,
    videoSlots: 2,
    dataChannel: "marks",
    view: {
      say,
      remote: side.remote,
      gone: side.gone,
      channel: (_, channel) => link.attach(channel),
      quality: (worst) => {
        $("quality").className = `quality quality-${worst}`;
        $("quality").textContent = `Qualité du réseau : ${LABELS[worst]}`;
      },
      message: onSignal,
      closed: ended,
    },
  });
  ctx.room = room;
  await side.joining?.(room);
  await room.connect(null); // the token is fetched by the room, and again after a drop
}

function onSignal(m) {
  const peer = m.type === "welcome" ? m.peers[0] : m.type === "joined" ? m.peer : null;
  if (peer && role === "assisted") $("ta-doctor-name").textContent = peer.name; // accepted after the page loaded
  if (m.type === "welcome") say(m.peers.length ? "En ligne avec l'autre participant." : "En attente de l'autre participant…");
  else if (m.type === "joined") say(`${m.peer.name} a rejoint l'appel.`);
  else if (m.type === "left") say(`${m.peer?.name || "L'autre participant"} a quitté l'appel.`);
  else if (m.type === "ended") ended("La téléassistance est terminée.");
  else if (m.type === "error") say(m.detail);
}

let over = false;
async function ended(reason) {
  if (over) return;
  over = true;
  ctx.room?.close();
  hook.state = "ended";
  side?.stop?.();
  $("ta-stage")?.classList.add("ta-over");
  root.classList.add("ta-ended");
  say(reason);
  await record?.refresh();
}
ctx.ended = ended;

async function live() {
  const module = await import(role === "doctor" ? "./ta_doctor.js" : "./ta_assisted.js");
  side = await module.setup(ctx);
  link.handle = side.data;
  link.opened = side.opened;
}

// Until the doctor accepts: the assisted professional prepares the cameras and waits.
async function waiting() {
  await live();
  say("Appel en cours : en attente qu'un médecin accepte…");
  const check = async () => {
    const s = await record.refresh();
    if (s?.status === "active" && hook.state === "idle") {
      hook.state = "joining";
      $("ta-cancel-form")?.remove();
      await join();
    } else if (s && ["cancelled", "missed"].includes(s.status)) {
      ended(s.status === "missed" ? STATES.missed : "Appel annulé.");
    }
  };
  document.addEventListener("telesante:assistance_call", (e) => e.detail.session_id === id && check());
  document.addEventListener("telesante:ready", check); // an answer may have come before the socket
  await check();
}

// A doctor being rung: the call may be taken by a colleague, cancelled or missed meanwhile.
function ringing() {
  document.addEventListener("telesante:assistance_call", (e) => {
    if (e.detail.session_id !== id || !STATES[e.detail.state]) return;
    $("ta-accept-form")?.remove();
    say(STATES[e.detail.state]);
  });
}

const status = root.dataset.status;
if (role === "rung") ringing();
else if (status === "calling" && role === "assisted") await waiting();
else if (status === "active") {
  await record.refresh();
  hook.state = "joining";
  await live();
  await join();
} else await record.refresh();
