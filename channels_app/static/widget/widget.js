/* Switchboard website chat. Embed with:
 *   <script src="https://<host>/widget.js" data-channel="<public_id>" async></script>
 * Optional: data-user-id, data-user-hash (hex HMAC-SHA256 of "user:" + the user id with the
 * channel's identity secret), data-email, data-email-hash (of "email:" + the email), data-name
 * to say who a signed-in visitor is;
 * data-language ("en", "ru" or "pl") to fix the widget's language, else the browser's.
 * Everything the visitor or an operator wrote is inserted with textContent only. */
(function () {
  "use strict";

  const WIDGET_CSS = "__WIDGET_CSS__";
  // {"ru": {"Send": "Отправить", ...}, "pl": {...}}: the server's catalogues, put in here.
  const CATALOGUES = "__WIDGET_CATALOGUES__";
  const DEFAULT_LANGUAGE = "__WIDGET_DEFAULT_LANGUAGE__";
  const script = document.currentScript;
  if (!script || !script.dataset.channel) return;
  const channelId = script.dataset.channel;
  const base = new URL(script.src, window.location.href);
  const socketUrl =
    (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws/widget/" + channelId + "/";
  const tokenKey = "switchboard.widget." + channelId + ".token";
  const TYPING_SEND_EVERY_MS = 2000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOWN_MS = 6000;
  const MAX_BACKOFF_MS = 30000;
  const PING_EVERY_MS = 25000;

  // ---- language: the site's choice, else the first of the browser's we speak ----
  function spoken(code) {
    const base = String(code || "").trim().toLowerCase().split(/[-_]/)[0];
    return base === "en" || Object.prototype.hasOwnProperty.call(CATALOGUES, base) ? base : "";
  }
  const language =
    spoken(script.dataset.language) ||
    (navigator.languages || [navigator.language]).map(spoken).find(Boolean) ||
    DEFAULT_LANGUAGE;
  const catalogue = CATALOGUES[language] || {};
  function gettext(text) {
    return catalogue[text] || text;
  }
  function interpolate(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name];
    });
  }

  // ---- DOM, inside a shadow root so the host page's styles neither reach nor see it ----
  const host = document.createElement("div");
  host.setAttribute("data-switchboard-widget", channelId);
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = WIDGET_CSS;
  root.appendChild(style);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const launcher = element("button", "launcher", "\u{1F4AC}");
  launcher.type = "button";
  launcher.setAttribute("aria-label", gettext("Chat with us"));
  const panel = element("section", "panel");
  panel.hidden = true;
  panel.setAttribute("aria-label", gettext("Chat"));
  panel.lang = language;
  const header = element("div", "header");
  const title = element("div", "title", gettext("Chat"));
  const status = element("div", "status", gettext("Connecting…"));
  header.append(title, status);
  const notice = element("div", "notice");
  notice.hidden = true;
  const list = element("div", "messages");
  list.setAttribute("role", "log");
  list.setAttribute("aria-live", "polite");
  const greeting = element("div", "greeting");
  list.appendChild(greeting);
  const typing = element("div", "typing");
  typing.hidden = true;
  const errorLine = element("div", "error");
  errorLine.hidden = true;

  const prechat = element("form", "prechat");
  prechat.hidden = true;
  const prechatName = element("input");
  prechatName.name = "name";
  prechatName.placeholder = gettext("Your name");
  prechatName.autocomplete = "name";
  const prechatEmail = element("input");
  prechatEmail.name = "email";
  prechatEmail.type = "email";
  prechatEmail.required = true;
  prechatEmail.placeholder = gettext("Your email");
  prechatEmail.autocomplete = "email";
  const prechatButton = element("button", "", gettext("Start chat"));
  prechatButton.type = "submit";
  prechat.append(prechatName, prechatEmail, prechatButton);

  const composer = element("form", "composer");
  const input = element("textarea");
  input.rows = 2;
  input.maxLength = 5000;
  input.placeholder = gettext("Write a message…");
  input.setAttribute("aria-label", gettext("Message"));
  const sendButton = element("button", "send", gettext("Send"));
  sendButton.type = "submit";
  const attachButton = element("button", "attach", "\u{1F4CE}");
  attachButton.type = "button";
  attachButton.setAttribute("aria-label", gettext("Attach a file"));
  const fileInput = element("input");
  fileInput.type = "file";
  fileInput.hidden = true;
  fileInput.accept = "image/*,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods";
  composer.append(attachButton, fileInput, input, sendButton);

  panel.append(header, notice, list, typing, errorLine, prechat, composer);
  root.append(launcher, panel);

  // ---- state ----
  let socket = null;
  let pingTimer = null;
  let isReady = false;
  let backoffMs = 1000;
  let visitor = null;
  let config = {};
  const rendered = new Map(); // message id -> node
  const ratingCards = new Map(); // survey id -> card, shown once whatever is resent
  const pending = new Map(); // client id -> {text, node}
  let lastOutboundId = 0;
  let lastReadSent = 0;
  let typingSentAt = 0;
  let typingIdleTimer = null;
  let typingShownTimer = null;

  function storedToken() {
    try {
      return window.localStorage.getItem(tokenKey);
    } catch (error) {
      return null;
    }
  }

  function storeToken(token) {
    try {
      window.localStorage.setItem(tokenKey, token);
    } catch (error) {
      /* private mode: the visitor stays anonymous per page load */
    }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // ---- connection with reconnect and exponential backoff ----
  function connect() {
    socket = new WebSocket(socketUrl);
    socket.addEventListener("open", function () {
      send({ type: "hello", token: storedToken() || undefined, language: language });
      // Proxies close sockets that stay silent for a minute or so.
      pingTimer = window.setInterval(function () {
        send({ type: "ping" });
      }, PING_EVERY_MS);
    });
    socket.addEventListener("message", function (event) {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      onFrame(frame);
    });
    socket.addEventListener("close", function () {
      isReady = false;
      window.clearInterval(pingTimer);
      status.textContent = gettext("Reconnecting…");
      const delay = Math.min(backoffMs, MAX_BACKOFF_MS) * (0.8 + Math.random() * 0.4);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      window.setTimeout(connect, delay);
    });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "ready":
        onReady(frame);
        break;
      case "history":
        onHistory(frame.messages || []);
        break;
      case "message":
        renderMessage(frame.message);
        markReadSoon();
        break;
      case "typing":
        showTyping(frame);
        break;
      case "read":
        markOwnRead(frame.message_id);
        break;
      case "rating_request":
        renderRating(frame);
        break;
      case "notice":
        showNotice(frame.message);
        break;
      case "identified":
        if (visitor && frame.visitor.id !== visitor.id) {
          // Another account: its own, empty thread.
          clearThread();
          for (const card of ratingCards.values()) card.remove();
          ratingCards.clear();
          send({ type: "history" });
        }
        visitor = frame.visitor;
        storeToken(frame.token);
        updatePrechat();
        break;
      case "error":
        showError(frame);
        break;
      default:
        break;
    }
  }

  function onReady(frame) {
    isReady = true;
    backoffMs = 1000;
    visitor = frame.visitor;
    config = frame.config || {};
    storeToken(frame.token);
    host.style.setProperty("--accent", config.color || "#2563eb");
    title.textContent = config.company_name || gettext("Chat");
    greeting.textContent = config.greeting || "";
    status.textContent = frame.operators_online ? gettext("We are online") : gettext("We are away");
    if (!frame.operators_online && frame.offline_message) showNotice(frame.offline_message);
    else notice.hidden = true;
    identifyFromScript();
    send({ type: "history" });
  }

  function identifyFromScript() {
    const data = script.dataset;
    if (data.userId && data.userHash && (!visitor || visitor.user_id !== data.userId)) {
      send({
        type: "identify",
        user_id: data.userId,
        user_hash: data.userHash,
        email: data.email || "",
        email_hash: data.emailHash || "",
        name: data.name || "",
      });
    }
  }

  function clearThread() {
    for (const node of rendered.values()) node.remove();
    rendered.clear();
    lastOutboundId = 0;
    lastReadSent = 0;
  }

  function onHistory(messages) {
    clearThread();
    for (const message of messages) renderMessage(message);
    // A rating card asked after the last message stays below the thread it is about.
    for (const card of ratingCards.values()) list.appendChild(card);
    // What was written while disconnected goes out now.
    for (const [clientId, entry] of pending) {
      send({ type: "message", text: entry.text, client_id: clientId });
    }
    updatePrechat();
    markReadSoon();
  }

  // ---- messages ----
  function timeOf(value) {
    if (!value) return "";
    const date = new Date(value);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function messageNode(message) {
    const node = element("div", "message " + (message.direction === "in" ? "in" : "out"));
    node.dataset.direction = message.direction;
    if (message.direction !== "in" && message.author && message.author.name) {
      node.appendChild(element("div", "author", message.author.name));
    }
    node.appendChild(element("div", "body", message.body || ""));
    for (const attachment of message.attachments || []) {
      const link = element("a", "attachment", attachment.filename || "attachment");
      const url = String(attachment.url || "");
      if (/^(https?:)?\//.test(url)) link.href = new URL(url, base).href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      node.appendChild(link);
    }
    const meta = element("div", "meta", timeOf(message.created_at));
    if (message.direction === "in") {
      const tick = element("span", "tick", message.status === "read" ? " ✓✓" : " ✓");
      meta.appendChild(tick);
    }
    node.appendChild(meta);
    return node;
  }

  function renderMessage(message) {
    if (!message || !message.id || rendered.has(message.id)) return;
    const node = messageNode(message);
    const waiting = message.client_id && pending.get(message.client_id);
    if (waiting) {
      waiting.node.replaceWith(node);
      pending.delete(message.client_id);
    } else {
      list.appendChild(node);
    }
    rendered.set(message.id, node);
    if (message.direction === "out" && message.id > lastOutboundId) lastOutboundId = message.id;
    if (message.direction === "out") hideTyping();
    list.scrollTop = list.scrollHeight;
    updatePrechat();
  }

  function markOwnRead(messageId) {
    for (const [id, node] of rendered) {
      if (id <= messageId && node.dataset.direction === "in") {
        const tick = node.querySelector(".tick");
        if (tick) tick.textContent = " ✓✓";
      }
    }
  }

  function markReadSoon() {
    if (panel.hidden || document.visibilityState !== "visible") return;
    if (lastOutboundId > lastReadSent && send({ type: "read", message_id: lastOutboundId })) {
      lastReadSent = lastOutboundId;
    }
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function writeMessage(text) {
    const clientId = newClientId();
    const node = messageNode({ direction: "in", body: text, created_at: new Date().toISOString() });
    node.classList.add("pending");
    list.appendChild(node);
    list.scrollTop = list.scrollHeight;
    pending.set(clientId, { text: text, node: node });
    if (isReady) send({ type: "message", text: text, client_id: clientId });
    stopTyping();
  }

  function uploadFile(file) {
    const token = storedToken();
    if (!file || !token) return;
    if (file.size > 10 * 1024 * 1024) {
      showError({ message: gettext("Files are at most 10 MB.") });
      return;
    }
    const form = new FormData();
    form.append("file", file);
    form.append("client_id", newClientId());
    fetch(base.origin + "/widget/" + channelId + "/uploads/", {
      method: "POST",
      headers: { "X-Switchboard-Visitor": token },
      body: form,
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) showError({ code: answer.error, isFile: true });
          else renderMessage(answer.message);
        });
      })
      .catch(function () {
        showError({ message: gettext("The file could not be sent.") });
      });
  }

  // ---- typing, both ways ----
  function showTyping(frame) {
    window.clearTimeout(typingShownTimer);
    if (!frame.is_typing) return hideTyping();
    typing.textContent = frame.name
      ? interpolate(gettext("%(name)s is typing…"), { name: frame.name })
      : gettext("Someone is typing…");
    typing.hidden = false;
    typingShownTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    typing.hidden = true;
    typing.textContent = "";
  }

  function onInput() {
    const now = Date.now();
    if (now - typingSentAt > TYPING_SEND_EVERY_MS && send({ type: "typing", is_typing: true })) {
      typingSentAt = now;
    }
    window.clearTimeout(typingIdleTimer);
    typingIdleTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    window.clearTimeout(typingIdleTimer);
    if (typingSentAt) send({ type: "typing", is_typing: false });
    typingSentAt = 0;
  }

  // ---- CSAT rating card ----
  function renderRating(frame) {
    if (ratingCards.has(frame.survey)) return;
    const card = element("div", "rating");
    ratingCards.set(frame.survey, card);
    card.appendChild(element("div", "question", frame.question || gettext("How did we do?")));
    const buttons = element("div", "buttons");
    for (const rating of frame.ratings || []) {
      const button = element("button", "", String(rating.value));
      button.type = "button";
      button.title = rating.label || "";
      button.setAttribute("aria-label", rating.label || String(rating.value));
      button.addEventListener("click", function () {
        const sent = send({
          type: "rating", survey: frame.survey, rating: rating.value, payload: rating.payload,
        });
        if (!sent) return; // not connected: the buttons stay, the visitor can click again
        for (const other of buttons.querySelectorAll("button")) other.disabled = true;
        card.appendChild(element("div", "thanks", gettext("Thank you!")));
      });
      buttons.appendChild(button);
    }
    card.appendChild(buttons);
    list.appendChild(card);
    list.scrollTop = list.scrollHeight;
  }

  // ---- pre-chat form, notices, errors ----
  function updatePrechat() {
    const needsForm =
      Boolean(config.prechat_form) && visitor && !visitor.email && !visitor.is_verified && rendered.size === 0;
    prechat.hidden = !needsForm;
    composer.hidden = Boolean(needsForm);
  }

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  // What the visitor reads for a refusal, by its code; the server's own words are for
  // developers, in whatever language the server speaks.
  function refusalText(code, isFile) {
    switch (code) {
      case "rate_limited":
        return gettext("You are sending messages too fast. Please wait a few seconds.");
      case "too_large":
        return isFile ? gettext("Files are at most 10 MB.") : gettext("This message is too long.");
      case "unsupported_type":
        return gettext("Only images, PDF, text and office documents can be sent.");
      default:
        return gettext("Something went wrong.");
    }
  }

  function showError(frame) {
    errorLine.textContent = frame.code
      ? refusalText(frame.code, frame.isFile)
      : frame.message || gettext("Something went wrong.");
    errorLine.hidden = false;
    window.setTimeout(function () {
      errorLine.hidden = true;
    }, 5000);
  }

  // ---- events ----
  launcher.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) {
      (prechat.hidden ? input : prechatName).focus();
      markReadSoon();
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    writeMessage(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", onInput);
  attachButton.addEventListener("click", function () {
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    uploadFile(fileInput.files && fileInput.files[0]);
    fileInput.value = "";
  });
  prechat.addEventListener("submit", function (event) {
    event.preventDefault();
    send({ type: "identify", name: prechatName.value.trim(), email: prechatEmail.value.trim() });
  });
  document.addEventListener("visibilitychange", markReadSoon);

  window.SwitchboardWidget = {
    open: function () {
      if (panel.hidden) launcher.click();
    },
    identify: function (fields) {
      return send(Object.assign({ type: "identify" }, fields || {}));
    },
    // The site's user signed out: forget this visitor and start anew.
    reset: function () {
      try {
        window.localStorage.removeItem(tokenKey);
      } catch (error) {
        /* nothing kept */
      }
      clearThread();
      if (socket) socket.close();
    },
  };

  function mount() {
    document.body.appendChild(host);
    connect();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
