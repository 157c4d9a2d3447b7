// The assisted professional's side: the rear camera by default (front/rear switch, torch when the
// phone has one), an extra video source sent as a second track (a dermatoscope, an otoscope), the
// doctor's marks over one's own image, and a full-resolution photo when the doctor asks for one.

import { Overlay } from "./ta_marks.js";
import { problem } from "./ta_record.js";

const $ = (id) => document.getElementById(id);
const camera = (facing) => ({ facingMode: { ideal: facing }, width: { ideal: 1280 }, height: { ideal: 720 } });

export async function setup(ctx) {
  const { say, hook } = ctx;
  const overlays = {
    main: new Overlay($("ta-main-overlay"), $("ta-main")),
    extra: new Overlay($("ta-extra-overlay"), $("ta-extra")),
  };
  let facing = "environment";
  let media;
  try {
    media = await navigator.mediaDevices.getUserMedia({ audio: true, video: camera(facing) });
  } catch {
    say("Caméra ou micro inaccessible : autorisez-les dans le navigateur, puis rechargez la page.");
    throw new Error("no camera");
  }
  const tracks = { main: media.getVideoTracks()[0], extra: null, audio: media.getAudioTracks()[0] };
  // The second video slot exists from the start (a source chosen later needs no renegotiation);
  // until then it sends nothing.
  const placeholder = document.createElement("canvas").captureStream(0).getVideoTracks()[0];
  const stream = new MediaStream([tracks.audio, tracks.main, placeholder]);
  $("ta-main").srcObject = new MediaStream([tracks.main]);
  hook.devices = async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput").length;
  hook.shown = (track = "main") => overlays[track].shown();
  hook.acked = 0;
  hook.photos = 0;

  const sources = () => ({
    t: "sources",
    extra: tracks.extra ? { kind: $("ta-extra-kind").value, label: tracks.extra.label } : null,
  });

  function torch() {
    const capable = Boolean(tracks.main.getCapabilities?.().torch);
    $("ta-torch").hidden = !capable;
    $("ta-torch").setAttribute("aria-pressed", "false");
    $("ta-torch").textContent = "Allumer la lampe";
  }

  async function flip() {
    // A phone opens one camera at a time: stop this one before asking for the other.
    tracks.main.stop();
    facing = facing === "environment" ? "user" : "environment";
    tracks.main = (await navigator.mediaDevices.getUserMedia({ video: camera(facing) })).getVideoTracks()[0];
    $("ta-main").srcObject = new MediaStream([tracks.main]);
    await ctx.room?.mesh.replaceVideo(tracks.main, 0);
    torch();
  }

  async function chooseExtra(deviceId) {
    tracks.extra?.stop();
    tracks.extra = deviceId
      ? (await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: deviceId } } })).getVideoTracks()[0]
      : null;
    $("ta-extra").srcObject = tracks.extra ? new MediaStream([tracks.extra]) : null;
    $("ta-extra-view").hidden = !tracks.extra;
    if (tracks.extra) $("ta-extra").play().catch(() => {}); // a hidden video's autoplay did not start it
    $("ta-extra-caption").textContent = tracks.extra ? `${$("ta-extra-kind").selectedOptions[0].text} (${tracks.extra.label})` : "";
    await ctx.room?.mesh.replaceVideo(tracks.extra, 1);
    ctx.tell(sources());
  }

  async function listDevices() {
    const current = tracks.main.getSettings().deviceId;
    const inputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    const options = inputs
      .filter((d) => d.deviceId !== current)
      .map((d, i) => new Option(d.label || `Caméra ${i + 2}`, d.deviceId));
    $("ta-extra-device").replaceChildren(new Option("Aucune", ""), ...options);
  }

  async function photo(which) {
    // The full resolution of the camera, not the video's (which the network may have scaled down).
    const track = which === "extra" && tracks.extra ? tracks.extra : tracks.main;
    const blob = await fullResolution(track, which === "extra" && tracks.extra ? $("ta-extra") : $("ta-main"));
    const source = track === tracks.extra ? $("ta-extra-kind").value : "camera";
    const response = await ctx.api(`/captures?source=${source}`, {
      method: "POST",
      headers: { "content-type": blob.type, "x-marks": "[]" },
      body: blob,
    });
    if (!response.ok) {
      const detail = await problem(response);
      say(`Photo refusée : ${detail}`);
      ctx.tell({ t: "photo-failed", detail });
      return;
    }
    const shot = await response.json();
    hook.photos += 1;
    say("Photo haute résolution envoyée au médecin et enregistrée dans le dossier.");
    await ctx.record.refresh();
    ctx.tell({ t: "photo-done", capture: shot.id });
  }

  function received(captureId) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.src = `/api/teleassistance/sessions/${ctx.id}/captures/${captureId}`;
    image.alt = "Image annotée par le médecin";
    item.append(image);
    $("ta-received").prepend(item);
    hook.received = (hook.received || 0) + 1;
    say("Le médecin vous a envoyé une image annotée.");
  }

  function data(m) {
    if (m.t === "mark") {
      overlays[m.mark.track === "extra" ? "extra" : "main"].add(m.mark);
      ctx.tell({ t: "ack", id: m.mark.id });
      hook.acked += 1;
    } else if (m.t === "clear") {
      overlays.main.clear();
      overlays.extra.clear();
    } else if (m.t === "photo") {
      say("Le médecin demande une photo haute résolution…");
      photo(m.track).catch(() => ctx.tell({ t: "photo-failed", detail: "photo impossible sur cet appareil" }));
    } else if (m.t === "still") {
      received(m.capture);
      ctx.record.refresh();
    } else if (m.t === "refresh") {
      ctx.record.refresh();
    } else if (m.t === "ended") {
      ctx.ended("Le médecin a terminé la téléassistance : le compte rendu est versé au dossier du patient.");
    }
  }

  $("ta-flip").addEventListener("click", () => flip().catch(() => say("Impossible de changer de caméra.")));
  $("ta-torch").addEventListener("click", async (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    try {
      await tracks.main.applyConstraints({ advanced: [{ torch: on }] });
      e.currentTarget.setAttribute("aria-pressed", String(on));
      e.currentTarget.textContent = on ? "Éteindre la lampe" : "Allumer la lampe";
    } catch {
      say("Lampe indisponible sur cette caméra.");
    }
  });
  $("ta-mic").addEventListener("click", (e) => {
    tracks.audio.enabled = !tracks.audio.enabled;
    e.currentTarget.setAttribute("aria-pressed", String(!tracks.audio.enabled));
    e.currentTarget.textContent = tracks.audio.enabled ? "Couper le micro" : "Réactiver le micro";
  });
  $("ta-extra-device").addEventListener("change", (e) =>
    chooseExtra(e.currentTarget.value).catch(() => say("Impossible d'ouvrir cette source vidéo.")),
  );
  $("ta-extra-kind").addEventListener("change", () => tracks.extra && chooseExtra($("ta-extra-device").value));
  torch();
  await listDevices();

  return {
    stream,
    data,
    opened: () => ctx.tell(sources()),
    joining: async (room) => {
      await room.mesh.replaceVideo(tracks.main, 0);
      await room.mesh.replaceVideo(tracks.extra, 1);
    },
    remote: (_, remote, { track }) => {
      if (track.kind === "audio") $("ta-audio").srcObject = new MediaStream([track]);
    },
    gone: () => ($("ta-audio").srcObject = null),
    stop: () => [tracks.main, tracks.extra, tracks.audio].forEach((t) => t?.stop()),
  };
}

// ImageCapture's photo where the browser has it; else the video's own frame, at the track's size.
async function fullResolution(track, video) {
  if (window.ImageCapture) {
    try {
      const blob = await new ImageCapture(track).takePhoto();
      if (["image/jpeg", "image/png"].includes(blob.type)) return blob;
    } catch {
      // some cameras refuse takePhoto while streaming: the frame below will do
    }
  }
  const { width, height } = track.getSettings();
  const canvas = document.createElement("canvas");
  canvas.width = width || video.videoWidth;
  canvas.height = height || video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
}
