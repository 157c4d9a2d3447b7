// Marks on a video (téléassistance): where they go, and how they are drawn.
//
// A mark's points are normalised to the picture itself (0–1, origin top left): not to the <video>
// element, whose box has bars around the picture (object-fit: contain) that differ from screen to
// screen. So a point lands on the same pixel of the image on a portrait phone and a landscape desktop.

export const FADE_AFTER = 4000; // ms a mark stays fully visible, unless pinned
export const FADE_FOR = 1000;
export const TYPES = ["pointer", "arrow", "circle", "line", "text"];
const MAX_POINTS = 64; // a free line is thinned to this many points: the stored marks travel in one header

// The picture's size: a video's frames, an image's, or a canvas's.
export function intrinsic(media) {
  if (media.videoWidth) return [media.videoWidth, media.videoHeight];
  if (media.naturalWidth) return [media.naturalWidth, media.naturalHeight];
  return media instanceof HTMLCanvasElement ? [media.width, media.height] : [0, 0];
}

// Where the picture is drawn inside the element's box (CSS pixels, relative to the box), as
// object-fit: contain centres it; null before the first frame.
export function contentRect(media) {
  const [width, height] = intrinsic(media);
  const boxWidth = media.clientWidth;
  const boxHeight = media.clientHeight;
  if (!width || !height || !boxWidth || !boxHeight) return null;
  const scale = Math.min(boxWidth / width, boxHeight / height);
  return { x: (boxWidth - width * scale) / 2, y: (boxHeight - height * scale) / 2, width: width * scale, height: height * scale };
}

const clamp = (v) => Math.min(1, Math.max(0, v));

export function normalise(rect, x, y) {
  return [clamp((x - rect.x) / rect.width), clamp((y - rect.y) / rect.height)];
}

export function place(rect, [nx, ny]) {
  return [rect.x + nx * rect.width, rect.y + ny * rect.height];
}

// What the API keeps of a mark (schemas.Mark): no id, no track, points rounded.
export function stored(mark) {
  const out = { type: mark.type, points: thin(mark.points).map(([x, y]) => [round(x), round(y)]), color: mark.color };
  if (mark.type === "text") out.text = mark.text;
  return out;
}

const round = (v) => Math.round(v * 10000) / 10000;

function thin(points) {
  if (points.length <= MAX_POINTS) return points;
  const step = (points.length - 1) / (MAX_POINTS - 1);
  return Array.from({ length: MAX_POINTS }, (_, i) => points[Math.round(i * step)]);
}

// JSON for an HTTP header: non-ASCII (an accent in a label) escaped, as headers carry bytes.
export function headerJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function opacity(mark, now) {
  if (mark.pinned) return 1;
  const age = now - mark.shownAt;
  return age < FADE_AFTER ? 1 : Math.max(0, 1 - (age - FADE_AFTER) / FADE_FOR);
}

// Draw one mark in `rect` (the picture's rectangle on this canvas, in canvas pixels).
export function drawMark(ctx, rect, mark, alpha = 1) {
  const size = Math.max(2, rect.width / 220); // strokes scale with the picture, so a burnt-in still looks alike
  const points = mark.points.map((p) => place(rect, p));
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = ctx.fillStyle = mark.color;
  ctx.lineWidth = size;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.shadowColor = "rgba(0, 0, 0, .6)";
  ctx.shadowBlur = size;
  const [x, y] = points[0];
  const [x2, y2] = points[1] || points[0];
  ctx.beginPath();
  if (mark.type === "pointer") {
    ctx.arc(x, y, size * 3, 0, 2 * Math.PI);
    ctx.fill();
    ctx.beginPath();
    ctx.arc(x, y, size * 7, 0, 2 * Math.PI);
    ctx.stroke();
  } else if (mark.type === "circle") {
    ctx.arc(x, y, Math.max(size * 2, Math.hypot(x2 - x, y2 - y)), 0, 2 * Math.PI);
    ctx.stroke();
  } else if (mark.type === "arrow") {
    const angle = Math.atan2(y2 - y, x2 - x);
    const head = size * 6;
    ctx.moveTo(x, y);
    ctx.lineTo(x2, y2);
    ctx.moveTo(x2 - head * Math.cos(angle - 0.5), y2 - head * Math.sin(angle - 0.5));
    ctx.lineTo(x2, y2);
    ctx.lineTo(x2 - head * Math.cos(angle + 0.5), y2 - head * Math.sin(angle + 0.5));
    ctx.stroke();
  } else if (mark.type === "line") {
    points.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
    ctx.stroke();
  } else if (mark.type === "text") {
    label(ctx, x, y, mark.text || "", size);
  }
  ctx.restore();
}

function label(ctx, x, y, text, size) {
  ctx.font = `600 ${Math.round(size * 8)}px sans-serif`;
  const width = ctx.measureText(text).width;
  const pad = size * 2;
  ctx.shadowBlur = 0;
  ctx.fillStyle = "rgba(0, 0, 0, .65)";
  ctx.fillRect(x - pad, y - size * 8 - pad, width + 2 * pad, size * 8 + 2 * pad);
  ctx.fillStyle = ctx.strokeStyle;
  ctx.textBaseline = "bottom";
  ctx.fillText(text, x, y);
}

// A canvas laid over a video (or a still), the same box: it redraws its marks on every frame,
// so they follow the picture when the window is resized or the phone turned.
export class Overlay {
  constructor(canvas, media) {
    this.canvas = canvas;
    this.media = media;
    this.marks = new Map(); // id -> mark (with shownAt, the local time it appeared)
    this.draft = null; // the mark being drawn, not yet sent
    this.frame = null;
  }

  add(mark) {
    this.marks.set(mark.id, { ...mark, shownAt: performance.now() });
    this.wake();
  }

  clear() {
    this.marks.clear();
    this.draft = null;
    this.wake();
  }

  setDraft(mark) {
    this.draft = mark;
    this.wake();
  }

  wake() {
    this.frame ??= requestAnimationFrame(() => this.draw());
  }

  rect() {
    return contentRect(this.media);
  }

  draw() {
    this.frame = null;
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    const rect = this.rect();
    const now = performance.now();
    if (rect) {
      const scaled = { x: rect.x * ratio, y: rect.y * ratio, width: rect.width * ratio, height: rect.height * ratio };
      for (const [id, mark] of this.marks) {
        const alpha = opacity(mark, now);
        if (alpha <= 0) this.marks.delete(id);
        else drawMark(ctx, scaled, mark, alpha);
      }
      if (this.draft) drawMark(ctx, scaled, this.draft, 0.8);
    }
    if (this.marks.size || this.draft) this.wake(); // fading, or the box may change: keep drawing
  }

  // Where each mark is drawn now, in CSS pixels of the element's box: read by the browser tests.
  shown() {
    const rect = this.rect();
    return [...this.marks.values()].map((m) => ({
      id: m.id,
      type: m.type,
      track: m.track,
      points: m.points,
      pixels: rect ? m.points.map((p) => place(rect, p)) : [],
    }));
  }
}

// The still with its marks burnt in, at the picture's own resolution.
export function burn(source, marks) {
  const [width, height] = intrinsic(source);
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext("2d");
  ctx.drawImage(source, 0, 0, width, height);
  for (const mark of marks) drawMark(ctx, { x: 0, y: 0, width, height }, mark);
  return canvas;
}
