// Who else has the open conversation open: the header says "Anna is viewing". Pages
// repeat "viewing" while a conversation stays open and forget a viewer not heard from for
// a minute (a closed laptop sends no goodbye).

import { format, listOf } from "./i18n.js";

const VIEWING_REPEAT_MS = 25000;
const VIEWING_FORGOTTEN_MS = 60000;

/** `header` holds the open conversation's header; `openConversation()` is that conversation. */
export function setupViewing({ me, live, header, openConversation }) {
  // Colleagues viewing the open conversation, by operator id.
  const viewers = new Map();

  function announceViewing() {
    const conversation = openConversation();
    if (!conversation) return;
    live.send({ type: "viewing", conversation_id: conversation.id, is_viewing: !document.hidden });
  }

  function renderViewers() {
    const slot = header.querySelector('[data-field="viewing"]');
    if (!slot) return;
    const names = [...viewers.values()].map((viewer) => viewer.name);
    slot.textContent = !names.length
      ? ""
      : names.length === 1
        ? format(gettext("%(name)s is viewing"), { name: names[0] })
        : format(gettext("%(names)s are viewing"), { names: listOf(names) });
  }

  function forgetViewer(operatorId) {
    const viewer = viewers.get(operatorId);
    if (!viewer) return;
    clearTimeout(viewer.timer);
    viewers.delete(operatorId);
    renderViewers();
  }

  function clearViewers() {
    for (const viewer of viewers.values()) clearTimeout(viewer.timer);
    viewers.clear();
    renderViewers();
  }

  function onViewing(event) {
    const operator = event.operator;
    if (!operator || operator.id === me.id) return;
    if (!event.is_viewing || openConversation()?.id !== event.conversation_id) {
      forgetViewer(operator.id);
      return;
    }
    const isNew = !viewers.has(operator.id);
    clearTimeout(viewers.get(operator.id)?.timer);
    const timer = setTimeout(() => forgetViewer(operator.id), VIEWING_FORGOTTEN_MS);
    viewers.set(operator.id, { name: operator.name, timer });
    renderViewers();
    // Tell the newcomer we are here too, rather than leave them waiting for our next repeat.
    if (isNew) announceViewing();
  }

  /** Another conversation was opened: its viewers are yet to be heard from. */
  function restart() {
    clearViewers();
    announceViewing();
  }

  setInterval(() => announceViewing(), VIEWING_REPEAT_MS);

  return { announce: announceViewing, render: renderViewers, restart, onViewing };
}
