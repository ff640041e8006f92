// What the open conversation's header does: assign, unassign, resolve, reopen, snooze,
// priority and labels, each through the REST API, whose answer updates the page at once
// rather than waiting for the live event; and its menus.

import { api } from "./api.js";

function tomorrowMorning() {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  date.setHours(9, 0, 0, 0);
  return date;
}

/** When a snooze chosen from a menu ends: "tomorrow" (9:00) or "hour", as an ISO time. */
export function snoozeUntil(choice) {
  return (choice === "tomorrow" ? tomorrowMorning() : new Date(Date.now() + 3600 * 1000)).toISOString();
}

/** `onChanged(conversation)` takes the conversation as the API answers it after an action. */
export function setupConversationActions({ me, header, openConversation, onChanged, showToast }) {
  async function conversationAction(action, argument) {
    const conversation = openConversation();
    if (!conversation) return;
    const base = `/api/v1/conversations/${conversation.id}`;
    const calls = {
      "assign-me": () => api.post(`${base}/assign/`, { operator: me.id }),
      unassign: () => api.post(`${base}/assign/`, { operator: null }),
      resolve: () => api.post(`${base}/resolve/`),
      reopen: () => api.post(`${base}/reopen/`),
      snooze: () => api.post(`${base}/snooze/`, { until: snoozeUntil(argument) }),
      priority: () => api.patch(`${base}/`, { priority: argument }),
      labels: () => api.post(`${base}/labels/`, { labels: argument }),
    };
    if (!calls[action]) return;
    try {
      onChanged(await calls[action]());
      if (action === "resolve") showToast(gettext("Conversation resolved."));
      if (action === "snooze") showToast(gettext("Conversation snoozed."));
    } catch (error) {
      showToast(error.message, { isError: true });
    }
  }

  function openLabelMenu() {
    const menu = header.querySelector('details[data-menu="labels"]');
    if (!menu) return;
    menu.open = true;
    (menu.querySelector("input[data-label-toggle]") || menu.querySelector("summary")).focus();
  }

  header.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    button.closest("details")?.removeAttribute("open");
    conversationAction(button.dataset.action, button.dataset.snooze);
  });

  header.addEventListener("change", (event) => {
    if (event.target.matches("select[data-action='priority']")) conversationAction("priority", event.target.value);
    if (event.target.matches("input[data-label-toggle]")) {
      const chosen = [...header.querySelectorAll("input[data-label-toggle]:checked")].map((box) => Number(box.value));
      conversationAction("labels", chosen);
    }
  });

  header.addEventListener("keydown", (event) => {
    const menu = event.target.closest("details.menu[open]");
    if (event.key !== "Escape" || !menu) return;
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  });

  // A click anywhere else closes an open menu.
  document.addEventListener("click", (event) => {
    for (const menu of document.querySelectorAll("details.menu[open]")) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    }
  });

  return { run: conversationAction, openLabelMenu };
}
