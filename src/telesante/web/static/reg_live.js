// A region of a room page kept current: when one of the room's live events arrives over the
// WebSocket (live.js turns it into a `telesante:<type>` DOM event), the region's fragment is
// fetched again and swapped in place. Bursts of events make one fetch; a late answer never
// overwrites a newer one; text being typed in the region survives the swap.
export function liveRegion(root, types, wanted, swapped) {
  let pending = null;
  let asked = 0;

  async function refresh() {
    const ticket = ++asked;
    const response = await fetch(root.dataset.fragment, {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    });
    if (!response.ok || ticket !== asked) return;
    const html = await response.text();
    if (ticket !== asked) return;
    const drafts = new Map();
    root.querySelectorAll("textarea, input").forEach((field) => {
      if (field.id && field.value) drafts.set(field.id, field.value);
    });
    root.innerHTML = html;
    drafts.forEach((value, id) => {
      const field = document.getElementById(id);
      if (field) field.value = value;
    });
    root.dataset.refreshedAt = String(Date.now());
    swapped?.();
  }

  function soon() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      refresh();
    }, 80);
  }

  document.addEventListener("telesante:ready", () => {
    if (root.dataset.live === "connected") soon(); // a reconnection: events may have been missed
    root.dataset.live = "connected";
  });
  for (const type of types) {
    document.addEventListener(`telesante:${type}`, (event) => {
      if (wanted(event.detail)) soon();
    });
  }
}
