// Device check: camera and microphone through getUserMedia, network by timing a few round trips.
const show = (id, text) => { document.getElementById(id).textContent = text; };

async function checkMedia() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    document.getElementById("preview").srcObject = stream;
    show("camera", stream.getVideoTracks().length ? "OK" : "aucune caméra");
    show("microphone", stream.getAudioTracks().length ? "OK" : "aucun micro");
  } catch (error) {
    show("camera", `refusée ou absente (${error.name})`);
    show("microphone", "non vérifié");
  }
}

async function checkNetwork() {
  const times = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    await fetch("/healthz", { cache: "no-store" });
    times.push(performance.now() - started);
  }
  const median = times.sort((a, b) => a - b)[2];
  show("network", median < 150 ? `bonne (${Math.round(median)} ms)` : `lente (${Math.round(median)} ms)`);
}

async function run() { await checkMedia(); await checkNetwork(); }
document.getElementById("retry").addEventListener("click", run);
run();
