// The finished render: one <audio controls> with its chapters (click to seek) and its
// transcript (the cue being spoken is highlighted), plus the list of past renders.

import { get, el, formatTime, showError } from "./api.js";

let panel = null;

function downloadUrl(url) {
  return url + (url.includes("?") ? "&" : "?") + "download=1";
}

function ensurePanel() {
  if (panel) return panel;
  const tpl = document.getElementById("player-template");
  panel = tpl.content.firstElementChild.cloneNode(true);
  const audio = panel.querySelector("#player");
  audio.addEventListener("timeupdate", () => markPlaying(audio.currentTime));
  audio.addEventListener("seeked", () => markPlaying(audio.currentTime));
  return panel;
}

function markPlaying(t) {
  const cues = panel.querySelector("#cues");
  // The cue last begun stays lit through the pause or hold after it, until the next one.
  let active = null;
  for (const cue of cues.children) {
    if (Number(cue.dataset.start) <= t) active = cue;
    else break;
  }
  for (const cue of cues.querySelectorAll(".cue.active")) if (cue !== active) cue.classList.remove("active");
  if (active) active.classList.add("active");
  if (active && panel.dataset.follow !== active.dataset.start) {
    panel.dataset.follow = active.dataset.start;
    const top = active.offsetTop;   // .cues is position: relative, the cues' offsetParent
    if (top < cues.scrollTop || top + active.offsetHeight > cues.scrollTop + cues.clientHeight) {
      cues.scrollTop = Math.max(0, top - cues.clientHeight / 3);
    }
  }
  for (const li of panel.querySelectorAll("#chapters li")) {
    li.classList.toggle("active", t >= Number(li.dataset.start) && t < Number(li.dataset.end));
  }
}

/** Show `render` ({file, url, transcript_url?, transcript?, duration, chapters, cues}) in `slot`. */
export function showPlayer(slot, render) {
  const p = ensurePanel();
  slot.append(p);
  const audio = p.querySelector("#player");
  audio.pause();
  audio.src = render.url;
  p.dataset.file = render.file;
  const length = render.duration ? ` · ${formatTime(render.duration)}` : "";
  p.querySelector("#player-title").textContent = `${render.file}${length}`;
  p.querySelector("#download-audio").href = downloadUrl(render.url);
  p.querySelector("#download-audio").setAttribute("download", render.file);
  const transcript = render.transcript_url || (render.transcript ? `/files/${encodeURIComponent(render.transcript)}` : null);
  const tlink = p.querySelector("#download-transcript");
  tlink.hidden = !transcript;
  if (transcript) tlink.href = downloadUrl(transcript);

  const seek = (start) => { audio.currentTime = start; audio.play().catch(() => {}); };
  const chapters = p.querySelector("#chapters");
  chapters.replaceChildren(...(render.chapters || []).map((c) => el("li", {
    dataset: { start: c.start, end: c.end }, tabindex: 0, onclick: () => seek(c.start),
    onkeydown: (e) => { if (e.key === "Enter") seek(c.start); },
  }, el("span", { class: "time", text: formatTime(c.start) }), " ", c.title)));
  const cues = p.querySelector("#cues");
  cues.replaceChildren(...(render.cues || []).map((c) => el("p", {
    class: "cue", dataset: { start: c.start, end: c.end }, onclick: () => seek(c.start),
  }, c.text)));
  cues.scrollTop = 0;
  delete p.dataset.follow;
  p.hidden = false;
  return audio;
}

function sizeText(bytes) {
  if (bytes == null) return "";
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** Fill each list in `lists` ([{list, slot}]) with GET /api/renders; Play opens it in `slot`. */
export async function loadRenders(lists) {
  let renders;
  try {
    renders = await get("/api/renders");
  } catch (err) {
    showError(err);
    return;
  }
  for (const { list, slot } of lists) {
    if (!renders.length) {
      list.replaceChildren(el("li", { class: "muted", text: "No renders in this folder yet." }));
      continue;
    }
    list.replaceChildren(...renders.map((r) => el("li", { dataset: { file: r.file } },
      el("span", { class: "render-name", text: r.file }),
      el("span", { class: "muted", text: [formatTime(r.duration), sizeText(r.size),
        new Date(r.modified * 1000).toLocaleString()].filter(Boolean).join(" · ") }),
      el("span", { class: "render-actions" },
        el("button", { type: "button", class: "link play-render", text: "Play", onclick: () => openRender(r, slot) }),
        el("a", { href: downloadUrl(r.url), download: r.file, text: "Download" })),
    )));
  }
}

async function openRender(listed, slot) {
  try {
    const render = await get(`/api/renders/${encodeURIComponent(listed.file)}`);
    render.transcript = render.transcript || listed.transcript;
    render.url = render.url || listed.url;
    const audio = showPlayer(slot, render);
    audio.play().catch(() => {});
  } catch (err) {
    showError(err);
  }
}
