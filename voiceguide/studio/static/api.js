// The one way the page talks to the studio server: JSON in and out, the per-run token on
// every request that changes something, and one error type carrying the server's one line.

const tokenMeta = document.querySelector('meta[name="voiceguide-token"]');
const TOKEN = tokenMeta ? tokenMeta.content : "";

export class ApiError extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data || {};
  }
}

function options(method, body, signal) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD") headers["X-Voiceguide-Token"] = TOKEN;
  const opts = { method, headers, signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  return opts;
}

async function send(method, url, body, signal) {
  let res;
  try {
    res = await fetch(url, options(method, body, signal));
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("the studio server did not answer: is it still running?", 0);
  }
  if (!res.ok) {
    let data = {};
    try { data = await res.json(); } catch { /* not JSON: use the status line */ }
    throw new ApiError(data.error || `${res.status} ${res.statusText}`, res.status, data);
  }
  return res;
}

/** JSON request -> parsed JSON answer (or ApiError with the server's message). */
export async function api(method, url, body, signal) {
  const res = await send(method, url, body, signal);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** JSON request -> the raw Response (for audio). */
export function apiRaw(method, url, body, signal) {
  return send(method, url, body, signal);
}

export const get = (url, signal) => api("GET", url, undefined, signal);
export const post = (url, body, signal) => api("POST", url, body, signal);

/** Status line: one message at a time, errors in red; never a silent failure. */
const statusBox = () => document.getElementById("status");

export function showStatus(message, kind = "info") {
  const box = statusBox();
  if (!box) return;
  document.getElementById("status-text").textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  if (kind === "info") {
    // A note goes with the user's next action; an error stays until dismissed or replaced.
    const dismiss = () => { if (box.dataset.kind === "info") box.hidden = true; };
    document.addEventListener("pointerdown", dismiss, { once: true, capture: true });
    document.addEventListener("keydown", dismiss, { once: true, capture: true });
  }
}

export function clearStatus() {
  const box = statusBox();
  if (box) box.hidden = true;
}

export function showError(err) {
  if (err && err.name === "AbortError") return;
  showStatus(err && err.message ? err.message : String(err), "error");
}

/** Calls `fn` once `ms` after the last call: the page's only timer. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapped.flush = (...args) => { clearTimeout(timer); timer = null; fn(...args); };
  return wrapped;
}

export function formatTime(seconds) {
  if (seconds == null || !isFinite(seconds)) return "";
  const s = Math.max(0, Math.floor(seconds + 1e-6));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
