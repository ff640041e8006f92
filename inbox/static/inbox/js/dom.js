// Safe HTML building: every interpolated value is escaped unless it is itself SafeHtml
// made by `html`. Never assign innerHTML from anything but a SafeHtml or a fragment the
// server rendered (and so escaped) for us.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

export class SafeHtml {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }
}

function piece(value) {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value);
}

export function html(strings, ...values) {
  let text = strings[0];
  values.forEach((value, index) => {
    text += piece(value) + strings[index + 1];
  });
  return new SafeHtml(text);
}

/**
 * A translated text with markup in its %(name)s places: the text is escaped, each value
 * too unless it is SafeHtml ("Snoozed until %(time)s" with a <time> element in it).
 */
export function htmlFormat(text, values) {
  const parts = String(text).split(/%\((\w+)\)s/);
  return new SafeHtml(parts.map((part, index) => (index % 2 ? piece(values[part]) : escapeHtml(part))).join(""));
}

/** The first element of a SafeHtml snippet. */
export function element(safe) {
  if (!(safe instanceof SafeHtml)) throw new TypeError("element() takes html`` output only");
  const template = document.createElement("template");
  template.innerHTML = safe.text.trim();
  return template.content.firstElementChild;
}

/** The URL if a browser may follow it from our page: http(s) or a path on this site. */
export function safeUrl(url) {
  const text = String(url ?? "");
  if (/^https?:\/\//i.test(text)) return text;
  if (text.startsWith("/") && !text.startsWith("//")) return text;
  return "";
}
