// The operator's language and time zone, as the server wrote them on <html lang
// data-time-zone>. Texts come from the page's catalogue script (/jsi18n/), whose gettext,
// ngettext and interpolate are globals; a translated text is always whole, its %(name)s
// places filled here, never pieced together from translated fragments.

export const language = document.documentElement.lang || "en";
// Unset: the browser's own time zone.
export const timeZone = document.documentElement.dataset.timeZone || undefined;

/** The translated `text` with its %(name)s places filled from `values`. */
export function format(text, values) {
  return interpolate(text, values, true);
}

const names = new Intl.ListFormat(language, { style: "long", type: "conjunction" });

/** "Anna, Ben and Carl" as the language lists them. */
export function listOf(items) {
  return names.format(items);
}
