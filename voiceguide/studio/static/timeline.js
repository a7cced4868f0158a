// The plan drawn as SVG: section bands with their titles, one lane of events coloured by
// kind (say, pause, hold, wait, chime, breathe; studio.css has the colours), and a time axis. Redrawn from each /api/plan answer.

import { formatTime } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const SECTION_Y = 0, SECTION_H = 22;
const LANE_Y = 28, LANE_H = 46;
const AXIS_Y = LANE_Y + LANE_H + 4;
const HEIGHT = AXIS_Y + 22;
const PAD = 6;
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

function node(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text != null) n.textContent = text;
  return n;
}

/** Which section an event belongs to: the section whose span holds its start. */
export function sectionIndexOf(plan, event) {
  const secs = plan.sections;
  for (let i = secs.length - 1; i >= 0; i--) {
    if (secs[i].start <= event.start + 1e-6) return i;
  }
  return 0;
}

export function describeEvent(event) {
  const when = `${formatTime(event.start)}–${formatTime(event.start + event.duration)}`;
  const secs = `${event.duration.toFixed(1)} s`;
  const words = event.text ? `\n“${event.text}”` : "";
  return `${event.kind} · ${when} (${secs}) · ${event.section}${words}`;
}

export class TimelineView {
  constructor(svg, { onSelect }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.plan = null;
    this.selected = null;
    this.playhead = null;
    svg.addEventListener("click", (e) => {
      const rect = e.target.closest("rect[data-index]");
      if (rect) this.onSelect(Number(rect.dataset.index));
    });
    let queued = false;
    window.addEventListener("resize", () => {
      if (queued || !this.plan) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; this.draw(this.plan); });
    });
  }

  width() {
    return Math.max(320, this.svg.parentElement.clientWidth);
  }

  draw(plan) {
    this.plan = plan;
    const svg = this.svg;
    const width = this.width();
    const total = Math.max(plan.total, 1e-6);
    const scale = (width - 2 * PAD) / total;
    const x = (t) => PAD + t * scale;
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", HEIGHT);
    svg.dataset.events = plan.events.length;
    svg.dataset.total = plan.total;

    const sections = node("g", { class: "sections" });
    plan.sections.forEach((s, i) => {
      const sx = x(s.start), sw = Math.max(1, s.duration * scale);
      sections.append(node("rect", { class: `band b${i % 2}`, x: sx, y: SECTION_Y, width: sw, height: SECTION_H, "data-section": i }));
      const clip = node("svg", { x: sx, y: SECTION_Y, width: sw, height: SECTION_H });
      clip.append(node("text", { x: 4, y: 15, class: "band-label" }, s.title));
      clip.append(node("title", {}, `${s.title} · ${formatTime(s.start)}–${formatTime(s.start + s.duration)}`));
      sections.append(clip);
    });
    svg.append(sections);

    const lane = node("g", { class: "events" });
    plan.events.forEach((e, i) => {
      const small = e.kind === "pause";
      const h = small ? LANE_H * 0.4 : LANE_H;
      const rect = node("rect", {
        class: `ev k-${e.kind}`, x: x(e.start), y: LANE_Y + (LANE_H - h) / 2,
        width: Math.max(1, e.duration * scale - (e.duration * scale > 3 ? 1 : 0)), height: h,
        "data-index": i, "data-kind": e.kind, "data-line": e.line == null ? "" : e.line,
      });
      rect.append(node("title", {}, describeEvent(e)));
      lane.append(rect);
    });
    svg.append(lane);
    this.drawAxis(total, scale, x, width);
    this.highlight();
    if (this.playhead != null) this.setPlayhead(this.playhead);
  }

  drawAxis(total, scale, x, width) {
    const axis = node("g", { class: "axis" });
    axis.append(node("line", { x1: PAD, x2: width - PAD, y1: AXIS_Y, y2: AXIS_Y }));
    const step = TICK_STEPS.find((s) => s * scale >= 70) || 3600;
    for (let t = 0; t <= total + 1e-6; t += step) {
      axis.append(node("line", { x1: x(t), x2: x(t), y1: AXIS_Y, y2: AXIS_Y + 4 }));
      axis.append(node("text", { x: x(t), y: AXIS_Y + 16, "text-anchor": t === 0 ? "start" : "middle" }, formatTime(t)));
    }
    this.svg.append(axis);
  }

  select(index) {
    this.selected = index;
    this.highlight();
  }

  highlight() {
    for (const r of this.svg.querySelectorAll("rect.ev.selected")) r.classList.remove("selected");
    if (this.selected == null) return;
    const r = this.svg.querySelector(`rect[data-index="${this.selected}"]`);
    if (r) r.classList.add("selected");
  }

  /** A line at `seconds` (plan time) while a preview plays; null removes it. */
  setPlayhead(seconds) {
    this.playhead = seconds;
    let line = this.svg.querySelector("#playhead");
    if (seconds == null || !this.plan) { if (line) line.remove(); return; }
    const scale = (this.width() - 2 * PAD) / Math.max(this.plan.total, 1e-6);
    const px = PAD + Math.min(seconds, this.plan.total) * scale;
    if (!line) {
      line = node("line", { id: "playhead", y1: SECTION_Y, y2: AXIS_Y });
      this.svg.append(line);
    }
    line.setAttribute("x1", px);
    line.setAttribute("x2", px);
  }

  setStale(stale) {
    this.svg.classList.toggle("stale", stale);
    this.svg.dataset.state = stale ? "stale" : "ok";
  }
}
