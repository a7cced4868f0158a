// The settings panel, generated from GET /api/settings (a JSON Schema): nothing here knows
// which settings exist. Only the settings the user changed are sent, so a routine's own
// front matter still applies to everything left alone.

import { el } from "./api.js";

const NUMBER = /^-?(\d+\.?\d*|\.\d+)$/;

function typesOf(prop) {
  const types = Array.isArray(prop.type) ? prop.type : [prop.type];
  return types.filter((t) => t !== "null");
}

function kindOf(prop) {
  const types = typesOf(prop);
  if (prop.enum) return "enum";
  if (types.length === 1 && types[0] === "boolean") return "boolean";
  if (types.length === 1 && (types[0] === "number" || types[0] === "integer")) return types[0];
  return "text";
}

function stepFor(prop, kind) {
  if (kind === "integer") return "1";
  const span = (prop.maximum ?? 10) - (prop.minimum ?? 0);
  return span <= 5 ? "0.05" : span <= 100 ? "0.5" : "1";
}

function shown(value) {
  return value == null ? "none" : String(value);
}

export class SettingsForm {
  constructor(form, { onChange }) {
    this.form = form;
    this.onChange = onChange || (() => {});
    this.schema = { properties: {} };
    this.touched = new Set();
  }

  setSchema(schema) {
    this.schema = schema;
    this.form.replaceChildren(...Object.entries(schema.properties || {}).map(([name, prop]) => this.field(name, prop)));
  }

  field(name, prop) {
    const kind = kindOf(prop);
    const id = `setting-${name}`;
    const unit = prop["x-unit"] || "";
    let control, suggestions = null;
    if (kind === "enum") {
      control = el("select", { id },
        el("option", { value: "", text: `default (${shown(prop.default)})` }),
        ...prop.enum.map((v) => el("option", { value: v, text: v })));
    } else if (kind === "boolean") {
      control = el("input", { id, type: "checkbox" });
      control.checked = Boolean(prop.default);
    } else if (kind === "number" || kind === "integer") {
      control = el("input", { id, type: "number", min: prop.minimum, max: prop.maximum,
        step: stepFor(prop, kind), placeholder: `default ${shown(prop.default)}`, inputmode: "decimal" });
    } else {
      control = el("input", { id, type: "text", placeholder: `default ${shown(prop.default)}` });
      if (Array.isArray(prop.examples) && prop.examples.length) {
        // Values known at runtime (the voices, added ones too): offered, any other still typed.
        suggestions = el("datalist", { id: `${id}-suggestions` }, ...prop.examples.map((v) => el("option", { value: v })));
        control.setAttribute("list", suggestions.id);
      }
    }
    control.dataset.setting = name;
    control.dataset.kind = kind;
    control.addEventListener(kind === "boolean" || kind === "enum" ? "change" : "input", () => {
      this.touched.add(name);
      control.closest(".setting").classList.toggle("changed", this.valueOf(control) !== undefined);
      this.onChange(name);
    });
    const range = prop.minimum != null && prop.maximum != null ? `${prop.minimum} to ${prop.maximum}${unit ? " " + unit : ""}` : "";
    const label = name.replace(/_/g, " ");
    return el("div", { class: `setting k-${kind}`, dataset: { name } },
      el("label", { for: id, class: "setting-label", text: label }),
      el("div", { class: "setting-control" }, control, suggestions,
        unit && kind !== "boolean" ? el("span", { class: "unit", text: unit }) : null),
      el("div", { class: "help" }, prop.description || "", range ? el("span", { class: "range", text: ` Range: ${range}.` }) : null));
  }

  valueOf(control) {
    const name = control.dataset.setting;
    switch (control.dataset.kind) {
      case "boolean":
        return this.touched.has(name) ? control.checked : undefined;
      case "number":
      case "integer":
        return control.value === "" || !isFinite(control.valueAsNumber) ? undefined : control.valueAsNumber;
      case "enum":
        return control.value === "" ? undefined : control.value;
      default: {
        const text = control.value.trim();
        if (text === "") return undefined;
        return NUMBER.test(text) ? Number(text) : text;
      }
    }
  }

  /** {name: value} for the settings the user set; the rest come from the routine or defaults. */
  values() {
    const out = {};
    for (const control of this.form.querySelectorAll("[data-setting]")) {
      const value = this.valueOf(control);
      if (value !== undefined) out[control.dataset.setting] = value;
    }
    return out;
  }

  control(name) {
    return this.form.querySelector(`[data-setting="${name}"]`);
  }

  /** Set one setting from outside (the render format select), as if the user had. */
  set(name, value) {
    const control = this.control(name);
    if (!control) return;
    control.value = value;
    this.touched.add(name);
    control.closest(".setting").classList.toggle("changed", this.valueOf(control) !== undefined);
  }

  reset() {
    this.touched.clear();
    this.setSchema(this.schema);
    this.onChange(null);
  }
}
