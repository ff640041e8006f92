// The operator's notifications: a bell in the header with the unread count and a panel of
// the latest (mentioned in a note, given a conversation, one of theirs coming due), live; a browser
// notification while the tab is hidden and a short sound, each as the operator chose. A
// customer's answer in one of the operator's own conversations is announced the same way
// while the tab is hidden (it is not kept in the panel: the list shows it as unread).

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { clock } from "./format.js";
import { format } from "./i18n.js";
import { customerName } from "./render.js";

const SETTINGS_URL = "/api/v1/operators/me/";

function title(notification) {
  if (notification.kind === "sla_due_soon") return gettext("A conversation is due soon");
  const name = notification.actor?.name;
  if (notification.kind === "mention") {
    return format(gettext("%(name)s mentioned you in a note"), { name: name || gettext("Someone") });
  }
  return name
    ? format(gettext("%(name)s gave you a conversation"), { name })
    : gettext("A conversation was assigned to you");
}

/** A short two-tone chime, drawn by the browser: no file to load. */
function chime() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  const audio = new Context();
  const gain = audio.createGain();
  gain.connect(audio.destination);
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
  for (const [offset, frequency] of [[0, 880], [0.12, 1320]]) {
    const tone = audio.createOscillator();
    tone.frequency.value = frequency;
    tone.connect(gain);
    tone.start(audio.currentTime + offset);
    tone.stop(audio.currentTime + offset + 0.25);
  }
  setTimeout(() => audio.close(), 800);
}

/** `settings`: the operator's choices; `itemOf(id)` a conversation of the list; `onChoose(id)` opens one. */
export function setupNotifications({ me, settings, itemOf, onChoose, showToast }) {
  const button = document.getElementById("notifications-button");
  const badge = document.getElementById("notifications-unread");
  const panel = document.getElementById("notifications-panel");
  const listElement = document.getElementById("notifications-list");
  const soundBox = document.getElementById("notifications-sound");
  const emailBox = document.getElementById("notifications-email");
  const allowButton = document.getElementById("notifications-allow");
  let unread = 0;
  let shown = [];

  function setUnread(count) {
    unread = Math.max(0, count);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    button.setAttribute(
      "aria-label",
      format(ngettext("Notifications, %(count)s unread", "Notifications, %(count)s unread", unread), { count: unread }),
    );
  }

  /** The customer's name, when the list holds the conversation, before the time. */
  function whose(notification) {
    const item = itemOf(notification.conversation);
    return item ? `${customerName(item.customer)} · ` : "";
  }

  function render() {
    if (!shown.length) {
      listElement.replaceChildren(element(html`<li class="notification-empty">${gettext("Nothing yet: mentions and conversations given to you show here.")}</li>`));
      return;
    }
    listElement.replaceChildren(
      ...shown.map((notification) =>
        element(html`<li class="notification${notification.read_at ? "" : " is-unread"}" data-notification-id="${notification.id}">
  <button type="button" class="notification-open" data-conversation-id="${notification.conversation}">
    <span class="notification-title">${title(notification)}</span>
    ${notification.excerpt ? html`<span class="notification-excerpt">${notification.excerpt}</span>` : ""}
    <span class="notification-time">${whose(notification)}<time datetime="${notification.created_at}">${clock(notification.created_at)}</time></span>
  </button>
</li>`),
      ),
    );
  }

  function announce(heading, body, tag, conversationId, kind) {
    if (settings.sound) chime();
    if (!document.hidden || !settings.browser.includes(kind)) return;
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const shownNotification = new Notification(heading, { body, tag });
    shownNotification.addEventListener("click", () => {
      window.focus();
      onChoose(conversationId);
      shownNotification.close();
    });
  }

  async function load() {
    try {
      const data = await api.get("/api/v1/notifications/");
      shown = data.results;
      setUnread(data.unread);
      render();
    } catch (error) {
      showToast(format(gettext("Notifications unavailable: %(reason)s"), { reason: error.message }), { isError: true });
    }
  }

  async function markRead(body) {
    try {
      const data = await api.post("/api/v1/notifications/read/", body);
      setUnread(data.unread);
    } catch (error) {
      showToast(format(gettext("Notifications unavailable: %(reason)s"), { reason: error.message }), { isError: true });
    }
  }

  function setOpen(isOpen) {
    panel.hidden = !isOpen;
    button.setAttribute("aria-expanded", String(isOpen));
    if (isOpen) allowButton.hidden = !("Notification" in window) || Notification.permission !== "default";
  }

  function onCreated({ notification }) {
    shown = [notification, ...shown.filter((item) => item.id !== notification.id)].slice(0, 50);
    setUnread(unread + 1);
    render();
    // A due time has its own notice and browser notification (sla_notices.js): a chime only.
    if (notification.kind === "sla_due_soon") {
      if (settings.sound) chime();
      return;
    }
    announce(title(notification), notification.excerpt, `notification-${notification.id}`, notification.conversation, notification.kind);
  }

  /** A customer's message: announced when it is in one of the operator's conversations and the tab is hidden. */
  function onMessage(conversationId, message) {
    if (message.direction !== "in" || !document.hidden) return;
    const item = itemOf(conversationId);
    if (!item || item.assignee?.id !== me.id || !settings.in_app.includes("customer_replied")) return;
    const heading = format(gettext("%(name)s answered"), { name: customerName(item.customer) });
    announce(heading, message.body || "", `reply-${conversationId}`, conversationId, "customer_replied");
  }

  button.addEventListener("click", () => setOpen(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !panel.contains(event.target) && !button.contains(event.target)) setOpen(false);
  });
  listElement.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-conversation-id]");
    if (!opener) return;
    const row = opener.closest("[data-notification-id]");
    const notification = shown.find((item) => String(item.id) === row.dataset.notificationId);
    if (notification && !notification.read_at) {
      notification.read_at = new Date().toISOString();
      row.classList.remove("is-unread");
      markRead({ ids: [notification.id] });
    }
    setOpen(false);
    onChoose(Number(opener.dataset.conversationId));
  });
  document.getElementById("notifications-read-all").addEventListener("click", () => {
    for (const notification of shown) notification.read_at ||= new Date().toISOString();
    render();
    markRead({ all: true });
  });
  async function saveSettings() {
    try {
      await api.patch(SETTINGS_URL, { notifications: settings });
    } catch (error) {
      showToast(format(gettext("Not saved: %(reason)s"), { reason: error.message }), { isError: true });
    }
  }
  soundBox.checked = settings.sound;
  soundBox.addEventListener("change", () => {
    settings.sound = soundBox.checked;
    saveSettings();
  });
  // What is kept (mentions, assignments) is what an email can carry.
  emailBox.checked = settings.email.length > 0;
  emailBox.addEventListener("change", () => {
    settings.email = emailBox.checked ? ["mention", "assigned"] : [];
    saveSettings();
  });
  allowButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    allowButton.hidden = Notification.permission !== "default";
  });

  setUnread(0);
  load();
  return { onCreated, onMessage, reload: load };
}
