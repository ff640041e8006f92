// The operator inbox page: the server renders the frame and sends the first page of the
// list as data; this module renders the list, fetches the counts and opens conversations
// (their fragment from the server), keeps everything live (websocket events) and writes
// through the REST API.

import { api } from "./api.js";
import { setupCannedResponses } from "./canned.js";
import { setupComposerFiles } from "./composer_files.js";
import { element, html } from "./dom.js";
import { clock, localizeTimes, refreshAges } from "./format.js";
import { LiveConnection } from "./live.js";
import { setupMerge } from "./merge.js";
import { conversationItem, eventItem, labelChips, messageItem, toast, toggleEmailPart } from "./render.js";

const data = JSON.parse(document.getElementById("inbox-data").textContent);
const me = data.user;
const view = data.view;

const $ = (selector) => document.querySelector(selector);
const list = $("#conversation-list");
const listEmpty = $("#list-empty");
const loadMoreButton = $("#load-more");
const threadPane = $("#thread");
const threadEmpty = $("#thread-empty");
const threadBody = $("#thread-body");
const headerSlot = $("#conversation-header");
const threadScroll = $("#thread-scroll");
const thread = $("#thread-messages");
const profile = $("#customer-profile");
const typingIndicator = $("#typing-indicator");
const composer = $("#composer");
const replyBody = $("#reply-body");
const sendButton = $("#send-button");
const composerChannel = $("#composer-channel");
const liveStatus = $("#live-status");
const toasts = $("#toasts");
const listPane = $(".pane-list");
const searchForm = $("#search-form");
const searchInput = $("#search-input");
const searchStatus = $("#search-status");
const presenceSelect = $("#presence-select");
const teamOnline = $("#team-online");

const SEARCH_DELAY_MS = 250;
const TYPING_SEND_EVERY_MS = 2500;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOWN_MS = 7000;
const UNREAD_KEY = "switchboard.unread";

const PRESENCE_KEY = "switchboard.presence";
const PRESENCE_LABELS = { online: "Online", away: "Away", offline: "Offline" };

const items = new Map(data.items.map((item) => [item.id, item]));
// Operators online or away, by id: loaded on (re)connect, then kept by presence events.
const presence = new Map();
// What the operator chose in the header; "online" lets a hidden tab show as away.
let chosenPresence = sessionStorage.getItem(PRESENCE_KEY) || "online";
const unread = new Map(JSON.parse(sessionStorage.getItem(UNREAD_KEY) || "[]"));
const drafts = new Map();
const typingOperators = new Map();
const latestMessage = new Map();
const fetching = new Set();
let openConversation = null;
let openToken = 0;
// While it is not empty the list shows search results rather than the view.
let searchText = "";
let searchToken = 0;

// ---- helpers ----------------------------------------------------------------------

function showToast(text, options) {
  const node = element(toast(text, options));
  toasts.append(node);
  setTimeout(() => node.remove(), 4000);
}

function conversationHref(id) {
  return `?${data.query}&conversation=${id}`;
}

function matchesView(conversation) {
  if (conversation.status !== view.status) return false;
  if (view.channel_id && conversation.channel.id !== view.channel_id) return false;
  if (view.label_id && !(conversation.labels || []).some((label) => label.id === view.label_id)) return false;
  if (view.name === "mine") return conversation.assignee?.id === me.id;
  if (view.name === "unassigned") return !conversation.assignee;
  if (view.name === "team") return conversation.team?.id === view.team_id;
  return true;
}

function isNewer(a, b) {
  const timeA = a.last_message_at ? Date.parse(a.last_message_at) : Infinity;
  const timeB = b.last_message_at ? Date.parse(b.last_message_at) : Infinity;
  return timeA !== timeB ? timeA > timeB : a.id > b.id;
}

function itemNode(id) {
  return list.querySelector(`[data-conversation-id="${id}"]`);
}

