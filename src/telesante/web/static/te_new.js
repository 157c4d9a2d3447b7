// A new téléexpertise request: photos taken with the camera (canvas → JPEG) join the chosen
// files, and everything goes to the JSON API as one multipart form; then to the request page.
const form = document.getElementById("te-new-form");
const video = document.getElementById("camera");
const canvas = document.getElementById("snapshot");
const captured = document.getElementById("captured");
const status = document.getElementById("te-new-status");
const photos = [];

async function startCamera() {
  if (video.srcObject) return;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: false });
  video.hidden = false;
  await video.play();
  // Wait for a real frame: the first ones can be empty while the camera warms up.
  while (video.videoWidth === 0) await new Promise((resolve) => requestAnimationFrame(resolve));
}

async function takePhoto() {
  await startCamera();
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  const name = `photo-${photos.length + 1}.jpg`;
  photos.push(new File([blob], name, { type: "image/jpeg" }));
  const item = document.createElement("li");
  const thumbnail = document.createElement("img");
  thumbnail.src = URL.createObjectURL(blob);
  thumbnail.alt = name;
  thumbnail.width = 160;
  item.append(thumbnail, ` ${name}`);
  item.className = "captured-photo";
  captured.append(item);
}

document.getElementById("take-photo").addEventListener("click", async () => {
  try {
    await takePhoto();
    status.textContent = `${photos.length} photo(s) prise(s).`;
  } catch (error) {
    status.textContent = `Caméra indisponible : ${error.message}`;
  }
});

function requestBody() {
  const data = new FormData(form);
  const body = {
    patient_id: form.dataset.patient,
    question: data.get("question"),
    urgency: data.get("urgency") || "normal",
    expert_ids: data.getAll("expert_ids"),
  };
  const pool = data.get("pool");
  if (pool) {
    const [organisation_id, ...specialty] = pool.split("|");
    body.pool = { organisation_id, specialty: specialty.join("|") };
  }
  return body;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const upload = new FormData();
  upload.append("request", JSON.stringify(requestBody()));
  for (const file of document.getElementById("files").files) upload.append("files", file, file.name);
  for (const photo of photos) upload.append("files", photo, photo.name);
  document.getElementById("send-request").disabled = true;
  status.textContent = "Envoi de la demande…";
  const response = await fetch("/api/expert-requests", {
    method: "POST",
    headers: { "x-csrf-token": form.dataset.csrf },
    body: upload,
    credentials: "same-origin",
  });
  if (response.ok) {
    const created = await response.json();
    video.srcObject?.getTracks().forEach((track) => track.stop());
    location.assign(`/teleexpertise/${created.id}`);
    return;
  }
  const problem = await response.json().catch(() => ({}));
  status.textContent = `Demande refusée : ${problem.detail || `erreur ${response.status}`}`;
  document.getElementById("send-request").disabled = false;
});
