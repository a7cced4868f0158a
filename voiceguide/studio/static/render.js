// Render jobs: POST /api/render, then progress from the job's server-sent events until its
// one final event. The EventSource is closed at the end (and never left to reconnect), so
// an idle page holds no connection and runs no timer.

import { api, get, post, formatTime, showError, showStatus } from "./api.js";

export class RenderJob {
  constructor({ button, cancel, progress, onDone }) {
    this.button = button;
    this.cancelButton = cancel;
    this.progress = progress;
    this.fill = progress.querySelector(".fill");
    this.text = progress.querySelector(".progress-text");
    this.onDone = onDone;
    this.job = null;
    this.source = null;
    cancel.addEventListener("click", () => this.cancel());
  }

  get running() { return this.job != null; }

  async start(body) {
    if (this.running) return;
    this.button.disabled = true;
    this.show(0, "queued", null, "Starting…");
    try {
      const { job } = await post("/api/render", body);
      this.job = job;
      this.cancelButton.hidden = false;
      this.listen(job);
    } catch (err) {
      this.end();
      this.progress.hidden = true;
      showError(err);
    }
  }

  listen(job) {
    const source = new EventSource(`/api/jobs/${encodeURIComponent(job)}/events`);
    this.source = source;
    const progress = (e) => {
      const d = JSON.parse(e.data || "{}");
      if (d.state === "queued") this.show(d.percent || 0, "queued", null, "Waiting for another render to finish…");
      else if (d.percent != null) this.show(d.percent, d.phase, d.eta);
    };
    source.addEventListener("message", progress);   // the current state, if sent unnamed
    source.addEventListener("progress", progress);
    source.addEventListener("done", (e) => {
      const d = JSON.parse(e.data);
      this.show(100, "done", null, `Done: ${d.file}${d.duration ? " · " + formatTime(d.duration) : ""}`);
      this.end();
      this.onDone(d);
    });
    source.addEventListener("failed", (e) => {
      let message = "the render failed";
      try { message = JSON.parse(e.data).error || message; } catch { /* keep the default */ }
      this.fail(`Render failed: ${message}`);
    });
    source.addEventListener("cancelled", () => {
      this.show(Number(this.progress.getAttribute("aria-valuenow")), "cancelled", null, "Cancelled.");
      this.end();
    });
    source.onerror = () => {
      if (this.source !== source) return;
      // The stream broke before its final event: ask once what became of the job.
      this.closeSource();
      get(`/api/jobs/${encodeURIComponent(job)}`).then((state) => {
        if (state.state === "done") this.fail("The render finished; see Past renders.", false);
        else if (state.state === "running" || state.state === "queued") this.listen(job);
        else this.fail(state.error ? `Render ${state.state}: ${state.error}` : `Render ${state.state}.`);
      }, (err) => this.fail(err.message));
    };
  }

  show(percent, phase, eta, text) {
    const pct = Math.max(0, Math.min(100, Math.round(percent)));
    this.progress.hidden = false;
    this.progress.setAttribute("aria-valuenow", pct);
    this.progress.dataset.phase = phase || "";
    this.fill.style.width = `${pct}%`;
    const left = eta != null && eta > 0 ? ` · about ${formatTime(eta)} left` : "";
    this.text.textContent = text || `${phase || "working"} · ${pct} %${left}`;
  }

  fail(message, isError = true) {
    this.end();
    this.progress.dataset.phase = isError ? "failed" : "done";
    this.text.textContent = message;
    if (isError) showStatus(message, "error");
  }

  closeSource() {
    if (this.source) this.source.close();
    this.source = null;
  }

  end() {
    this.closeSource();
    this.job = null;
    this.button.disabled = false;
    this.cancelButton.hidden = true;
  }

  async cancel() {
    if (!this.job) return;
    try {
      await api("DELETE", `/api/jobs/${encodeURIComponent(this.job)}`);
    } catch (err) {
      showError(err);
    }
  }
}
