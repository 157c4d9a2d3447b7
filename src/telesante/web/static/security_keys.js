// Register a security key or passkey as a second factor (the /security/keys page).
import { call, creationOptions, registrationJSON } from "./webauthn_codec.js";

const form = document.getElementById("webauthn-register");
const status = document.getElementById("webauthn-status");

function say(message, isError) {
  status.textContent = message;
  status.className = isError ? "error" : "ok";
  status.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const csrf = form.dataset.csrf;
    const options = await call("/api/webauthn/register/options", csrf);
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const label = form.elements.label.value;
    await call("/api/webauthn/credentials", csrf, { credential: registrationJSON(credential), label });
    say("Clé enregistrée.", false);
    window.location.reload();
  } catch (exc) {
    say(exc.name === "NotAllowedError" ? "Opération annulée ou délai dépassé." : `Échec : ${exc.message}`, true);
    button.disabled = false;
  }
});
