// Warnings that one of the operator's conversations is due soon (`conversation.sla_due_soon`,
// sent only to the operators it concerns): a notice on the page that opens the
// conversation, and a browser notification while the tab is hidden, if the operator
// allowed them (asked from the notice itself: browsers ask only after a click).

import { element, html } from "./dom.js";
import { clock } from "./format.js";
import { format } from "./i18n.js";
import { customerName } from "./render.js";

const MOST_NOTICES = 5;
const NOTICE_TEXTS = {
  first_response: gettext("%(name)s is waiting for a first response, due at %(time)s"),
  next_response: gettext("%(name)s is waiting for an answer, due at %(time)s"),
  resolution: gettext("The conversation with %(name)s is due to be resolved at %(time)s"),
};

function canAskForNotifications() {
  return "Notification" in window && Notification.permission === "default";
}

/** `onChoose(id)` opens a conversation. */
export function setupSlaNotices({ onChoose }) {
  const region = document.getElementById("sla-notices");

  function noticeText(event) {
    const text = NOTICE_TEXTS[event.target] || NOTICE_TEXTS.first_response;
    return format(text, { name: customerName(event.customer), time: clock(event.due_at) });
  }

  function notifyBrowser(event, text) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const notification = new Notification(gettext("A conversation is due soon"), {
      body: text,
      tag: `sla-${event.conversation_id}-${event.due_at}`,
    });
    notification.addEventListener("click", () => {
      window.focus();
      onChoose(event.conversation_id);
      notification.close();
    });
  }

  function onDueSoon(event) {
    const text = noticeText(event);
    region.querySelector(`[data-conversation-id="${event.conversation_id}"]`)?.remove();
    const notice = element(html`<div class="sla-notice" role="alert" data-conversation-id="${event.conversation_id}">
  <span class="sla-notice-mark" aria-hidden="true">⏱</span>
  <span class="sla-notice-text">${text}</span>
  <span class="sla-notice-actions">
    <button type="button" class="button button-small button-primary" data-notice-open>${gettext("Open")}</button>
    ${canAskForNotifications() ? html`<button type="button" class="button button-small button-ghost" data-notice-allow>${gettext("Also notify me when this tab is hidden")}</button>` : ""}
    <button type="button" class="button button-small button-ghost" data-notice-dismiss aria-label="${gettext("Dismiss")}">×</button>
  </span>
</div>`);
    region.prepend(notice);
    while (region.children.length > MOST_NOTICES) region.lastElementChild.remove();
    notifyBrowser(event, text);
  }

  /** The open conversation needs no notice of its own any more. */
  function forget(conversationId) {
    region.querySelector(`[data-conversation-id="${conversationId}"]`)?.remove();
  }

  region.addEventListener("click", async (click) => {
    const notice = click.target.closest(".sla-notice");
    if (!notice) return;
    if (click.target.closest("[data-notice-open]")) {
      notice.remove();
      onChoose(Number(notice.dataset.conversationId));
    } else if (click.target.closest("[data-notice-dismiss]")) {
      notice.remove();
    } else if (click.target.closest("[data-notice-allow]")) {
      await Notification.requestPermission();
      for (const button of region.querySelectorAll("[data-notice-allow]")) button.remove();
    }
  });

  return { onDueSoon, forget };
}