function renderItem(item) {
  return withPresence(element(
    conversationItem(searchText ? item : { ...item, snippet: null }, {
      href: conversationHref(item.id),
      isSelected: openConversation?.id === item.id,
      unread: unread.get(item.id) || 0,
      channelKinds: data.channel_kinds,
      priorities: data.priorities,
      searchText,
    }),
  ));
}

function saveUnread() {
  sessionStorage.setItem(UNREAD_KEY, JSON.stringify([...unread]));
  const total = [...unread.values()].reduce((sum, count) => sum + count, 0);
  document.title = `${total ? `(${total}) ` : ""}Inbox · Switchboard`;
}

function updateEmptyState() {
  listEmpty.hidden = list.children.length > 0;
}

/** Put the item where the list's order says, or take it out if it left this view. */
function placeItem(item) {
  items.set(item.id, item);
  const existing = itemNode(item.id);
  if (searchText) {
    // Results stay as they were found; only what they show is kept current.
    if (existing) existing.replaceWith(renderItem(item));
    return;
  }
  if (!matchesView(item)) {
    existing?.remove();
    updateEmptyState();
    return;
  }
  const node = renderItem(item);
  existing?.remove();
  const before = [...list.children].find((child) => {
    const other = items.get(Number(child.dataset.conversationId));
    return other && isNewer(item, other);
  });
  if (before) list.insertBefore(node, before);
  else if (!loadMoreButton.dataset.cursor) list.append(node);
  // Otherwise it belongs further down than what is loaded: "load more" will bring it.
  updateEmptyState();
}

function rerenderItem(id) {
  const node = itemNode(id);
  const item = items.get(id);
  if (node && item) node.replaceWith(renderItem(item));
}

function markSelected(id) {
  for (const node of list.querySelectorAll(".conversation-item.is-selected")) {
    node.classList.remove("is-selected");
    node.querySelector(".conversation-link").removeAttribute("aria-current");
  }
  const node = itemNode(id);
  if (node) {
    node.classList.add("is-selected");
    node.querySelector(".conversation-link").setAttribute("aria-current", "true");
  }
}

// ---- counts -------------------------------------------------------------------------

function applyCounts(counts) {
  for (const node of document.querySelectorAll("[data-count-status]")) {
    const value = counts.statuses[node.dataset.countStatus];
    node.textContent = value === undefined ? "" : String(value);
  }
  for (const node of document.querySelectorAll("[data-count-view]")) {
    const value = counts.views[node.dataset.countView];
    node.textContent = value === undefined ? "" : String(value);
  }
}

async function refreshCounts() {
  try {
    applyCounts(await api.get(`/inbox/counts/?${data.query}`));
  } catch {
    // The next change or reconnect refreshes them.
  }
}

let countsTimer;
function refreshCountsSoon() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(refreshCounts, 700);
}

// ---- the open conversation ----------------------------------------------------------

function isNearBottom() {
  return threadScroll.scrollHeight - threadScroll.scrollTop - threadScroll.clientHeight < 80;
}

const phoneLayout = window.matchMedia("(max-width: 760px)");

function scrollToBottom() {
  if (phoneLayout.matches) {
    // On a phone the page itself scrolls: bring the latest message into view.
    thread.lastElementChild?.scrollIntoView({ block: "center" });
    return;
  }
  threadScroll.scrollTop = threadScroll.scrollHeight;
}

