// Canned responses in the reply box: typing `/` at the start of a word opens a listbox of
// saved replies filtered by shortcut; Enter or Tab inserts the chosen one with the
// customer's and the operator's names filled in.

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";

const PAGE_LIMIT = 5;
const SHOWN_LIMIT = 8;
const PREVIEW_LENGTH = 80;
// A slash at the start of the text or after whitespace, then the shortcut typed so far.
const TRIGGER = /(^|\s)\/([\w-]*)$/u;

/** The canned body with {{customer.name}}, {{customer.first_name}} and {{operator.name}} filled. */
export function fillPlaceholders(body, { customerName, operatorName }) {
  const name = String(customerName || "").trim();
  const values = {
    "customer.name": name,
    "customer.first_name": name.split(/\s+/u)[0] || "",
    "operator.name": String(operatorName || ""),
  };
  return String(body).replace(/\{\{\s*([\w.]+)\s*\}\}/gu, (placeholder, key) =>
    key in values ? values[key] : placeholder,
  );
}

async function loadAll() {
  const found = [];
  let url = "/api/v1/canned-responses/?page_size=100";
  for (let page = 0; url && page < PAGE_LIMIT; page += 1) {
    const data = await api.get(url);
    found.push(...data.results);
    url = data.next;
  }
  return found.sort((a, b) => a.shortcut.localeCompare(b.shortcut));
}

function matching(responses, typed) {
  const text = typed.toLowerCase();
  const starting = responses.filter((response) => response.shortcut.toLowerCase().startsWith(text));
  const containing = responses.filter(
    (response) => !starting.includes(response) && response.shortcut.toLowerCase().includes(text),
  );
  return [...starting, ...containing].slice(0, SHOWN_LIMIT);
}

function preview(body) {
  const text = String(body).replace(/\s+/gu, " ").trim();
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}…` : text;
}

/**
 * Wire the canned-response picker to a textarea. `context()` returns
 * `{ customerName, operatorName }` for the conversation being answered.
 */
export function setupCannedResponses({ textarea, listbox, context, showToast }) {
  let responses = null;
  let loading = null;
  let shown = [];
  let active = -1;
  let trigger = null; // { start, end } of the `/shortcut` text being replaced

  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", listbox.id);

  function isOpen() {
    return !listbox.hidden;
  }

  function close() {
    listbox.hidden = true;
    listbox.replaceChildren();
    shown = [];
    active = -1;
    trigger = null;
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    active = index;
    for (const [position, node] of [...listbox.children].entries()) {
      node.setAttribute("aria-selected", String(position === index));
    }
    const node = listbox.children[index];
    if (node) {
      textarea.setAttribute("aria-activedescendant", node.id);
      node.scrollIntoView({ block: "nearest" });
    } else {
      textarea.removeAttribute("aria-activedescendant");
    }
  }

  function render(typed) {
    shown = matching(responses, typed);
    if (!shown.length) {
      listbox.replaceChildren(
        element(html`<li class="canned-empty" role="option" aria-disabled="true" id="canned-none">${format(gettext("No canned response starts with /%(typed)s"), { typed })}</li>`),
      );
      listbox.hidden = false;
      highlight(-1);
      return;
    }
    listbox.replaceChildren(
      ...shown.map((response) =>
        element(
          html`<li class="canned-option" role="option" id="canned-option-${response.id}" data-canned-id="${response.id}" aria-selected="false"><span class="canned-shortcut">/${response.shortcut}</span> <span class="canned-preview">${preview(response.body)}</span></li>`,
        ),
      ),
    );
    listbox.hidden = false;
    highlight(0);
  }

  async function update() {
    const caret = textarea.selectionStart;
    if (caret !== textarea.selectionEnd) return close();
    const match = TRIGGER.exec(textarea.value.slice(0, caret));
    if (!match) return close();
    trigger = { start: caret - match[2].length - 1, end: caret };
    if (!responses) {
      loading ||= loadAll().catch((error) => {
        loading = null;
        showToast(format(gettext("Canned responses unavailable: %(reason)s"), { reason: error.message }), {
          isError: true,
        });
        return null;
      });
      const loaded = await loading;
      if (!loaded) return close();
      responses = loaded;
      // The text may have moved on while the list loaded: read it again.
      return update();
    }
    // With no canned responses at all, a slash is just a slash.
    if (!responses.length) return close();
    render(match[2]);
  }

  function insert(response) {
    if (!trigger) return;
    const text = fillPlaceholders(response.body, context());
    const { start, end } = trigger;
    textarea.focus();
    textarea.setRangeText(text, start, end, "end");
    close();
    // Drafts and the typing indicator listen for input.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  textarea.addEventListener("input", (event) => {
    if (event.isTrusted) update();
  });
  textarea.addEventListener("click", () => isOpen() && update());
  textarea.addEventListener("blur", () => setTimeout(() => document.activeElement !== textarea && close(), 150));

  // Registered before the composer's own keys so that Enter and Escape act on the list first.
  textarea.addEventListener("keydown", (event) => {
    if (!isOpen()) return;
    let handled = true;
    if (event.key === "ArrowDown" && shown.length) highlight((active + 1) % shown.length);
    else if (event.key === "ArrowUp" && shown.length) highlight((active - 1 + shown.length) % shown.length);
    else if ((event.key === "Enter" || event.key === "Tab") && active >= 0 && !event.ctrlKey && !event.metaKey) {
      insert(shown[active]);
    } else if (event.key === "Escape") close();
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  listbox.addEventListener("mousedown", (event) => {
    const option = event.target.closest("[data-canned-id]");
    if (!option) return;
    event.preventDefault(); // keep the focus in the textarea
    insert(shown.find((response) => response.id === Number(option.dataset.cannedId)));
  });

  return { close };
}
