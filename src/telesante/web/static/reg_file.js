// A regulation file: its follow-up (state, missions and their statuses, bilans, decisions, notes)
// is fetched again when the room says this file changed; the decision form shows the fields of the
// chosen kind only.
import { startClocks } from "/static/reg_clock.js";
import { liveRegion } from "/static/reg_live.js";

const root = document.getElementById("reg-file-live");
if (root) {
  const tick = startClocks();
  liveRegion(root, ["regulation_room"], (event) => event.file_id === root.dataset.file, tick);
  // After a form answered with the page itself (the crew's link, a refusal), a reload must not
  // post the form again.
  if (location.pathname !== root.dataset.canonical) history.replaceState(null, "", root.dataset.canonical);
}

const kind = document.getElementById("decision-kind");
function showKindFields() {
  for (const part of document.querySelectorAll("#decision-form .reg-kind")) {
    part.hidden = !part.dataset.kinds.split(" ").includes(kind.value);
  }
}
if (kind) {
  kind.addEventListener("change", showKindFields);
  showKindFields();
}
