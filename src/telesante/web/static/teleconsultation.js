// Waiting room life: the patient moves to the call when admitted; the professional's list refreshes.
const appointment = document.getElementById("appointment");
const room = document.getElementById("waiting-room");

document.addEventListener("telesante:admitted", (event) => {
  if (appointment && event.detail.appointment_id === appointment.dataset.appointment) {
    location.href = `/teleconsultations/${appointment.dataset.appointment}/appel`;
  }
});

document.addEventListener("telesante:patient_waiting", () => {
  if (room) location.reload();
});