function applyHeaderState(conversation) {
  const header = $("#thread-header");
  if (!header || Number(header.dataset.conversationId) !== conversation.id) return;
  header.dataset.status = conversation.status;
  header.dataset.assigned = !conversation.assignee ? "none" : conversation.assignee.id === me.id ? "me" : "other";
  const status = header.querySelector('[data-field="status"]');
  status.className = `status-chip status-${conversation.status}`;
  status.textContent = data.statuses[conversation.status] || conversation.status;
  header.querySelector('[data-field="assignee"]').textContent = conversation.assignee
    ? `Assigned to ${conversation.assignee.name}`
    : "Unassigned";
  header.querySelector('[data-field="snoozed"]')?.remove();
  if (conversation.status === "snoozed" && conversation.snoozed_until) {
    header
      .querySelector(".thread-subtitle")
      .append(
        element(
          html`<span class="thread-snoozed" data-field="snoozed">Snoozed until <time datetime="${conversation.snoozed_until}">${clock(conversation.snoozed_until)}</time></span>`,
        ),
      );
  }
  header.querySelector("#priority-select").value = conversation.priority;
  const chosenLabels = new Set((conversation.labels || []).map((label) => label.id));
  const chips = header.querySelector('[data-field="labels"]');
  chips.replaceChildren(...labelChips(conversation.labels).map(element));
  for (const box of header.querySelectorAll("input[data-label-toggle]")) box.checked = chosenLabels.has(Number(box.value));
}

