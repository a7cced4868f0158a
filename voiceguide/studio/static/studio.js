// The studio page: the library view and the editor view, switched by location.hash
// (#/ and #/edit/NAME). The only timer is the debounce after typing; nothing polls.

import { api, get, post, el, debounce, showError, showStatus, clearStatus, ApiError } from "./api.js";
import { CodeEditor } from "./editor.js";
import { TimelineView, sectionIndexOf, describeEvent } from "./timeline.js";
import { PreviewPlayer } from "./preview.js";
import { SettingsForm } from "./settings.js";
import { RenderJob } from "./render.js";
import { showPlayer, loadRenders } from "./player.js";

const $ = (id) => document.getElementById(id);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const state = { name: null, builtin: false, version: null, saved: "", plan: null, selected: null, checks: 0, warnings: [] };
let checking = null;   // AbortController of the validate/plan in flight

const editor = new CodeEditor({
  textarea: $("editor"), highlight: $("highlight"), gutter: $("gutter-inner"),
  onChange: () => { markDirty(); scheduleCheck(); },
});
const timeline = new TimelineView($("timeline"), { onSelect: (i) => selectEvent(i, true) });
const preview = new PreviewPlayer($("preview-audio"), $("preview-label"), {
  onTime: (t) => timeline.setPlayhead(t),
  onState: (playing) => document.body.classList.toggle("previewing", playing),
});
const settings = new SettingsForm($("settings"), { onChange: settingChanged });
const renderJob = new RenderJob({
  button: $("render"), cancel: $("cancel"), progress: $("progress"),
  // After a render the speech is measured: plan again so the timeline shows the real times.
  onDone: (done) => { showPlayer($("editor-player-slot"), done); refreshRenders(); scheduleCheck.flush(); },
});

// ---------------------------------------------------------------- library view

async function showLibrary() {
  showView("library");
  const cards = $("cards");
  let routines;
  try {
    routines = await get("/api/routines");
  } catch (err) {
    showError(err);
    cards.replaceChildren(el("p", { class: "error-line", text: "The routines could not be listed." }));
    return;
  }
  cards.replaceChildren(...routines.map(card));
  refreshRenders();
}

function card(r) {
  const open = () => { location.hash = `#/edit/${r.name}`; };
  return el("article", { class: `card${r.error ? " broken" : ""}`, dataset: { name: r.name, builtin: r.builtin ? "1" : "0" } },
    el("header", {},
      el("h3", { text: r.title || r.name }),
      r.builtin ? el("span", { class: "badge", text: "built-in" }) : el("span", { class: "badge mine", text: "my folder" })),
    el("div", { class: "meta" }, el("span", { class: "length", text: r.length_text || "" }), " ",
      el("code", { text: r.builtin ? r.name : `${r.name}.routine.md` })),
    r.error ? el("p", { class: "error-line", text: r.error }) : null,
    r.description ? el("p", { class: "description", text: r.description }) : null,
    r.suits ? el("p", { class: "suits" }, el("strong", { text: "Suits: " }), r.suits) : null,
    r.caution ? el("p", { class: "caution" }, el("strong", { text: "Caution: " }), r.caution) : null,
    el("div", { class: "card-actions" },
      el("button", { type: "button", class: "open", text: "Open", onclick: open }),
      r.builtin ? el("button", { type: "button", class: "copy", "data-testid": `copy-${r.name}`, text: "Copy to my folder",
        onclick: () => copyBuiltin(r.name) }) : null));
}

function copyBuiltin(from) {
  askName(`Copy “${from}” to your folder`, from, "Copy", async (name) => {
    await post("/api/routines", { name, from });
    showStatus(`Copied ${from} to ${name}.routine.md.`);
    goEdit(name);
  });
}

function newRoutine() {
  askName("New routine", "my-routine", "Create", async (name) => {
    await post("/api/routines", { name, from: null });
    goEdit(name);
  });
}

/** A modal that asks a routine name and runs `action(name)`; errors stay in the dialog. */
function askName(title, initial, okLabel, action) {
  const dialog = $("name-dialog"), input = $("name-input"), error = $("name-error");
  $("name-title").textContent = title;
  $("name-ok").textContent = okLabel;
  input.value = initial;
  error.hidden = true;
  $("name-form").onsubmit = async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!NAME.test(name)) {
      error.textContent = "Use 1 to 64 letters, digits, - or _, starting with a letter or digit.";
      error.hidden = false;
      return;
    }
    try {
      await action(name);
      dialog.close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  $("name-cancel").onclick = () => dialog.close();
  dialog.showModal();
  input.select();
}

// ---------------------------------------------------------------- editor view

