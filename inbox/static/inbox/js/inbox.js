// The operator inbox page. The server renders the frame and sends the first page of the
// list as data; each part of the page is a module that owns its state (the list, search,
// the view menu's counts, the open conversation, the reply box, the header's actions,
// presence, typing, who is viewing, the keys, SLA countdowns and notices, the websocket).
// This module only wires them: opening a conversation, routing live events, catching up
// after a reconnect.

import { setupConversationActions } from "./actions.js";
import { setupBulkActions } from "./bulk_actions.js";
import { setupComposer } from "./composer.js";
import { setupConversationList } from "./conversation_list.js";
import { element } from "./dom.js";
import { localizeTimes } from "./format.js";
import { setupLiveEvents } from "./live_events.js";
import { setupMacroMenu } from "./macros.js";
import { setupMerge } from "./merge.js";
import { setupNotifications } from "./notifications.js";
import { setupPresence } from "./presence.js";
import { toast } from "./render.js";
import { setupSearch } from "./search.js";
import { setupShortcuts } from "./shortcuts.js";
import { startSlaClocks } from "./sla_clock.js";
import { setupSlaNotices } from "./sla_notices.js";
import { setupThread } from "./thread.js";
import { setupTyping } from "./typing.js";
import { setupViewMenu } from "./view_menu.js";
import { setupViewing } from "./viewing.js";

const data = JSON.parse(document.getElementById("inbox-data").textContent);
const me = data.user;
const phoneLayout = window.matchMedia("(max-width: 760px)");
const toasts = document.getElementById("toasts");

function showToast(text, options) {
  const node = element(toast(text, options));
  toasts.append(node);
  setTimeout(() => node.remove(), 4000);
}

function conversationHref(id) {
  return `?${data.query}&conversation=${id}`;
}

// Modules reach those set up after them only from event handlers, which run once all are.
const live = setupLiveEvents();
const list = setupConversationList({
  page: data,
  hrefFor: conversationHref,
  isSelected: (id) => thread.current()?.id === id,
  isChecked: (id) => bulk.isChecked(id),
  markPresence: (root) => presence.mark(root),
  onChoose: (id) => selectConversation(id),
  onFetched: onConversationChanged,
  showToast,
});
const viewMenu = setupViewMenu({ query: data.query });
const search = setupSearch({ list, onEnd: catchUp, showToast });
const thread = setupThread({
  me,
  statuses: data.statuses,
  showToast,
  onChoose: (id) => selectConversation(id),
  onBack: showList,
  onRefreshed: () => viewing.render(),
});
const presence = setupPresence({ me, live, markedRoots: [list.element, thread.header] });
const viewing = setupViewing({ me, live, header: thread.header, openConversation: thread.current });
const typing = setupTyping({ me, live, openConversation: thread.current, isPrivateNote: () => composer.isNote() });
const composer = setupComposer({ me, thread, typing, showToast });
const actions = setupConversationActions({
  me,
  header: thread.header,
  openConversation: thread.current,
  onChanged: onConversationChanged,
  showToast,
});
const bulk = setupBulkActions({ page: data, list, me, onDone: catchUp, showToast });
setupMerge({ profile: thread.profile, onChanged: thread.refresh, showToast });
setupMacroMenu({ header: thread.header, conversationId: () => thread.current()?.id, showToast });
const slaNotices = setupSlaNotices({ onChoose: (id) => selectConversation(id) });
const notifications = setupNotifications({
  me,
  settings: data.notification_settings,
  itemOf: list.item,
  onChoose: (id) => selectConversation(id),
  showToast,
});
setupShortcuts({ list, search, thread, composer, actions, select: selectConversation });

async function selectConversation(id, { pushHistory = true, focusReply = false, reveal = true } = {}) {
  list.markSelected(id);
  // At phone width the open conversation takes the screen from the list.
  if (reveal) document.body.classList.add("is-conversation-open");
  const isOpened = await thread.open(id, {
    onShown(previous) {
      composer.switchConversation(previous, id);
      viewing.restart();
      typing.clear();
    },
  });
  if (!isOpened) return;
  list.markRead(id);
  slaNotices.forget(id);
  if (pushHistory) history.pushState({ conversation: id }, "", conversationHref(id));
  if (focusReply) composer.focus();
}

function showList() {
  document.body.classList.remove("is-conversation-open");
  history.pushState({}, "", `?${data.query}`);
}

function onConversationChanged(conversation) {
  list.onConversationChanged(conversation);
  if (thread.update(conversation)) list.markSelected(conversation.id);
  viewMenu.refreshCountsSoon();
}

function onMessageCreated({ conversation_id: id, message }) {
  thread.noteLiveChange(id);
  const isOpen = thread.current()?.id === id;
  if (isOpen) {
    thread.appendMessage(message);
    if (message.author) typing.hide(message.author.id);
  }
  list.onMessageCreated(id, message, { isSeen: isOpen && !document.hidden });
  notifications.onMessage(id, message);
}

// Events may have been missed while the connection was down: the server has the truth.
async function catchUp() {
  const searchText = list.searchText();
  if (searchText) {
    await search.run(searchText);
  } else {
    const counts = await list.reload();
    if (counts) viewMenu.applyCounts(counts);
  }
  await thread.refresh();
  await notifications.reload();
}

window.addEventListener("popstate", () => {
  const id = Number(new URLSearchParams(location.search).get("conversation"));
  if (id) selectConversation(id, { pushHistory: false });
  else document.body.classList.remove("is-conversation-open");
});

document.addEventListener("visibilitychange", () => {
  presence.onVisibilityChange();
  viewing.announce();
  const open = thread.current();
  if (!document.hidden && open) list.markRead(open.id);
});

// ---- start --------------------------------------------------------------------------

startSlaClocks(data.sla.targets);
list.start();
viewMenu.refreshCounts();
localizeTimes(document);
// The conversation in the address, else (unless the list takes the whole screen) the
// first of the list.
const firstOpen = data.conversation_id ?? (phoneLayout.matches ? null : data.items[0]?.id);
if (firstOpen) selectConversation(firstOpen, { pushHistory: false, reveal: data.conversation_id !== null });
live.start({
  handlers: {
    "message.created": onMessageCreated,
    "message.updated": thread.onMessageUpdated,
    "conversation.created": (event) => onConversationChanged(event.conversation),
    "conversation.updated": (event) => onConversationChanged(event.conversation),
    "conversation.event": thread.onConversationEvent,
    "conversation.sla_due_soon": slaNotices.onDueSoon,
    "notification.created": notifications.onCreated,
    typing: typing.onTyping,
    presence: presence.onPresence,
    viewing: viewing.onViewing,
  },
  onLive() {
    presence.restate();
    viewing.announce();
  },
  onReconnect: catchUp,
});
