// The waiting clocks of the room: every `time.reg-clock[data-since]` counts the seconds since the
// call came in, by the server's clock (the nearest `[data-now]` says what time the server had
// when it drew the region), and its row turns overdue once `data-limit` seconds have passed.
const drawn = new WeakMap(); // region → [server time, page time] when it was drawn

function serverNow(clock) {
  const region = clock.closest("[data-now]");
  if (!region) return Date.now();
  if (!drawn.has(region)) drawn.set(region, [Date.parse(region.dataset.now), Date.now()]);
  const [server, local] = drawn.get(region);
  return server + (Date.now() - local);
}

export function spoken(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  if (hours) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  return `${minutes} min ${rest} s`;
}

function tick() {
  for (const clock of document.querySelectorAll("time.reg-clock[data-since]")) {
    const seconds = (serverNow(clock) - Date.parse(clock.dataset.since)) / 1000;
    clock.textContent = spoken(seconds);
    clock.dataset.seconds = String(Math.floor(seconds));
    const limit = Number(clock.dataset.limit || 0);
    if (limit && seconds > limit) clock.closest(".reg-row")?.classList.add("reg-overdue");
  }
}

export function startClocks() {
  tick();
  setInterval(tick, 1000);
  return tick;
}