/** Open `name` fresh from disk, even when the editor shows it already (a copy hides its built-in). */
function goEdit(name) {
  if (dirty() && !confirm(`Discard the unsaved changes to ${state.name}?`)) return;
  state.name = null;
  const hash = `#/edit/${name}`;
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function openEditor(name) {
  showView("editor");
  if (state.name === name) return;
  if (dirty() && !confirm(`Discard the unsaved changes to ${state.name}?`)) {
    location.hash = `#/edit/${state.name}`;
    return;
  }
  preview.stop();
  try {
    const r = await get(`/api/routines/${encodeURIComponent(name)}`);
    load(r);
  } catch (err) {
    showError(err);
    if (err instanceof ApiError && err.status === 404) location.hash = "#/";
  }
}

function load(r) {
  Object.assign(state, { name: r.name, builtin: r.builtin, version: r.version, saved: r.text, plan: null, selected: null });
  $("routine-name").textContent = r.builtin ? r.name : `${r.name}.routine.md`;
  $("builtin-badge").hidden = !r.builtin;
  $("copy-builtin").hidden = !r.builtin;
  $("save").disabled = r.builtin;
  $("conflict").hidden = true;
  editor.setReadOnly(r.builtin);
  editor.setText(r.text);
  editor.setProblems([]);
  selectEvent(null);
  markDirty();
  scheduleCheck.flush();
  refreshRenders();
}

const dirty = () => state.name != null && !state.builtin && editor.text !== state.saved;

function markDirty() {
  $("save-state").textContent = state.builtin ? "" : dirty() ? "Unsaved changes" : "Saved";
  $("save-state").dataset.dirty = dirty() ? "1" : "0";
}

const scheduleCheck = debounce(check, 300);

function settingChanged(name) {
  if (name === "format") {
    const value = settings.values().format;
    if (value) $("format").value = value;
  }
  scheduleCheck();
}

/** Validate and plan the text as it is now; late answers to older text are dropped. */
async function check() {
  if (!state.name) return;
  if (checking) checking.abort();
  const abort = checking = new AbortController();
  const text = editor.text, name = state.name, seq = ++state.checks;
  const [validated, planned] = await Promise.allSettled([
    post("/api/validate", { text, name }, abort.signal),
    post("/api/plan", { text, name, settings: planSettings() }, abort.signal),
  ]);
  if (abort.signal.aborted || seq !== state.checks) return;
  checking = null;
  if (validated.status === "fulfilled") showProblems(validated.value.problems, validated.value.warnings || []);
  else showError(validated.reason);
  if (planned.status === "fulfilled") {
    state.plan = planned.value;
    timeline.setStale(false);
    timeline.draw(state.plan);
    $("plan-length").textContent = `${state.plan.length_text || ""}${state.plan.measured ? "" : " (estimated)"} · ${state.plan.events.length} steps`;
    if (state.selected != null && state.selected >= state.plan.events.length) selectEvent(null);
    else selectEvent(state.selected);
  } else if (planned.reason instanceof ApiError && planned.reason.data.problems) {
    timeline.setStale(true);
    $("plan-length").textContent = "Fix the problems to update the timeline.";
  } else {
    showError(planned.reason);
  }
  $("problems").dataset.checked = seq;
}

// Problems (what `voiceguide validate` reports) and warnings (what `validate --lint` adds: a
// hold too short for what its step asks), each at its line; a click goes to the line.
function showProblems(problems, warnings = []) {
  editor.setProblems(problems, warnings);
  state.warnings = warnings;
  const item = (p, kind) => el("li", {
    class: kind, dataset: { line: p.line }, title: p.text || "", tabindex: 0,
    onclick: () => editor.gotoLine(p.line), onkeydown: (e) => { if (e.key === "Enter") editor.gotoLine(p.line); },
  }, el("span", { class: "where", text: `line ${p.line}` }), el("span", { class: "message", text: p.message }));
  const list = $("problems");
  list.replaceChildren(...problems.map((p) => item(p, "problem")), ...warnings.map((w) => item(w, "warning")));
  list.dataset.count = problems.length;
  list.dataset.warnings = warnings.length;
}

function selectEvent(index, fromTimeline = false) {
  state.selected = index;
  timeline.select(index);
  const event = index != null && state.plan ? state.plan.events[index] : null;
  for (const id of ["play-step", "play-section", "compare-speeds"]) $(id).disabled = !event;
  $("selected-step").textContent = event ? `Step ${index}: ${describeEvent(event)}` : "Click a step in the timeline to hear it.";
  if (event && fromTimeline) {
    if (event.line != null) editor.gotoLine(event.line);
    playStep();
  }
}

function planSettings() {
  const values = settings.values();
  delete values.format;   // the render's format select owns the format
  return values;
}

function previewBody(extra, overrides = {}) {
  return { text: editor.text, name: state.name, settings: { ...planSettings(), ...overrides }, ...extra };
}

function playItems(items) {
  preview.play(items).catch(showError);
}

function playStep() {
  if (state.selected == null) return;
  playItems([{ label: `step ${state.selected}`, body: previewBody({ event: state.selected }) }]);
}

function playSection() {
  const event = state.plan && state.plan.events[state.selected];
  if (!event) return;
  const index = sectionIndexOf(state.plan, event);
  playItems([{ label: `section “${state.plan.sections[index].title}”`, body: previewBody({ section: index }) }]);
}

function playFirstMinute() {
  if (!state.name) return;
  playItems([{ label: "the first minute", body: previewBody({ first: 60 }) }]);
}

function compareSpeeds() {
  if (state.selected == null) return;
  playItems([0.8, 1.0, 1.2].map((speed) => ({
    label: `speed ${speed.toFixed(1)}`, body: previewBody({ event: state.selected }, { speed }),
  })));
}

async function save(force = false) {
  if (!state.name || state.builtin) {
    showStatus("Built-in routines are read-only: copy it to your folder to change it.", "error");
    return;
  }
  const text = editor.text;
  try {
    const res = await api("PUT", `/api/routines/${encodeURIComponent(state.name)}`, { text, version: state.version, force });
    state.version = res.version;
    state.saved = text;
    $("conflict").hidden = true;
    markDirty();
    showProblems(res.problems || [], state.warnings || []);    // the saved text was just checked
    showStatus(`Saved ${state.name}.routine.md${res.problems && res.problems.length ? ` (${res.problems.length} problem(s) to fix)` : ""}.`);
  } catch (err) {
    if (err.status === 409) {
      $("conflict-text").textContent = err.message;
      $("conflict").hidden = false;
    } else {
      showError(err);
    }
  }
}

async function reloadFromDisk() {
  try {
    const r = await get(`/api/routines/${encodeURIComponent(state.name)}`);
    state.name = null;
    load(r);
    showStatus(`Reloaded ${r.name} from disk.`);
  } catch (err) {
    showError(err);
  }
}

function copyFromEditor() {
  copyBuiltin(state.name);
}

function startRender() {
  if (!state.name) return;
  preview.stop();
  renderJob.start({ text: editor.text, name: state.name, settings: planSettings(), format: $("format").value });
}

function refreshRenders() {
  return loadRenders([
    { list: $("library-renders"), slot: $("library-player-slot") },
    { list: $("renders"), slot: $("editor-player-slot") },
  ]);
}

// ---------------------------------------------------------------- wiring

function showView(view) {
  document.body.dataset.view = view;
  $("library-view").hidden = view !== "library";
  $("editor-view").hidden = view !== "editor";
}

async function route() {
  const m = location.hash.match(/^#\/edit\/([^/]+)$/);
  const name = m ? decodeURIComponent(m[1]) : null;
  if (name && NAME.test(name)) await openEditor(name);
  else await showLibrary();
}

async function loadSchema() {
  try {
    const schema = await get("/api/settings");
    settings.setSchema(schema);
    const formats = (schema.properties && schema.properties.format && schema.properties.format.enum) || ["mp3"];
    const ordered = ["mp3", ...formats.filter((f) => f !== "mp3")];
    $("format").replaceChildren(...ordered.map((f) => el("option", { value: f, text: f })));
  } catch (err) {
    showError(err);
  }
}

function wire() {
  $("status-close").addEventListener("click", clearStatus);
  $("new-routine").addEventListener("click", newRoutine);
  $("save").addEventListener("click", () => save());
  $("copy-builtin").addEventListener("click", copyFromEditor);
  $("conflict-reload").addEventListener("click", reloadFromDisk);
  $("conflict-overwrite").addEventListener("click", () => save(true));
  $("play-step").addEventListener("click", playStep);
  $("play-section").addEventListener("click", playSection);
  $("play-first").addEventListener("click", playFirstMinute);
  $("compare-speeds").addEventListener("click", compareSpeeds);
  $("stop").addEventListener("click", () => preview.stop());
  $("render").addEventListener("click", startRender);
  $("format").addEventListener("change", () => { settings.set("format", $("format").value); });
  $("settings-reset").addEventListener("click", (e) => { e.preventDefault(); settings.reset(); });
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      if (document.body.dataset.view === "editor") save();
    }
  });
  window.addEventListener("beforeunload", (e) => { if (dirty()) e.preventDefault(); });
  window.addEventListener("hashchange", route);
}

async function main() {
  wire();
  await Promise.all([loadSchema(), route()]);
  document.body.dataset.readyMs = Math.round(performance.now());   // for scripts/bench_studio.py
  document.body.dataset.ready = "1";
}

main().catch(showError);