function appendMessage(message) {
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

function onConversationEvent(event) {
  if (!openConversation || event.conversation_id !== openConversation.id) return;
  if (document.getElementById(`event-${event.event.id}`)) return;
  const stickToBottom = isNearBottom();
  thread.querySelector(".thread-notice:only-child")?.remove();
  thread.append(element(eventItem(event.event)));
  if (stickToBottom) scrollToBottom();
}

// Delivery only moves forward; an older copy (the reply's own response, an event that
// arrived late) must not turn a sent tick back into a clock. Failed is not ranked: a
// retry legitimately takes a failed message back to queued.
const DELIVERY_ORDER = ["queued", "sent", "delivered", "read"];

function isStale(existing, message) {
  const before = DELIVERY_ORDER.indexOf(existing.dataset.status);
  const after = DELIVERY_ORDER.indexOf(message.status);
  return before !== -1 && after !== -1 && after < before;
}

function replaceMessage(message) {
  const existing = document.getElementById(`message-${message.id}`);
  if (!existing || isStale(existing, message)) return;
  existing.replaceWith(element(messageItem(message, { customer: openConversation.customer })));
}

function setComposerFor(conversation) {
  const isNote = composer.dataset.mode === "note";
  replyBody.placeholder = isNote
    ? "Write a private note: only your team sees it…"
    : `Reply on ${conversation.channel.name}…`;
  composerChannel.textContent = isNote ? "Private note" : `Sends on ${conversation.channel.name}`;
  $("#reply-label").textContent = isNote ? "Private note" : "Reply";
}

function setComposerMode(mode) {
  composer.dataset.mode = mode;
  composer.querySelector(`input[name="mode"][value="${mode}"]`).checked = true;
  sendButton.textContent = mode === "note" ? "Add note" : "Send";
  if (openConversation) setComposerFor(openConversation);
}

function showPane(pane) {
  headerSlot.innerHTML = pane.header_html; // rendered (and escaped) by the server
  thread.innerHTML = pane.thread_html;
  profile.innerHTML = pane.profile_html;
  localizeTimes(threadBody);
  localizeTimes(profile);
}

async function selectConversation(id, { pushHistory = true, focusReply = false, reveal = true } = {}) {
  const token = ++openToken;
  markSelected(id);
  // At phone width the open conversation takes the screen from the list.
  if (reveal) document.body.classList.add("is-conversation-open");
  threadPane.setAttribute("aria-busy", "true");
  let pane;
  try {
    pane = await api.get(`/inbox/conversations/${id}/`);
  } catch (error) {
    if (token === openToken) threadPane.setAttribute("aria-busy", "false");
    showToast(error.status === 404 ? "That conversation is not available." : "Could not open the conversation.", {
      isError: true,
    });
    return;
  }
  if (token !== openToken) return; // another conversation was chosen meanwhile
  if (openConversation) {
    stopTyping();
    drafts.set(openConversation.id, { text: replyBody.value, mode: composer.dataset.mode });
  }
  openConversation = pane.conversation;
  threadEmpty.hidden = true;
  threadBody.hidden = false;
  showPane(pane);
  threadPane.setAttribute("aria-busy", "false");
  cannedResponses.close();
  composerFiles.clear();
  clearViewers();
  announceViewing();
  const draft = drafts.get(id) || { text: "", mode: "reply" };
  replyBody.value = draft.text;
  setComposerMode(draft.mode);
  clearTypingIndicator();
  scrollToBottom();
  if (unread.delete(id)) {
    saveUnread();
    rerenderItem(id);
  }
  if (pushHistory) history.pushState({ conversation: id }, "", conversationHref(id));
  if (focusReply) replyBody.focus();
}

async function refreshOpenConversation() {
  if (!openConversation) return;
  const id = openConversation.id;
  const stickToBottom = isNearBottom();
  try {
    const pane = await api.get(`/inbox/conversations/${id}/`);
    if (openConversation?.id !== id) return;
    openConversation = pane.conversation;
    showPane(pane);
    renderViewers();
    if (stickToBottom) scrollToBottom();
  } catch {
    // Stays as it is until the next reconnect.
  }
}

// ---- list paging and catching up ----------------------------------------------------

async function loadMore() {
  const cursor = loadMoreButton.dataset.cursor;
  if (!cursor) return;
  loadMoreButton.disabled = true;
  try {
    const page = await api.get(`/inbox/list/?${data.query}&after=${encodeURIComponent(cursor)}`);
    for (const item of page.items) {
      items.set(item.id, item);
      if (!itemNode(item.id) && matchesView(item)) list.append(renderItem(item));
    }
    loadMoreButton.dataset.cursor = page.next || "";
    loadMoreButton.hidden = !page.next;
    updateEmptyState();
  } catch {
    showToast("Could not load more conversations.", { isError: true });
  } finally {
    loadMoreButton.disabled = false;
  }
}

async function catchUp() {
  if (searchText) {
    await runSearch(searchText);
    await refreshOpenConversation();
    return;
  }
  try {
    const page = await api.get(`/inbox/list/?${data.query}`);
    list.replaceChildren();
    for (const item of page.items) {
      items.set(item.id, item);
      list.append(renderItem(item));
    }
    loadMoreButton.dataset.cursor = page.next || "";
    loadMoreButton.hidden = !page.next;
    updateEmptyState();
    applyCounts(page.counts);
  } catch {
    showToast("Could not refresh the list.", { isError: true });
  }
  await refreshOpenConversation();
}

// ---- search -------------------------------------------------------------------------

async function runSearch(text) {
  const token = ++searchToken;
  let result;
  try {
    result = await api.get(`/inbox/search/?q=${encodeURIComponent(text)}`);
  } catch {
    if (token === searchToken) showToast("Search failed.", { isError: true });
    return;
  }
  if (token !== searchToken) return; // a newer search was started meanwhile
  searchText = text;
  listPane.classList.add("is-searching");
  list.replaceChildren();
  for (const item of result.items) {
    items.set(item.id, item);
    list.append(renderItem(item));
  }
  loadMoreButton.hidden = true;
  searchStatus.hidden = false;
  searchStatus.textContent = !result.items.length
    ? `No conversations match “${text}”.`
    : `${result.items.length}${result.items.length >= 50 ? "+" : ""} conversation${result.items.length === 1 ? "" : "s"} matching “${text}”`;
  listEmpty.hidden = true;
}

async function endSearch() {
  ++searchToken;
  if (!searchText) return;
  searchText = "";
  listPane.classList.remove("is-searching");
  searchStatus.hidden = true;
  await catchUp();
}

let searchTimer;
function searchSoon() {
  clearTimeout(searchTimer);
  const text = searchInput.value.trim();
  searchTimer = setTimeout(() => (text ? runSearch(text) : endSearch()), SEARCH_DELAY_MS);
}

// ---- presence -----------------------------------------------------------------------

function presenceOf(operatorId) {
  return presence.get(operatorId)?.status || "offline";
}

/** Mark every assignee inside `root` with their presence (styled as a dot). */
function withPresence(root) {
  const nodes = root.matches?.("[data-operator-id]") ? [root] : [];
  for (const node of [...nodes, ...root.querySelectorAll("[data-operator-id]")]) {
    const status = presenceOf(Number(node.dataset.operatorId));
    node.dataset.presence = status;
    node.title = `${PRESENCE_LABELS[status]}`;
  }
  return root;
}

function renderPresence() {
  const others = [...presence.values()].filter((entry) => entry.operator.id !== me.id);
  teamOnline.replaceChildren(
    ...others.map((entry) =>
      element(
        html`<li data-presence="${entry.status}" title="${entry.operator.name}: ${PRESENCE_LABELS[entry.status] || entry.status}"><span class="presence-dot" aria-hidden="true"></span>${entry.operator.name}</li>`,
      ),
    ),
  );
  teamOnline.hidden = !others.length;
  withPresence(list);
  withPresence(headerSlot);
}

function onPresence(event) {
  if (!event.operator?.id) return;
  if (event.status === "offline") presence.delete(event.operator.id);
  else presence.set(event.operator.id, { operator: event.operator, status: event.status });
  renderPresence();
}

async function loadPresence() {
  try {
    const answer = await api.get("/inbox/presence/");
    presence.clear();
    for (const entry of answer.operators) presence.set(entry.operator.id, entry);
    renderPresence();
  } catch {
    // Events keep it roughly right until the next reconnect.
  }
}

function sendPresence(status) {
  live.send({ type: "presence", status });
}

// ---- live events --------------------------------------------------------------------

async function fetchUnknownConversation(id) {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    const conversation = await api.get(`/api/v1/conversations/${id}/`);
    if (!items.has(id) || !itemNode(id)) onConversationChanged(conversation);
  } catch {
    // Not visible to us, or gone.
  } finally {
    fetching.delete(id);
  }
}

