// The conversation list: the view's conversations newest first (or, while a search is on,
// its results), paged with "Load more", kept current by live events, with unread counts
// that survive a reload of the tab.

import { api } from "./api.js";
import { element } from "./dom.js";
import { refreshAges } from "./format.js";
import { conversationItem } from "./render.js";
import { isSlaDueSoon } from "./sla_clock.js";

const UNREAD_KEY = "switchboard.unread";
const AGES_EVERY_MS = 30000;

function matchesView(conversation, view, me) {
  if (conversation.status !== view.status) return false;
  if (view.channel_id && conversation.channel.id !== view.channel_id) return false;
  if (view.label_id && !(conversation.labels || []).some((label) => label.id === view.label_id)) return false;
  if (view.name === "mine") return conversation.assignee?.id === me.id;
  if (view.name === "unassigned") return !conversation.assignee;
  if (view.name === "team") return conversation.team?.id === view.team_id;
  if (view.name === "breached") return Boolean(conversation.sla?.breached?.length);
  if (view.name === "due_soon") return isSlaDueSoon(conversation, view.due_soon_minutes);
  return true;
}

function isNewer(a, b) {
  const timeA = a.last_message_at ? Date.parse(a.last_message_at) : Infinity;
  const timeB = b.last_message_at ? Date.parse(b.last_message_at) : Infinity;
  return timeA !== timeB ? timeA > timeB : a.id > b.id;
}

/**
 * `page` is the inbox page's data; `isSelected(id)` says whether a conversation is the
 * open one, `isChecked(id)` whether it is among those chosen for a bulk action, `markPresence(node)` dots its assignee, `onChoose(id)` opens one, and
 * `onFetched(conversation)` takes a conversation a message arrived for before the list
 * knew it.
 */
