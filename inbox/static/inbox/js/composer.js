// The reply box under the open conversation: a reply on the conversation's channel or a
// private note, with files and canned responses; each conversation keeps its unsent draft
// while the page stays open.

import { api } from "./api.js";
import { setupCannedResponses } from "./canned.js";
import { setupComposerFiles } from "./composer_files.js";
import { format } from "./i18n.js";

/** `thread` is the open conversation's module; `typing` tells colleagues we are typing. */
export function setupComposer({ me, thread, typing, showToast }) {
  const composer = document.getElementById("composer");
  const replyBody = document.getElementById("reply-body");
  const sendButton = document.getElementById("send-button");
  const composerChannel = document.getElementById("composer-channel");
  const replyLabel = document.getElementById("reply-label");

  // Unsent text and mode, by conversation.
  const drafts = new Map();

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
