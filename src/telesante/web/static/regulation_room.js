// The room's queue, calls and map stay current without reloading, and the waiting clocks count.
import { startClocks } from "/static/reg_clock.js";
import { liveRegion } from "/static/reg_live.js";

const root = document.getElementById("reg-room");
if (root) {
  const tick = startClocks();
  liveRegion(root, ["regulation_room", "regulation_call"], () => true, tick);
}