export function setupConversationList({ page, hrefFor, isSelected, isChecked, markPresence, onChoose, onFetched, showToast }) {
  const list = document.getElementById("conversation-list");
  const listEmpty = document.getElementById("list-empty");
  const loadMoreButton = document.getElementById("load-more");
  const { user: me } = page;
  const view = { ...page.view, due_soon_minutes: page.sla.due_soon_minutes };
  // As the server wrote it, in the operator's language; unread counts go before it.
  const pageTitle = document.title;

  const items = new Map(page.items.map((item) => [item.id, item]));
  const unread = new Map(JSON.parse(sessionStorage.getItem(UNREAD_KEY) || "[]"));
  const latestMessage = new Map();
  const fetching = new Set();
  // While it is not empty the list shows search results rather than the view.
  let searchText = "";

  function itemNode(id) {
    return list.querySelector(`[data-conversation-id="${id}"]`);
  }

  function renderItem(item) {
    return markPresence(
      element(
        conversationItem(searchText ? item : { ...item, snippet: null }, {
          href: hrefFor(item.id),
          isSelected: isSelected(item.id),
          isChecked: isChecked(item.id),
          unread: unread.get(item.id) || 0,
          channelKinds: page.channel_kinds,
          priorities: page.priorities,
          searchText,
        }),
      ),
    );
  }

  function saveUnread() {
    sessionStorage.setItem(UNREAD_KEY, JSON.stringify([...unread]));
    const total = [...unread.values()].reduce((sum, count) => sum + count, 0);
    document.title = `${total ? `(${total}) ` : ""}${pageTitle}`;
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
    if (!matchesView(item, view, me)) {
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

  function markRead(id) {
    if (!unread.delete(id)) return;
    saveUnread();
    rerenderItem(id);
  }

  function fillWith(found) {
    list.replaceChildren();
    for (const item of found) {
      items.set(item.id, item);
      list.append(renderItem(item));
    }
  }

  async function loadMore() {
    const cursor = loadMoreButton.dataset.cursor;
    if (!cursor) return;
    loadMoreButton.disabled = true;
    try {
      const next = await api.get(`/inbox/list/?${page.query}&after=${encodeURIComponent(cursor)}`);
      for (const item of next.items) {
        items.set(item.id, item);
        if (!itemNode(item.id) && matchesView(item, view, me)) list.append(renderItem(item));
      }
      loadMoreButton.dataset.cursor = next.next || "";
      loadMoreButton.hidden = !next.next;
      updateEmptyState();
    } catch {
      showToast(gettext("Could not load more conversations."), { isError: true });
    } finally {
      loadMoreButton.disabled = false;
    }
  }

  /** The view's first page again, as after a reconnect; answers its counts, or null. */
  async function reload() {
    try {
      const first = await api.get(`/inbox/list/?${page.query}`);
      fillWith(first.items);
      loadMoreButton.dataset.cursor = first.next || "";
      loadMoreButton.hidden = !first.next;
      updateEmptyState();
      return first.counts;
    } catch {
      showToast(gettext("Could not refresh the list."), { isError: true });
      return null;
    }
  }

  function showResults(found, text) {
    searchText = text;
    fillWith(found);
    loadMoreButton.hidden = true;
    listEmpty.hidden = true;
  }

  /** The view comes back with the next reload; until then live changes place items as in it. */
  function leaveResults() {
    searchText = "";
  }

  async function fetchUnknownConversation(id) {
    if (fetching.has(id)) return;
    fetching.add(id);
    try {
      const conversation = await api.get(`/api/v1/conversations/${id}/`);
      if (!items.has(id) || !itemNode(id)) onFetched(conversation);
    } catch {
      // Not visible to us, or gone.
    } finally {
      fetching.delete(id);
    }
  }

  function withLatestMessage(item) {
    const message = latestMessage.get(item.id);
    if (!message || message.private) return item;
    const text = [message.body, ...(message.content_items || []).map((content) => content.text)]
      .filter(Boolean)
      .join("\n");
    const next = { ...item, preview: text.slice(0, 160), preview_direction: message.direction };
    if (message.direction === "in") next.waiting_since = item.waiting_since || message.created_at;
    else next.waiting_since = null;
    return next;
  }

  /** `isSeen`: the conversation is open in a tab in front, so the message counts as read. */
  function onMessageCreated(id, message, { isSeen }) {
    if (!message.private) latestMessage.set(id, message);
    if (message.direction === "in" && !isSeen) {
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

  function onConversationChanged(conversation) {
    placeItem(
      withLatestMessage({
        preview: null,
        preview_direction: null,
        waiting_since: null,
        ...items.get(conversation.id),
        ...conversation,
      }),
    );
  }

  /** The conversation `step` places after `fromId` (the first without one), scrolled to. */
  function revealNeighbour(fromId, step) {
    const nodes = [...list.querySelectorAll(".conversation-item")];
    if (!nodes.length) return null;
    const current = nodes.findIndex((node) => Number(node.dataset.conversationId) === fromId);
    const index = current === -1 ? 0 : Math.min(Math.max(current + step, 0), nodes.length - 1);
    const node = nodes[index];
    node.scrollIntoView({ block: "nearest" });
    return Number(node.dataset.conversationId);
  }

  /** Draw the page's first conversations and keep their ages current. */
  function start() {
    for (const item of page.items) list.append(renderItem(item));
    saveUnread();
    setInterval(() => refreshAges(list), AGES_EVERY_MS);
  }

  list.addEventListener("click", (event) => {
    const link = event.target.closest(".conversation-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onChoose(Number(link.closest(".conversation-item").dataset.conversationId));
  });
  loadMoreButton.addEventListener("click", loadMore);

  return {
    element: list,
    searchText: () => searchText,
    start,
    reload,
    showResults,
    leaveResults,
    markSelected,
    markRead,
    onMessageCreated,
    onConversationChanged,
    revealNeighbour,
    item: (id) => items.get(id),
  };
}
