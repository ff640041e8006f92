// Times as the inbox shows them, in the operator's language and time zone (i18n.js): ages
// ("5 min ago", "yesterday") and clock times. The server renders a UTC fallback that the
// script rewrites here.

import { format, language, timeZone } from "./i18n.js";

const AGE_UNITS = [
  [7 * 86400, "week"],
  [86400, "day"],
  [3600, "hour"],
  [60, "minute"],
];
const ageFormat = new Intl.RelativeTimeFormat(language, { numeric: "auto", style: "short" });

/** How long ago: "now", "5 min ago", "yesterday", "2 wk ago" (in the operator's language). */
export function shortAgo(value, now = Date.now()) {
  if (!value) return "";
  const seconds = Math.max((now - new Date(value).getTime()) / 1000, 0);
  for (const [size, unit] of AGE_UNITS) {
    if (seconds >= size) return ageFormat.format(-Math.floor(seconds / size), unit);
  }
  return ageFormat.format(0, "second");
}

const clockFormat = new Intl.DateTimeFormat(language, { hour: "numeric", minute: "2-digit", timeZone });
const dayClockFormat = new Intl.DateTimeFormat(language, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZone,
});
const fullFormat = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short", timeZone });
const calendarDay = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone });

/** "14:05" today (in the operator's time zone), "3 Mar, 14:05" before. */
export function clock(value) {
  if (!value) return "";
  const date = new Date(value);
  const isToday = calendarDay.format(date) === calendarDay.format(new Date());
  return (isToday ? clockFormat : dayClockFormat).format(date);
}

export function fullDate(value) {
  return value ? fullFormat.format(new Date(value)) : "";
}

/** Rewrite server-rendered UTC times in the operator's own language and time zone. */
export function localizeTimes(root) {
  for (const node of root.querySelectorAll("time[data-clock]")) {
    node.textContent = clock(node.dateTime);
    node.title = fullDate(node.dateTime);
  }
  for (const node of root.querySelectorAll("time[data-clock-full]")) {
    node.textContent = clock(node.dateTime);
  }
  refreshAges(root);
}

/** Refresh ages: list times and waiting badges. */
export function refreshAges(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-ago]")) {
    node.textContent = shortAgo(node.dateTime, now);
    node.title = fullDate(node.dateTime);
  }
  for (const node of root.querySelectorAll("[data-waiting-since]")) {
    const text = node.querySelector("[data-ago-text]");
    if (text) text.textContent = shortAgo(node.dataset.waitingSince, now);
    node.title = format(gettext("Waiting for a reply since %(date)s"), { date: fullDate(node.dataset.waitingSince) });
  }
}