function withLatestMessage(item) {
  const message = latestMessage.get(item.id);
  if (!message || message.private) return item;
  const next = { ...item, preview: message.body.slice(0, 160), preview_direction: message.direction };
  if (message.direction === "in") next.waiting_since = item.waiting_since || message.created_at;
  else next.waiting_since = null;
  return next;
}

function onMessageCreated(event) {
  const message = event.message;
  const id = event.conversation_id;
  if (!message.private) latestMessage.set(id, message);
  const isOpen = openConversation?.id === id;
  if (isOpen) {
    appendMessage(message);
    if (message.author) hideTyping(message.author.id);
  }
  if (message.direction === "in" && (!isOpen || document.hidden)) {
    unread.set(id, (unread.get(id) || 0) + 1);
    saveUnread();
  }
  const item = items.get(id);
  if (!item) {
    fetchUnknownConversation(id);
    return;
  }
  const next = withLatestMessage(item);
  if (!message.private) next.last_message_at = message.created_at;
  placeItem(next);
}

function onMessageUpdated(event) {
  if (openConversation?.id === event.conversation_id) replaceMessage(event.message);
}

function onConversationChanged(conversation) {
  const known = items.get(conversation.id);
  const item = withLatestMessage({
    preview: null,
    preview_direction: null,
    waiting_since: null,
    ...known,
    ...conversation,
  });
  placeItem(item);
  if (openConversation?.id === conversation.id) {
    openConversation = { ...openConversation, ...conversation };
    applyHeaderState(conversation);
    markSelected(conversation.id);
  }
  refreshCountsSoon();
}

function clearTypingIndicator() {
  for (const entry of typingOperators.values()) clearTimeout(entry.timer);
  typingOperators.clear();
  renderTyping();
}

