// Canned responses in the reply box: typing `/` at the start of a word opens a listbox of
// saved replies filtered by shortcut; Enter or Tab inserts the chosen one with the
// customer's and the operator's names filled in.

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";
import { setupTypedPicker } from "./picker.js";

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
  return setupTypedPicker({
    textarea,
    listbox,
    trigger: TRIGGER,
    load: loadAll,
    failed: (error) =>
      showToast(format(gettext("Canned responses unavailable: %(reason)s"), { reason: error.message }), {
        isError: true,
      }),
    matching,
    option: (response) =>
      element(
        html`<li class="canned-option" role="option" id="canned-option-${response.id}" data-pick-id="${response.id}" aria-selected="false"><span class="canned-shortcut">/${response.shortcut}</span> <span class="canned-preview">${preview(response.body)}</span></li>`,
      ),
    nothingFound: (typed) =>
      element(
        html`<li class="canned-empty" role="option" aria-disabled="true" id="canned-none">${format(gettext("No canned response starts with /%(typed)s"), { typed })}</li>`,
      ),
    choose: (response, { start, end }) => {
      const text = fillPlaceholders(response.body, context());
      textarea.focus();
      textarea.setRangeText(text, start, end, "end");
      // Drafts and the typing indicator listen for input.
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    },
  });
}
