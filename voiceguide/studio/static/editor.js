// The routine editor: a transparent <textarea> over a highlighted <pre> that moves with its
// scroll, and a line-number gutter. Both layers use the same font, line height and padding,
// and never wrap, so a character sits at the same place in each.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ESCAPES[c]);
const span = (cls, s) => (s ? `<span class="${cls}">${escapeHtml(s)}</span>` : "");

const FENCE = "+++";
const INLINE = /\[[^\[\]]*\]|\{[^{}]*\}/g;   // directives and placeholders, as parse.py finds them

/** Body text (outside comments): `[directives]` and `{placeholders}` coloured. */
function inlineHtml(text, base) {
  let html = "", pos = 0;
  for (const m of text.matchAll(INLINE)) {
    html += span(base, text.slice(pos, m.index));
    html += span(m[0][0] === "[" ? "t-directive" : "t-placeholder", m[0]);
    pos = m.index + m[0].length;
  }
  return html + span(base, text.slice(pos));
}

/** One front matter line: TOML comments, keys, strings, [tables]. */
function frontHtml(line) {
  const m = line.match(/^(\s*)([A-Za-z0-9_."-]+)(\s*=\s*)(.*)$/);
  if (/^\s*#/.test(line)) return span("t-comment", line);
  if (/^\s*\[.*\]\s*(#.*)?$/.test(line)) return span("t-table", line);
  if (!m) return span("t-front", line);
  const [, lead, key, eq, rest] = m;
  const comment = rest.match(/^((?:"[^"]*"|'[^']*'|[^#"'])*)(#.*)?$/);
  const value = comment ? comment[1] : rest;
  const tail = comment && comment[2] ? comment[2] : "";
  const valueCls = /^\s*["']/.test(value) ? "t-string" : "t-value";
  return escapeHtml(lead) + span("t-key", key) + span("t-front", eq) + span(valueCls, value) + span("t-comment", tail);
}

/** Routine text -> one HTML string per line (state: front matter, open comment). */
export function highlightLines(text) {
  const lines = text.split("\n");
  const out = [];
  let front = "before";        // before | in | after
  let inComment = false;
  for (const line of lines) {
    if (front !== "after") {
      if (line.trim() === FENCE) {
        front = front === "before" ? "in" : "after";
        out.push(span("t-fence", line));
        continue;
      }
      if (front === "in") { out.push(frontHtml(line)); continue; }
      if (line.trim() !== "") front = "after";   // no front matter: the parser will say so
    }
    const heading = !inComment && /^#+(\s|$)/.test(line);
    let html = "", pos = 0;
    while (pos < line.length) {
      if (inComment) {
        const end = line.indexOf("-->", pos);
        const stop = end < 0 ? line.length : end + 3;
        html += span("t-comment", line.slice(pos, stop));
        pos = stop;
        if (end >= 0) inComment = false;
      } else {
        const start = line.indexOf("<!--", pos);
        const stop = start < 0 ? line.length : start;
        const part = line.slice(pos, stop);
        html += heading ? headingHtml(part, pos === 0) : inlineHtml(part, "");
        pos = stop;
        if (start >= 0) inComment = true;
      }
    }
    out.push(html);
  }
  return out;
}

function headingHtml(text, atStart) {
  const m = atStart ? text.match(/^(#+)(.*)$/) : null;
  if (!m) return inlineHtml(text, "t-heading");
  return span("t-hash", m[1]) + inlineHtml(m[2], "t-heading");
}

export class CodeEditor {
  constructor({ textarea, highlight, gutter, onChange }) {
    this.ta = textarea;
    this.pre = highlight;
    this.gutter = gutter;
    this.onChange = onChange || (() => {});
    this.problems = new Map();     // line -> [messages]
    this.warnings = new Map();     // line -> [lint messages]
    this.lineCount = -1;
    this.ta.addEventListener("input", () => { this.render(); this.onChange(this.ta.value); });
    this.ta.addEventListener("scroll", () => this.syncScroll());
  }

  get text() { return this.ta.value; }

  /** Replace the whole text (opening or reloading a file); the caret goes to the top. */
  setText(text) {
    this.ta.value = text;
    this.ta.setSelectionRange(0, 0);
    this.ta.scrollTop = 0;
    this.ta.scrollLeft = 0;
    this.render();
    this.syncScroll();
  }

  setReadOnly(readOnly) {
    this.ta.readOnly = readOnly;
    this.ta.closest(".code-editor").classList.toggle("readonly", readOnly);
  }

  setProblems(problems, warnings = []) {
    const byLine = (items) => {
      const map = new Map();
      for (const p of items) map.set(p.line, [...(map.get(p.line) || []), p.message]);
      return map;
    };
    this.problems = byLine(problems);
    this.warnings = byLine(warnings);
    this.lineCount = -1;   // the gutter marks change
    this.render();
  }

  /** " bad" for a line with a problem, " warn" for one with only a warning. */
  mark(n) {
    return this.problems.has(n) ? " bad" : this.warnings.has(n) ? " warn" : "";
  }

  render() {
    const html = highlightLines(this.ta.value);
    this.pre.innerHTML = html
      .map((line, i) => `<span class="line${this.mark(i + 1)}" data-line="${i + 1}">${line}</span>`)
      .join("");
    if (html.length !== this.lineCount) this.renderGutter(html.length);
  }

  renderGutter(count) {
    this.lineCount = count;
    const parts = [];
    for (let n = 1; n <= count; n++) {
      const messages = this.problems.get(n) || this.warnings.get(n);
      parts.push(messages
        ? `<div class="num${this.mark(n)}" data-line="${n}" title="${escapeHtml(messages.join("\n"))}">${n}</div>`
        : `<div class="num" data-line="${n}">${n}</div>`);
    }
    // Problems past the end (e.g. a file that ends too soon) still get a mark.
    for (const [line, messages] of this.problems) {
      if (line > count) parts.push(`<div class="num bad" data-line="${line}" title="${escapeHtml(messages.join("\n"))}">${line}</div>`);
    }
    this.gutter.innerHTML = parts.join("");
  }

  syncScroll() {
    const { scrollTop: y, scrollLeft: x } = this.ta;
    this.pre.style.transform = `translate(${-x}px, ${-y}px)`;
    this.gutter.style.transform = `translateY(${-y}px)`;
  }

  lineHeight() {
    return parseFloat(getComputedStyle(this.ta).lineHeight) || 20;
  }

  /** Caret to the start of `line` (1-based), scrolled into view, focused. */
  gotoLine(line) {
    const lines = this.ta.value.split("\n");
    const n = Math.max(1, Math.min(line, lines.length));
    let offset = 0;
    for (let i = 0; i < n - 1; i++) offset += lines[i].length + 1;
    this.ta.focus({ preventScroll: true });
    this.ta.setSelectionRange(offset, offset);
    const lh = this.lineHeight();
    const top = (n - 1) * lh;
    if (top < this.ta.scrollTop || top + lh > this.ta.scrollTop + this.ta.clientHeight) {
      this.ta.scrollTop = Math.max(0, top - this.ta.clientHeight / 3);
    }
    this.ta.scrollLeft = 0;
    this.syncScroll();
  }

  /** The 1-based line the caret is on. */
  caretLine() {
    return this.ta.value.slice(0, this.ta.selectionStart).split("\n").length;
  }
}
