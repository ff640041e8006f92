// "… is typing" both ways: colleagues typing in the open conversation show under its
// thread; our own typing in the reply box is told to them while it lasts (and to a
// website-chat customer when it is a reply, not a private note: the server decides).

import { format, listOf } from "./i18n.js";

const TYPING_SEND_EVERY_MS = 2500;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOWN_MS = 7000;

/** `openConversation()` is the open conversation; `isPrivateNote()` the reply box's mode. */
export function setupTyping({ me, live, openConversation, isPrivateNote }) {
  const typingIndicator = document.getElementById("typing-indicator");

  // Colleagues typing in the open conversation, by operator id.
  const typingOperators = new Map();

  // Ours: the conversation we last said we type in, and when we last said so.
  let typingSentAt = 0;
  let typingConversation = null;
  let typingIdleTimer;

  function renderTyping() {
    const names = [...typingOperators.values()].map((entry) => entry.name);
    typingIndicator.textContent = !names.length
      ? ""
      : names.length === 1
        ? format(gettext("%(name)s is typing…"), { name: names[0] })
        : format(gettext("%(names)s are typing…"), { names: listOf(names) });
  }

  function hideTyping(operatorId) {
    const entry = typingOperators.get(operatorId);
    if (!entry) return;
    clearTimeout(entry.timer);
    typingOperators.delete(operatorId);
    renderTyping();
  }

  function clearTypingIndicator() {
    for (const entry of typingOperators.values()) clearTimeout(entry.timer);
    typingOperators.clear();
    renderTyping();
  }

  function onTyping(event) {
    if (event.operator?.id === me.id || openConversation()?.id !== event.conversation_id) return;
    hideTyping(event.operator.id);
    if (event.is_typing) {
      const timer = setTimeout(() => hideTyping(event.operator.id), TYPING_SHOWN_MS);
      typingOperators.set(event.operator.id, { name: event.operator.name, timer });
      renderTyping();
    }
  }

  function sendTyping(isTyping) {
    if (!typingConversation) return;
    live.send({
      type: "typing",
      conversation_id: typingConversation,
      is_typing: isTyping,
      is_private_note: isPrivateNote(),
    });
  }

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (typingConversation && typingSentAt) sendTyping(false);
    typingSentAt = 0;
    typingConversation = null;
  }

  /** The reply box now holds `text`: say we type, at most every few seconds, until idle. */
  function noteTyping(text) {
    const conversation = openConversation();
    if (!conversation || !text.trim()) {
      stopTyping();
      return;
    }
    if (typingConversation !== conversation.id) {
      stopTyping();
      typingConversation = conversation.id;
    }
    const now = Date.now();
    if (now - typingSentAt > TYPING_SEND_EVERY_MS) {
      typingSentAt = now;
      sendTyping(true);
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  return {
    onTyping,
    hide: hideTyping,
    clear: clearTypingIndicator,
    noteTyping,
    stop: stopTyping,
  };
}