function renderTyping() {
  const names = [...typingOperators.values()].map((entry) => entry.name);
  typingIndicator.textContent = !names.length
    ? ""
    : names.length === 1
      ? `${names[0]} is typing…`
      : `${names.join(", ")} are typing…`;
}

function hideTyping(operatorId) {
  const entry = typingOperators.get(operatorId);
  if (!entry) return;
  clearTimeout(entry.timer);
  typingOperators.delete(operatorId);
  renderTyping();
}

function onTyping(event) {
  if (event.operator?.id === me.id || openConversation?.id !== event.conversation_id) return;
  hideTyping(event.operator.id);
  if (event.is_typing) {
    const timer = setTimeout(() => hideTyping(event.operator.id), TYPING_SHOWN_MS);
    typingOperators.set(event.operator.id, { name: event.operator.name, timer });
    renderTyping();
  }
}

function onEvent(event) {
  switch (event.type) {
    case "message.created":
      onMessageCreated(event);
      break;
    case "message.updated":
      onMessageUpdated(event);
      break;
    case "conversation.created":
    case "conversation.updated":
      onConversationChanged(event.conversation);
      break;
    case "conversation.event":
      onConversationEvent(event);
      break;
    case "typing":
      onTyping(event);
      break;
    case "presence":
      onPresence(event);
      break;
    case "viewing":
      onViewing(event);
      break;
    default:
      break;
  }
}

