// The open conversation: its header, messages and customer profile as the server rendered
// them (its fragment), then kept current by live events. One conversation is open at a
// time; opening another while the first still loads leaves only the last one chosen.

import { api } from "./api.js";
import { element, html, htmlFormat } from "./dom.js";
import { clock, localizeTimes } from "./format.js";
import { format } from "./i18n.js";
import { eventItem, labelChips, messageItem, toggleEmailPart } from "./render.js";
import { slaClock } from "./sla_clock.js";

const NEAR_BOTTOM_PX = 80;
const PANE_FETCH_ATTEMPTS = 3;

// Delivery only moves forward; an older copy (the reply's own response, an event that
// arrived late) must not turn a sent tick back into a clock. Failed and unknown are not
// ranked: sending again legitimately takes such a message back to queued.
const DELIVERY_ORDER = ["queued", "sending", "sent", "delivered", "read"];

function isStale(existing, message) {
  const before = DELIVERY_ORDER.indexOf(existing.dataset.status);
  const after = DELIVERY_ORDER.indexOf(message.status);
  return before !== -1 && after !== -1 && after < before;
}

/**
 * `statuses` names each status; `onChoose(id)` opens a conversation linked from the
 * profile, `onBack()` returns to the list (phone width), `onRefreshed()` follows a
 * re-render of the open conversation's fragment.
 */
