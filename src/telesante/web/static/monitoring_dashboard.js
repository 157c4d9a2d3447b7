// The operator's dashboard stays current: when a télésurveillance event arrives over the
// WebSocket (live.js turns it into a `telesante:<type>` DOM event), the list is fetched again and
// swapped in place. A comment being typed survives the swap.
const root = document.getElementById("monitoring-dashboard");
const MEASUREMENT_PAUSE = 5000; // measurements stream in: refresh for them at most every 5 s
let pending = null;
let pendingDue = 0;
let lastMeasurementRefresh = 0;

async function refresh() {
  const response = await fetch(root.dataset.fragment, {
    credentials: "same-origin",
    headers: { "HX-Request": "true" },
  });
  if (!response.ok) return;
  const html = await response.text();
  const drafts = new Map();
  root.querySelectorAll("textarea").forEach((area) => {
    if (area.value) drafts.set(area.id, area.value);
  });
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : "";
  root.innerHTML = html;
  drafts.forEach((value, id) => {
    const area = document.getElementById(id);
    if (area) area.value = value;
  });
  if (focused) document.getElementById(focused)?.focus();
  root.dataset.refreshedAt = String(Date.now());
}

function soon(delay) {
  const due = Date.now() + delay;
  if (pending && pendingDue <= due) return; // a refresh is already coming soon enough
  clearTimeout(pending);
  pendingDue = due;
  pending = setTimeout(() => {
    pending = null;
    refresh();
  }, delay);
}

if (root) {
  document.addEventListener("telesante:ready", () => {
    if (root.dataset.live === "connected") soon(50); // a reconnection: events may have been missed
    root.dataset.live = "connected";
  });
  document.addEventListener("telesante:monitoring_alert", () => soon(50));
  document.addEventListener("telesante:monitoring_measurement", () => {
    const now = Date.now();
    if (now - lastMeasurementRefresh < MEASUREMENT_PAUSE) return;
    lastMeasurementRefresh = now;
    soon(500);
  });
}
