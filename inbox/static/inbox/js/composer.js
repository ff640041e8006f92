// The reply box under the open conversation: a reply on the conversation's channel or a
// private note, with files, canned responses and macros; each conversation keeps its
// unsent draft while the page stays open.

import { api } from "./api.js";
import { setupCannedResponses } from "./canned.js";
import { setupComposerFiles } from "./composer_files.js";
import { format } from "./i18n.js";
import { setupMacros } from "./macros.js";
import { setupMentions } from "./mentions.js";

/** A random UUID; crypto.randomUUID only exists on secure (https or localhost) pages. */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `thread` is the open conversation's module; `typing` tells colleagues we are typing. */
export function setupComposer({ me, thread, typing, showToast }) {
  const composer = document.getElementById("composer");
  const replyBody = document.getElementById("reply-body");
  const sendButton = document.getElementById("send-button");
  const composerChannel = document.getElementById("composer-channel");
  const replyLabel = document.getElementById("reply-label");

  // Unsent text and mode, by conversation.
  const drafts = new Map();
  // The Idempotency-Key of the reply being sent: sending the same reply again (after an
  // error, or a timeout whose answer never came) reuses it, so the server stores and
  // sends it once; any other reply gets a new key.
  let pendingReply = null;

  function replyKey(signature) {
    if (!pendingReply || pendingReply.signature !== signature) pendingReply = { signature, key: newKey() };
    return pendingReply.key;
  }

  function isNote() {
    return composer.dataset.mode === "note";
  }

  function setComposerFor(conversation) {
    const channel = conversation.channel.name;
    replyBody.placeholder = isNote()
      ? gettext("Write a private note: only your team sees it…")
      : format(gettext("Reply on %(channel)s…"), { channel });
    composerChannel.textContent = isNote() ? gettext("Private note") : format(gettext("Sends on %(channel)s"), { channel });
    replyLabel.textContent = isNote() ? gettext("Private note") : gettext("Reply");
  }

  function setComposerMode(mode) {
    composer.dataset.mode = mode;
    composer.querySelector(`input[name="mode"][value="${mode}"]`).checked = true;
    sendButton.textContent = mode === "note" ? gettext("Add note") : gettext("Send");
    const conversation = thread.current();
    if (conversation) setComposerFor(conversation);
  }

  /** Keep the draft of the conversation left (if any) and bring back the opened one's. */
  function switchConversation(previous, id) {
    if (previous) {
      typing.stop();
      drafts.set(previous.id, { text: replyBody.value, mode: composer.dataset.mode });
    }
    cannedResponses.close();
    macros.close();
    mentions.close();
    composerFiles.clear();
    const draft = drafts.get(id) || { text: "", mode: "reply" };
    replyBody.value = draft.text;
    setComposerMode(draft.mode);
  }

  async function sendReply() {
    const conversation = thread.current();
    if (!conversation || sendButton.disabled) return;
    const body = replyBody.value;
    const files = composerFiles.files();
    if (!body.trim() && !files.length) {
      replyBody.focus();
      return;
    }
    const conversationId = conversation.id;
    const url = `/api/v1/conversations/${conversationId}/messages/`;
    const isPrivate = isNote();
    sendButton.disabled = true;
    const signature = JSON.stringify([
      conversationId,
      body,
      isPrivate,
      files.map((file) => [file.name, file.size, file.lastModified]),
    ]);
    const headers = { "Idempotency-Key": replyKey(signature) };
    try {
      let message;
      if (files.length) {
        const form = new FormData();
        form.append("body", body);
        form.append("private", isPrivate ? "true" : "false");
        for (const file of files) form.append("files", file, file.name);
        message = await api.postForm(url, form, headers);
      } else {
        message = await api.post(url, { body, private: isPrivate }, headers);
      }
      if (pendingReply?.signature === signature) pendingReply = null;
      typing.stop();
      if (thread.current()?.id === conversationId) {
        replyBody.value = "";
        composerFiles.clear();
        thread.appendMessage(message);
      }
      drafts.delete(conversationId);
    } catch (error) {
      showToast(format(gettext("Not sent: %(reason)s"), { reason: error.message }), { isError: true });
    } finally {
      sendButton.disabled = false;
    }
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });

  composer.addEventListener("change", (event) => {
    if (event.target.name === "mode") setComposerMode(event.target.value);
  });

  const composerFiles = setupComposerFiles({
    composer,
    input: document.getElementById("reply-files"),
    button: document.getElementById("attach-button"),
    chipList: document.getElementById("reply-file-chips"),
    showToast,
  });

  // Set up before the reply box's own keys, so that its list takes Enter and Escape first.
  const cannedResponses = setupCannedResponses({
    textarea: replyBody,
    listbox: document.getElementById("canned-list"),
    context: () => ({ customerName: thread.current()?.customer?.name, operatorName: me.name }),
    showToast,
  });
  const mentions = setupMentions({
    textarea: replyBody,
    listbox: document.getElementById("mention-list"),
    me,
    isNote,
    showToast,
  });
  const macros = setupMacros({
    textarea: replyBody,
    listbox: document.getElementById("macro-list"),
    conversationId: () => thread.current()?.id,
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
  replyBody.addEventListener("input", () => typing.noteTyping(replyBody.value));
  replyBody.addEventListener("blur", () => typing.stop());

  return {
    isNote,
    switchConversation,
    focus: () => replyBody.focus(),
  };
}