export function setupThread({ me, statuses, showToast, onChoose, onBack, onRefreshed }) {
  const threadPane = document.getElementById("thread");
  const threadEmpty = document.getElementById("thread-empty");
  const threadBody = document.getElementById("thread-body");
  const headerSlot = document.getElementById("conversation-header");
  const threadScroll = document.getElementById("thread-scroll");
  const thread = document.getElementById("thread-messages");
  const profile = document.getElementById("customer-profile");
  const phoneLayout = window.matchMedia("(max-width: 760px)");

  let openConversation = null;
  let openToken = 0;
  // Fetches of a pane under way, each counting the live changes to its conversation
  // that arrived meanwhile: the pane may have been rendered before them.
  const paneFetches = new Set();

  function noteLiveChange(conversationId) {
    for (const fetch of paneFetches) if (fetch.id === conversationId) fetch.changes += 1;
  }

  async function fetchPane(id) {
    const fetch = { id, changes: 0 };
    paneFetches.add(fetch);
    try {
      for (let attempt = 1; ; attempt += 1) {
        const changesBefore = fetch.changes;
        const pane = await api.get(`/inbox/conversations/${id}/`);
        if (fetch.changes === changesBefore || attempt === PANE_FETCH_ATTEMPTS) return pane;
      }
    } finally {
      paneFetches.delete(fetch);
    }
  }

  function isNearBottom() {
    return threadScroll.scrollHeight - threadScroll.scrollTop - threadScroll.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    if (phoneLayout.matches) {
      // On a phone the page itself scrolls: bring the latest message into view.
      thread.lastElementChild?.scrollIntoView({ block: "center" });
      return;
    }
    threadScroll.scrollTop = threadScroll.scrollHeight;
  }

  /** The countdown of the open conversation's next due time, after its status. */
  function showSlaClock(conversation) {
    const header = document.querySelector("#thread-header");
    if (!header || Number(header.dataset.conversationId) !== conversation.id) return;
    header.querySelector('[data-field="sla"]')?.remove();
    const clock = slaClock(conversation);
    if (clock) header.querySelector('[data-field="status"]').after(element(html`<span class="thread-sla" data-field="sla">${clock}</span>`));
  }

  function applyHeaderState(conversation) {
    const header = document.querySelector("#thread-header");
    if (!header || Number(header.dataset.conversationId) !== conversation.id) return;
    showSlaClock(conversation);
    header.dataset.status = conversation.status;
    header.dataset.assigned = !conversation.assignee ? "none" : conversation.assignee.id === me.id ? "me" : "other";
    const status = header.querySelector('[data-field="status"]');
    status.className = `status-chip status-${conversation.status}`;
    status.textContent = statuses[conversation.status] || conversation.status;
    header.querySelector('[data-field="assignee"]').textContent = conversation.assignee
      ? format(gettext("Assigned to %(name)s"), { name: conversation.assignee.name })
      : gettext("Unassigned");
    header.querySelector('[data-field="snoozed"]')?.remove();
    if (conversation.status === "snoozed" && conversation.snoozed_until) {
      header
        .querySelector(".thread-subtitle")
        .append(
          element(
            html`<span class="thread-snoozed" data-field="snoozed">${htmlFormat(gettext("Snoozed until %(time)s"), {
              time: html`<time datetime="${conversation.snoozed_until}">${clock(conversation.snoozed_until)}</time>`,
            })}</span>`,
          ),
        );
    }
    header.querySelector("#priority-select").value = conversation.priority;
    const chosenLabels = new Set((conversation.labels || []).map((label) => label.id));
    const chips = header.querySelector('[data-field="labels"]');
    chips.replaceChildren(...labelChips(conversation.labels).map(element));
    for (const box of header.querySelectorAll("input[data-label-toggle]")) box.checked = chosenLabels.has(Number(box.value));
  }

  function replaceMessage(message) {
    const existing = document.getElementById(`message-${message.id}`);
    if (!existing || isStale(existing, message)) return;
    existing.replaceWith(element(messageItem(message, { customer: openConversation.customer })));
  }

  function appendMessage(message) {
    noteLiveChange(message.conversation_id);
    if (document.getElementById(`message-${message.id}`)) {
      replaceMessage(message);
      return;
    }
    const stickToBottom = isNearBottom();
    thread.querySelector(".thread-notice:only-child")?.remove();
    const node = element(messageItem(message, { customer: openConversation.customer }));
    thread.append(node);
    if (stickToBottom || message.author?.id === me.id) scrollToBottom();
  }

  function onMessageUpdated(event) {
    noteLiveChange(event.conversation_id);
    if (openConversation?.id === event.conversation_id) replaceMessage(event.message);
  }

  function onConversationEvent(event) {
    noteLiveChange(event.conversation_id);
    if (!openConversation || event.conversation_id !== openConversation.id) return;
    if (document.getElementById(`event-${event.event.id}`)) return;
    const stickToBottom = isNearBottom();
    thread.querySelector(".thread-notice:only-child")?.remove();
    thread.append(element(eventItem(event.event)));
    if (stickToBottom) scrollToBottom();
  }

  /** Take in a change of the open conversation; false when it is not the open one. */
  function update(conversation) {
    noteLiveChange(conversation.id);
    if (openConversation?.id !== conversation.id) return false;
    openConversation = { ...openConversation, ...conversation };
    applyHeaderState(conversation);
    return true;
  }

  function showPane(pane) {
    headerSlot.innerHTML = pane.header_html; // rendered (and escaped) by the server
    showSlaClock(pane.conversation);
    thread.innerHTML = pane.thread_html;
    profile.innerHTML = pane.profile_html;
    localizeTimes(threadBody);
    localizeTimes(profile);
  }

  /**
   * Fetch and show a conversation. `onShown(previous)` runs once it is shown, before it
   * scrolls to its latest message; false when it failed or another was chosen meanwhile.
   */
  async function open(id, { onShown }) {
    const token = ++openToken;
    threadPane.setAttribute("aria-busy", "true");
    let pane;
    try {
      pane = await fetchPane(id);
    } catch (error) {
      if (token === openToken) threadPane.setAttribute("aria-busy", "false");
      showToast(
        error.status === 404 ? gettext("That conversation is not available.") : gettext("Could not open the conversation."),
        { isError: true },
      );
      return false;
    }
    if (token !== openToken) return false; // another conversation was chosen meanwhile
    const previous = openConversation;
    openConversation = pane.conversation;
    threadEmpty.hidden = true;
    threadBody.hidden = false;
    showPane(pane);
    threadPane.setAttribute("aria-busy", "false");
    onShown(previous);
    scrollToBottom();
    return true;
  }

  async function refresh() {
    if (!openConversation) return;
    const id = openConversation.id;
    const stickToBottom = isNearBottom();
    try {
      const pane = await fetchPane(id);
      if (openConversation?.id !== id) return;
      openConversation = pane.conversation;
      showPane(pane);
      onRefreshed();
      if (stickToBottom) scrollToBottom();
    } catch {
      // Stays as it is until the next reconnect.
    }
  }

  profile.addEventListener("click", (event) => {
    const link = event.target.closest("[data-open-conversation]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    onChoose(Number(link.dataset.openConversation));
  });

  headerSlot.addEventListener("click", (event) => {
    if (event.target.closest("#back-button")) onBack();
  });

  thread.addEventListener("click", async (event) => {
    const emailPart = event.target.closest("button[data-toggle-quoted], button[data-toggle-original]");
    if (emailPart) {
      toggleEmailPart(emailPart);
      return;
    }
    const button = event.target.closest("button[data-retry]");
    if (!button || !openConversation) return;
    button.disabled = true;
    try {
      replaceMessage(
        await api.post(`/api/v1/conversations/${openConversation.id}/messages/${button.dataset.retry}/retry/`),
      );
    } catch (error) {
      button.disabled = false;
      showToast(format(gettext("Retry failed: %(reason)s"), { reason: error.message }), { isError: true });
    }
  });

  return {
    header: headerSlot,
    profile,
    current: () => openConversation,
    open,
    refresh,
    update,
    noteLiveChange,
    appendMessage,
    onMessageUpdated,
    onConversationEvent,
  };
}
