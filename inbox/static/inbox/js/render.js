// Markup the page's script renders: the list's items (only here), and what arrives live
// in the open conversation, which mirrors the server's templates for the conversation's
// fragment (inbox/templates/inbox/_message.html and _event.html): keep them in step.

import { clock, fullDate, shortAgo } from "./format.js";
import { html, safeUrl } from "./dom.js";
import { format } from "./i18n.js";
import { slaClock } from "./sla_clock.js";

const AVATAR_TONES = 8;
const DELIVERY = {
  queued: ["⏱", gettext("Queued")],
  sending: ["⏱", gettext("Sending")],
  sent: ["✓", gettext("Sent")],
  delivered: ["✓✓", gettext("Delivered")],
  read: ["✓✓", gettext("Read")],
  failed: ["⚠", gettext("Failed")],
  unknown: ["?", gettext("Delivery unknown")],
};

export function initials(name) {
  const words = String(name || "")
    .split(/\s+/)
    .filter((word) => /^[\p{L}\p{N}]/u.test(word));
  if (!words.length) return "?";
  const letters = words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "");
  return letters.toUpperCase();
}

export function customerName(customer) {
  return customer.name || format(gettext("Customer %(id)s"), { id: customer.id });
}

function previewText(item) {
  if (item.preview) return item.preview;
  if (item.preview_direction) return gettext("Attachment");
  return item.subject || gettext("No messages yet");
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The snippet with the searched words in <mark>; every piece escaped by html``. */
export function highlighted(snippet, searchText) {
  const words = String(searchText || "")
    .split(/\s+/)
    .filter(Boolean)
    .map(escapeRegExp);
  if (!words.length) return snippet;
  const pattern = new RegExp(`(${words.join("|")})`, "giu");
  return String(snippet)
    .split(pattern)
    .map((piece, index) => (index % 2 ? html`<mark>${piece}</mark>` : piece));
}

export function labelChips(labels) {
  return (labels || []).map(
    (label) => html`<span class="label-chip" style="--label-color: ${label.color}" data-label-id="${label.id}">${label.name}</span>`,
  );
}

export function conversationItem(item, { href, isSelected, isChecked = false, unread, channelKinds, priorities, searchText = "" }) {
  const name = customerName(item.customer);
  const waiting = item.waiting_since && item.status !== "resolved";
  return html`<li class="conversation-item${isSelected ? " is-selected" : ""}${unread ? " is-unread" : ""}" data-conversation-id="${item.id}" data-status="${item.status}">
  <input type="checkbox" class="conversation-select" value="${item.id}" aria-label="${format(gettext("Select the conversation with %(name)s"), { name })}"${isChecked ? html` checked` : ""}>
  <a class="conversation-link" href="${href}"${isSelected ? html` aria-current="true"` : ""}>
    <span class="avatar tone-${item.customer.id % AVATAR_TONES}" aria-hidden="true">${initials(name)}</span>
    <span class="conversation-main">
      <span class="conversation-top">
        <span class="customer-name">${name}</span>
        <time class="conversation-time" data-ago datetime="${item.last_message_at || ""}" title="${fullDate(item.last_message_at)}">${shortAgo(item.last_message_at)}</time>
      </span>
      ${item.snippet
        ? html`<span class="conversation-preview conversation-snippet">${highlighted(item.snippet, searchText)}</span>`
        : html`<span class="conversation-preview">${item.preview_direction === "out" ? html`<span class="preview-you">${gettext("You:")} </span>` : ""}${previewText(item)}</span>`}
      <span class="conversation-meta">
        <span class="channel-tag channel-${item.channel.kind}" title="${item.channel.name}"><span class="channel-icon" aria-hidden="true"></span>${channelKinds[item.channel.kind] || item.channel.kind}</span>
        ${waiting ? html`<span class="waiting" title="${gettext("Waiting for a reply")}" data-waiting-since="${item.waiting_since}"><span class="visually-hidden">${gettext("Waiting")} </span><span data-ago-text>${shortAgo(item.waiting_since)}</span></span>` : ""}
        ${slaClock(item)}
        ${item.priority && item.priority !== "none" ? html`<span class="priority priority-${item.priority}">${priorities[item.priority] || item.priority}</span>` : ""}
        <span class="assignee${item.assignee ? "" : " is-unassigned"}"${item.assignee ? html` data-operator-id="${item.assignee.id}"` : ""}>${item.assignee ? item.assignee.name : gettext("Unassigned")}</span>
        ${labelChips(item.labels)}
        <span class="unread-badge"${unread ? html` aria-label="${format(ngettext("%(count)s unread", "%(count)s unread", unread), { count: unread })}"` : html` hidden`}>${unread || ""}</span>
      </span>
    </span>
  </a>
</li>`;
}

function fileSize(size) {
  let value = Number(size || 0);
  for (const unit of ["B", "KB", "MB"]) {
    if (value < 1024 || unit === "MB") return unit === "B" ? `${value.toFixed(0)} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return "";
}

function attachmentItem(attachment) {
  const url = safeUrl(attachment.url);
  // Only our own copy is shown as an image: a customer's remote link stays a link, so
  // opening the conversation makes no request to a host the customer chose.
  const isStoredHere = url.startsWith("/") && !url.startsWith("//");
  if (isStoredHere && String(attachment.content_type).startsWith("image/")) {
    return html`<li><a class="attachment-image" href="${url}" target="_blank" rel="noopener noreferrer"><img src="${url}" alt="${attachment.filename}" loading="lazy"></a></li>`;
  }
  if (url) {
    return html`<li><a class="attachment-file" href="${url}" target="_blank" rel="noopener noreferrer"><span class="file-icon" aria-hidden="true"></span>${attachment.filename} <span class="file-size">${fileSize(attachment.size)}</span></a></li>`;
  }
  return html`<li><span class="attachment-file is-pending"><span class="file-icon" aria-hidden="true"></span>${attachment.filename} <span class="file-size">${gettext("not available yet")}</span></span></li>`;
}

// An operator, the app a message written outside Switchboard came from, or Switchboard.
function outboundAuthor(message) {
  if (message.author) return message.author.name;
  if (message.sent_from) return format(gettext("Sent from %(app)s"), { app: message.sent_from });
  return "Switchboard";
}

export function messageItem(message, { customer }) {
  const isOutbound = message.direction === "out";
  const author = isOutbound ? outboundAuthor(message) : customerName(customer);
  const [glyph, label] = DELIVERY[message.status] || ["", message.status];
  return html`<li class="message message-${message.direction}${message.private ? " message-note" : ""}" id="message-${message.id}" data-message-id="${message.id}" data-status="${message.status}">
  <div class="bubble">
    ${message.private ? html`<div class="note-label">${gettext("Private note")}</div>` : ""}
    ${message.deleted_at ? html`<div class="message-body message-deleted">${gettext("The customer deleted this message")}</div>` : message.body ? html`<div class="message-body">${message.body}</div>` : ""}
    ${message.deleted_at ? "" : (message.content_items || []).map((item) => html`<div class="message-body message-item">${item.text}</div>`)}
    ${message.body_full && message.body_full.trim() !== String(message.body).trim() ? html`<button type="button" class="button-link" data-toggle-quoted aria-expanded="false">${gettext("Show quoted text")}</button><div class="message-body message-body-full" hidden>${message.body_full}</div>` : ""}
    ${message.body_html ? html`<button type="button" class="button-link" data-toggle-original aria-expanded="false" data-original-html="${message.body_html}">${gettext("Show original formatting")}</button>` : ""}
    ${message.attachments && message.attachments.length ? html`<ul class="attachments">${message.attachments.map(attachmentItem)}</ul>` : ""}
    <div class="message-meta">
      <span class="message-author">${author}</span>
      <time data-clock datetime="${message.created_at}" title="${fullDate(message.created_at)}">${clock(message.created_at)}</time>
      ${message.edited_at ? html`<span class="message-edited">${gettext("edited")}</span>` : ""}
      ${message.reaction ? html`<span class="message-reaction" role="img" aria-label="${format(gettext("The customer reacted %(emoji)s"), { emoji: message.reaction })}" title="${format(gettext("The customer reacted %(emoji)s"), { emoji: message.reaction })}">${message.reaction}</span>` : ""}
      ${isOutbound && !message.private ? html`<span class="delivery delivery-${message.status}" role="img" aria-label="${label}" title="${label}">${glyph}</span>` : ""}
    </div>
    ${message.status === "failed" ? html`<div class="message-error"><span>${message.error ? format(gettext("Not delivered: %(error)s"), { error: message.error }) : gettext("Not delivered")}</span><button type="button" class="button button-small button-danger" data-retry="${message.id}" aria-label="${gettext("Retry sending this message")}">${gettext("Retry")}</button></div>` : ""}
    ${message.status === "unknown" ? html`<div class="message-error is-unknown"><span>${gettext("May not have been delivered: sending was interrupted, and this platform cannot tell whether the customer got it.")}</span><button type="button" class="button button-small" data-retry="${message.id}" aria-label="${gettext("Send this message again")}">${gettext("Send again")}</button></div>` : ""}
  </div>
</li>`;
}

/** Show or hide an email's quoted text, or its original formatting in a sandboxed frame. */
export function toggleEmailPart(button) {
  const isShown = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!isShown));
  if (button.hasAttribute("data-toggle-quoted")) {
    button.nextElementSibling.hidden = isShown;
    button.textContent = isShown ? gettext("Show quoted text") : gettext("Hide quoted text");
    return;
  }
  button.textContent = isShown ? gettext("Show original formatting") : gettext("Hide original formatting");
  if (isShown) {
    const frame = button.nextElementSibling;
    if (frame?.matches("iframe.message-original")) frame.remove();
    return;
  }
  // The email's HTML runs in an opaque origin with no scripts: never in our page.
  const frame = document.createElement("iframe");
  frame.className = "message-original";
  frame.setAttribute("sandbox", "");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.title = gettext("Original formatting of the email");
  frame.srcdoc = button.dataset.originalHtml;
  button.after(frame);
}

export function eventItem(event) {
  return html`<li class="thread-event thread-event-${event.kind}" id="event-${event.id}" data-event-id="${event.id}"><span class="thread-event-text">${event.text}</span> · <time data-clock datetime="${event.created_at}" title="${fullDate(event.created_at)}">${clock(event.created_at)}</time></li>`;
}

export function toast(text, { isError = false } = {}) {
  return html`<div class="toast${isError ? " toast-error" : ""}">${text}</div>`;
}
