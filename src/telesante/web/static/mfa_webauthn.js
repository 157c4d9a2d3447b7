// Second factor at login with a security key or passkey (the /mfa page).
import { assertionJSON, call, requestOptions } from "./webauthn_codec.js";

const box = document.getElementById("webauthn-login");
const button = document.getElementById("webauthn-start");
const error = document.getElementById("webauthn-error");

function fail(message) {
  error.textContent = message;
  error.hidden = false;
  button.disabled = false;
}

button.addEventListener("click", async () => {
  button.disabled = true;
  error.hidden = true;
  try {
    const csrf = box.dataset.csrf;
    const options = await call("/api/webauthn/login/options", csrf);
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    const done = await call("/api/webauthn/login", csrf, { credential: assertionJSON(credential) });
    window.location.assign(done.redirect || "/");
  } catch (exc) {
    fail(exc.name === "NotAllowedError" ? "Opération annulée ou délai dépassé." : `Échec : ${exc.message}`);
  }
});