const live = new LiveConnection({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`,
  onEvent,
  onReconnect: catchUp,
  onState(state) {
    liveStatus.dataset.state = state;
    liveStatus.textContent = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…" }[state];
    if (state === "live") {
      // The server counts a new connection as online: restate a different choice.
      if (chosenPresence !== "online") sendPresence(chosenPresence);
      else if (document.hidden) sendPresence("away");
      loadPresence();
      announceViewing();
    }
  },
});

// ---- who else has the conversation open ----------------------------------------------

// Pages repeat "viewing" while a conversation stays open and forget a viewer not heard
// from for a minute (a closed laptop sends no goodbye).
const VIEWING_REPEAT_MS = 25000;
const VIEWING_FORGOTTEN_MS = 60000;
const viewers = new Map();

function announceViewing(isViewing = true) {
  if (!openConversation) return;
  live.send({ type: "viewing", conversation_id: openConversation.id, is_viewing: isViewing && !document.hidden });
}

function renderViewers() {
  const slot = headerSlot.querySelector('[data-field="viewing"]');
  if (!slot) return;
  const names = [...viewers.values()].map((viewer) => viewer.name);
  slot.textContent = !names.length
    ? ""
    : names.length === 1
      ? `${names[0]} is viewing`
      : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are viewing`;
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
  if (!event.is_viewing || openConversation?.id !== event.conversation_id) {
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

setInterval(() => announceViewing(), VIEWING_REPEAT_MS);

// ---- typing (ours) ------------------------------------------------------------------

let typingSentAt = 0;
let typingConversation = null;
let typingIdleTimer;

function sendTyping(isTyping) {
  if (!typingConversation) return;
  live.send({
    type: "typing",
    conversation_id: typingConversation,
    is_typing: isTyping,
    is_private_note: composer.dataset.mode === "note",
  });
}

function noteTyping() {
  if (!openConversation || !replyBody.value.trim()) {
    stopTyping();
    return;
  }
  if (typingConversation !== openConversation.id) {
    stopTyping();
    typingConversation = openConversation.id;
  }
  const now = Date.now();
  if (now - typingSentAt > TYPING_SEND_EVERY_MS) {
    typingSentAt = now;
    sendTyping(true);
  }
  clearTimeout(typingIdleTimer);
  typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingIdleTimer);
  if (typingConversation && typingSentAt) sendTyping(false);
  typingSentAt = 0;
  typingConversation = null;
}

// ---- writes -------------------------------------------------------------------------

async function sendReply() {
  if (!openConversation || sendButton.disabled) return;
  const body = replyBody.value;
  const files = composerFiles.files();
  if (!body.trim() && !files.length) {
    replyBody.focus();
    return;
  }
  const conversationId = openConversation.id;
  const url = `/api/v1/conversations/${conversationId}/messages/`;
  const isPrivate = composer.dataset.mode === "note";
  sendButton.disabled = true;
  try {
    let message;
    if (files.length) {
      const form = new FormData();
      form.append("body", body);
      form.append("private", isPrivate ? "true" : "false");
      for (const file of files) form.append("files", file, file.name);
      message = await api.postForm(url, form);
    } else {
      message = await api.post(url, { body, private: isPrivate });
    }
    stopTyping();
    if (openConversation?.id === conversationId) {
      replyBody.value = "";
      composerFiles.clear();
      appendMessage(message);
    }
    drafts.delete(conversationId);
  } catch (error) {
    showToast(`Not sent: ${error.message}`, { isError: true });
  } finally {
    sendButton.disabled = false;
  }
}

function tomorrowMorning() {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  date.setHours(9, 0, 0, 0);
  return date;
}

async function conversationAction(action, argument) {
  if (!openConversation) return;
  const base = `/api/v1/conversations/${openConversation.id}`;
  const calls = {
    "assign-me": () => api.post(`${base}/assign/`, { operator: me.id }),
    unassign: () => api.post(`${base}/assign/`, { operator: null }),
    resolve: () => api.post(`${base}/resolve/`),
    reopen: () => api.post(`${base}/reopen/`),
    snooze: () =>
      api.post(`${base}/snooze/`, {
        until: (argument === "tomorrow" ? tomorrowMorning() : new Date(Date.now() + 3600 * 1000)).toISOString(),
      }),
    priority: () => api.patch(`${base}/`, { priority: argument }),
    labels: () => api.post(`${base}/labels/`, { labels: argument }),
  };
  if (!calls[action]) return;
  try {
    onConversationChanged(await calls[action]());
    if (action === "resolve") showToast("Conversation resolved.");
    if (action === "snooze") showToast("Conversation snoozed.");
  } catch (error) {
    showToast(error.message, { isError: true });
  }
}

// ---- wiring -------------------------------------------------------------------------

list.addEventListener("click", (event) => {
  const link = event.target.closest(".conversation-link");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  selectConversation(Number(link.closest(".conversation-item").dataset.conversationId));
});

profile.addEventListener("click", (event) => {
  const link = event.target.closest("[data-open-conversation]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  selectConversation(Number(link.dataset.openConversation));
});

headerSlot.addEventListener("click", (event) => {
  if (event.target.closest("#back-button")) {
    document.body.classList.remove("is-conversation-open");
    history.pushState({}, "", `?${data.query}`);
    return;
  }
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  button.closest("details")?.removeAttribute("open");
  conversationAction(button.dataset.action, button.dataset.snooze);
});

headerSlot.addEventListener("change", (event) => {
  if (event.target.matches("select[data-action='priority']")) conversationAction("priority", event.target.value);
  if (event.target.matches("input[data-label-toggle]")) {
    const chosen = [...headerSlot.querySelectorAll("input[data-label-toggle]:checked")].map((box) => Number(box.value));
    conversationAction("labels", chosen);
  }
});

document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
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
    showToast(`Retry failed: ${error.message}`, { isError: true });
  }
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendReply();
});

composer.addEventListener("change", (event) => {
  if (event.target.name === "mode") setComposerMode(event.target.value);
});

const composerFiles = setupComposerFiles({
  composer,
  input: $("#reply-files"),
  button: $("#attach-button"),
  chipList: $("#reply-file-chips"),
  showToast,
});

const cannedResponses = setupCannedResponses({
  textarea: replyBody,
  listbox: $("#canned-list"),
  context: () => ({ customerName: openConversation?.customer?.name, operatorName: me.name }),
  showToast,
});

