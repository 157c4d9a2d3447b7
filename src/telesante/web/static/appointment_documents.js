// Documents sent ahead of a téléconsultation: the same checked, encrypted intake as in the call.
const section = document.getElementById("documents");
const form = document.getElementById("document-form");

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("document-input").files[0];
  const status = document.getElementById("document-status");
  if (!file) return;
  status.textContent = `Envoi de ${file.name}…`;
  const url = `/api/teleconsultations/${section.dataset.appointment}/files?filename=${encodeURIComponent(file.name)}`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": file.type || "application/octet-stream", "x-csrf-token": section.dataset.csrf },
    body: file,
    credentials: "same-origin",
  });
  if (response.ok) {
    location.reload();
  } else {
    const problem = await response.json().catch(() => ({}));
    status.textContent = `Document refusé : ${problem.detail || `erreur ${response.status}`}`;
  }
});
