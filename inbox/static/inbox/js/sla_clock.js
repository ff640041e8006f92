// SLA countdowns: a conversation's next due time (conversation.sla) counting down in the
// list and the open conversation's header, amber once a quarter of its target's time is
// left, red once it passed ("Breached 12 min ago"). The page ticks them every second; a
// live `conversation.updated` redraws them with the server's due times.

import { html } from "./dom.js";
import { fullDate } from "./format.js";
import { format } from "./i18n.js";

const TARGETS = ["first_response", "next_response", "resolution"];
// The resolution clock stands still while the customer is being waited for.
const PAUSED_STATUSES = ["snoozed", "pending"];
const WARNING_SHARE = 0.25;
const TICK_MS = 1000;

const DUE_TITLES = {
  first_response: gettext("First response due %(time)s"),
  next_response: gettext("Next response due %(time)s"),
  resolution: gettext("Resolution due %(time)s"),
};
const BREACHED_TITLES = {
  first_response: gettext("First response target missed"),
  next_response: gettext("Next response target missed"),
  resolution: gettext("Resolution target missed"),
};

// Each policy's targets in minutes (the page's data), by policy id.
let policyTargets = {};

/** The policies' targets from the page's data; keeps every clock on the page ticking. */
export function startSlaClocks(targets) {
  policyTargets = targets || {};
  setInterval(() => refreshSlaClocks(document), TICK_MS);
}

/** The targets with a due time whose clock runs, as `{ target, dueAt }`. */
function runningTargets(conversation) {
  const sla = conversation.sla;
  return TARGETS.filter(
    (target) => sla[`${target}_due_at`] && !(target === "resolution" && PAUSED_STATUSES.includes(conversation.status)),
  ).map((target) => ({ target, dueAt: sla[`${target}_due_at`] }));
}

/** The target whose due time the conversation shows: the earliest running one (a missed one
 * still running comes first), else the first missed one, without a due time; or null. */
export function slaShown(conversation) {
  const sla = conversation.sla;
  if (!sla) return null;
  const running = runningTargets(conversation);
  running.sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt));
  if (running.length) return running[0];
  if (sla.breached?.length) return { target: sla.breached[0], dueAt: null };
  return null;
}

/** As the server's `sla=due_soon`: a running target not yet missed is due within `minutes`. */
export function isSlaDueSoon(conversation, minutes, now = Date.now()) {
  if (!conversation.sla) return false;
  return runningTargets(conversation).some(({ target, dueAt }) => {
    const due = Date.parse(dueAt);
    return !conversation.sla.breached.includes(target) && due > now && due <= now + minutes * 60000;
  });
}

/** "running", "warning" (a quarter of the target's time or less left) or "breached". */
export function slaState(dueAt, targetMinutes, now = Date.now()) {
  const left = Date.parse(dueAt) - now;
  if (left <= 0) return "breached";
  if (targetMinutes && left <= targetMinutes * 60000 * WARNING_SHARE) return "warning";
  return "running";
}

function dueInText(milliseconds) {
  const seconds = Math.ceil(milliseconds / 1000);
  if (seconds < 60) return format(ngettext("Due in %(count)s second", "Due in %(count)s seconds", seconds), { count: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return format(ngettext("Due in %(count)s minute", "Due in %(count)s minutes", minutes), { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return format(gettext("Due in %(hours)s h %(minutes)s min"), { hours, minutes: minutes % 60 });
  const days = Math.floor(hours / 24);
  return format(ngettext("Due in %(count)s day", "Due in %(count)s days", days), { count: days });
}

function breachedText(milliseconds) {
  const minutes = Math.floor(milliseconds / 60000);
  if (minutes < 1) return gettext("Breached just now");
  if (minutes < 60) return format(ngettext("Breached %(count)s min ago", "Breached %(count)s min ago", minutes), { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return format(ngettext("Breached %(count)s h ago", "Breached %(count)s h ago", hours), { count: hours });
  const days = Math.floor(hours / 24);
  return format(ngettext("Breached %(count)s day ago", "Breached %(count)s days ago", days), { count: days });
}

function clockText(dueAt, state, now) {
  const left = Date.parse(dueAt) - now;
  return state === "breached" ? breachedText(-left) : dueInText(left);
}

/** The countdown of the conversation's next due time, or "" when no target is running or missed. */
export function slaClock(conversation, now = Date.now()) {
  const shown = slaShown(conversation);
  if (!shown) return "";
  if (!shown.dueAt) {
    return html`<span class="sla-clock" data-sla-state="breached" title="${BREACHED_TITLES[shown.target]}">${gettext("Breached")}</span>`;
  }
  const minutes = policyTargets[conversation.sla.policy.id]?.[shown.target] || "";
  const state = slaState(shown.dueAt, minutes, now);
  const title = format(DUE_TITLES[shown.target], { time: fullDate(shown.dueAt) });
  return html`<span class="sla-clock" data-sla-due="${shown.dueAt}" data-sla-minutes="${minutes}" data-sla-state="${state}" title="${title}">${clockText(shown.dueAt, state, now)}</span>`;
}

/** Tick every countdown under `root`. */
export function refreshSlaClocks(root, now = Date.now()) {
  for (const node of root.querySelectorAll(".sla-clock[data-sla-due]")) {
    const state = slaState(node.dataset.slaDue, Number(node.dataset.slaMinutes), now);
    const text = clockText(node.dataset.slaDue, state, now);
    if (node.dataset.slaState !== state) node.dataset.slaState = state;
    if (node.textContent !== text) node.textContent = text;
  }
}