replyBody.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    sendReply();
  } else if (event.key === "Escape") {
    replyBody.blur();
  }
});
replyBody.addEventListener("input", noteTyping);
replyBody.addEventListener("blur", stopTyping);

loadMoreButton.addEventListener("click", loadMore);

presenceSelect.value = chosenPresence;
presenceSelect.dataset.presence = chosenPresence;
presenceSelect.addEventListener("change", () => {
  chosenPresence = presenceSelect.value;
  presenceSelect.dataset.presence = chosenPresence;
  sessionStorage.setItem(PRESENCE_KEY, chosenPresence);
  sendPresence(chosenPresence);
});

setupMerge({ profile, onChanged: refreshOpenConversation, showToast });

searchInput.addEventListener("input", searchSoon);
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  const text = searchInput.value.trim();
  if (text) runSearch(text);
  else endSearch();
});
searchInput.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  clearTimeout(searchTimer);
  searchInput.value = "";
  searchInput.blur();
  endSearch();
});

$("#channel-filter").addEventListener("change", () => $("#channel-filter-form").requestSubmit());
$("#label-filter")?.addEventListener("change", () => $("#channel-filter-form").requestSubmit());

window.addEventListener("popstate", () => {
  const id = Number(new URLSearchParams(location.search).get("conversation"));
  if (id) selectConversation(id, { pushHistory: false });
  else document.body.classList.remove("is-conversation-open");
});

function openLabelMenu() {
  const menu = headerSlot.querySelector('details[data-menu="labels"]');
  if (!menu) return;
  menu.open = true;
  (menu.querySelector("input[data-label-toggle]") || menu.querySelector("summary")).focus();
}

headerSlot.addEventListener("keydown", (event) => {
  const menu = event.target.closest("details.menu[open]");
  if (event.key !== "Escape" || !menu) return;
  menu.removeAttribute("open");
  menu.querySelector("summary").focus();
});

function isTypingTarget(target) {
  return target.closest("input, textarea, select, [contenteditable='true'], [contenteditable='']");
}

function moveSelection(step) {
  const nodes = [...list.querySelectorAll(".conversation-item")];
  if (!nodes.length) return;
  const current = nodes.findIndex((node) => Number(node.dataset.conversationId) === openConversation?.id);
  const index = current === -1 ? 0 : Math.min(Math.max(current + step, 0), nodes.length - 1);
  const node = nodes[index];
  node.scrollIntoView({ block: "nearest" });
  selectConversation(Number(node.dataset.conversationId));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
  if (document.querySelector("dialog[open]")) return;
  if (event.key === "/") searchInput.focus();
  else if (event.key === "j") moveSelection(1);
  else if (event.key === "k") moveSelection(-1);
  else if (event.key === "r" && openConversation) {
    event.preventDefault();
    replyBody.focus();
  } else if (event.key === "e" && openConversation && openConversation.status !== "resolved") {
    conversationAction("resolve");
  } else if (event.key === "l" && openConversation) {
    openLabelMenu();
  } else return;
  event.preventDefault();
});

document.addEventListener("visibilitychange", () => {
  if (chosenPresence === "online") sendPresence(document.hidden ? "away" : "online");
  announceViewing();
  if (!document.hidden && openConversation && unread.delete(openConversation.id)) {
    saveUnread();
    rerenderItem(openConversation.id);
  }
});

// ---- start --------------------------------------------------------------------------

for (const item of data.items) list.append(renderItem(item));
saveUnread();
refreshCounts();
localizeTimes(document);
// The conversation in the address, else (unless the list takes the whole screen) the
// first of the list.
const firstOpen = data.conversation_id ?? (phoneLayout.matches ? null : data.items[0]?.id);
if (firstOpen) selectConversation(firstOpen, { pushHistory: false, reveal: data.conversation_id !== null });
setInterval(() => refreshAges(list), 30000);
live.start();
