// Times as the inbox shows them; inbox/templatetags/inbox_web.py renders the same on the server.

export function shortAgo(value, now = Date.now()) {
  if (!value) return "";
  const seconds = Math.max((now - new Date(value).getTime()) / 1000, 0);
  const units = [
    [7 * 86400, "w"],
    [86400, "d"],
    [3600, "h"],
    [60, "m"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  }
  return "now";
}

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** "14:05" today, "Mar 3, 14:05" before. */
export function clock(value) {
  if (!value) return "";
  const date = new Date(value);
  const time = clockFormat.format(date);
  return date.toDateString() === new Date().toDateString() ? time : `${dayFormat.format(date)}, ${time}`;
}

export function fullDate(value) {
  return value ? new Date(value).toLocaleString() : "";
}

/** Rewrite server-rendered UTC times in the operator's own time zone. */
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

/** Refresh "5m"-style ages: list times and waiting badges. */
export function refreshAges(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-ago]")) {
    node.textContent = shortAgo(node.dateTime, now);
    node.title = fullDate(node.dateTime);
  }
  for (const node of root.querySelectorAll("[data-waiting-since]")) {
    const text = node.querySelector("[data-ago-text]");
    if (text) text.textContent = shortAgo(node.dataset.waitingSince, now);
    node.title = `Waiting for a reply since ${fullDate(node.dataset.waitingSince)}`;
  }
}
