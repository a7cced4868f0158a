// Hear before you render: previews are WAV answers from /api/preview, played one after
// another through one <audio> element fed blob URLs. The next clip is fetched while the
// current one plays; Stop aborts both.

import { apiRaw } from "./api.js";

export class PreviewPlayer {
  constructor(audio, label, { onTime, onState }) {
    this.audio = audio;
    this.label = label;
    this.onTime = onTime || (() => {});
    this.onState = onState || (() => {});
    this.run = null;
    this.url = null;
    this.offset = 0;
    audio.addEventListener("timeupdate", () => {
      if (this.run) this.onTime(this.offset + audio.currentTime);
    });
  }

  /** Play `items` ([{label, body}]) in turn; resolves when all ended or on stop. */
  async play(items) {
    this.stop();
    const run = { abort: new AbortController(), wake: null };
    this.run = run;
    this.onState(true);
    const fetchClip = (item) => {
      const p = apiRaw("POST", "/api/preview", item.body, run.abort.signal).then(async (res) => ({
        start: parseFloat(res.headers.get("X-Voiceguide-Start")) || 0,
        duration: parseFloat(res.headers.get("X-Voiceguide-Duration")) || null,
        blob: await res.blob(),
      }));
      p.catch(() => {});   // awaited below; this only keeps an early failure from being "unhandled"
      return p;
    };
    try {
      let next = fetchClip(items[0]);
      for (let i = 0; i < items.length; i++) {
        const count = items.length > 1 ? ` (${i + 1} of ${items.length})` : "";
        this.say(`Preparing ${items[i].label}${count}…`);
        const clip = await next;
        if (this.run !== run) return;
        if (i + 1 < items.length) next = fetchClip(items[i + 1]);
        this.say(`Playing ${items[i].label}${count}`, items[i].label);
        await this.playClip(clip, run);
        if (this.run !== run) return;
      }
      this.finish(run, "");
    } catch (err) {
      this.finish(run, "");
      throw err;
    }
  }

  playClip(clip, run) {
    return new Promise((resolve, reject) => {
      this.release();
      this.url = URL.createObjectURL(clip.blob);
      this.offset = clip.start;
      const audio = this.audio;
      const done = () => { audio.removeEventListener("ended", done); audio.removeEventListener("error", failed); resolve(); };
      const failed = () => { done(); reject(new Error("the browser could not play the preview audio")); };
      run.wake = done;
      audio.addEventListener("ended", done);
      audio.addEventListener("error", failed);
      audio.src = this.url;
      audio.currentTime = 0;
      audio.play().catch((err) => { if (this.run === run && err.name !== "AbortError") { done(); reject(err); } });
    });
  }

  say(text, current = "") {
    this.label.textContent = text;
    this.label.dataset.current = current;
  }

  finish(run, text) {
    if (this.run !== run) return;
    this.run = null;
    this.say(text);
    this.onTime(null);
    this.onState(false);
  }

  release() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  stop() {
    const run = this.run;
    if (!run) return;
    run.abort.abort();
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.audio.load();
    this.release();
    this.finish(run, "Stopped.");
    if (run.wake) run.wake();
  }
}
