// Mentions in a private note: typing `@` at the start of a word opens a listbox of
// colleagues by name; Enter or Tab puts in their `@username`, which notifies them once the
// note is added (if they may see the conversation). In a reply to the customer, `@` is just
// a character.

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";
import { setupTypedPicker } from "./picker.js";

const SHOWN_LIMIT = 8;
const PAGE_LIMIT = 10;
// Letters of any alphabet, as the server reads a mention (a name typed in Cyrillic too).
const TRIGGER = /(^|\s)@([\p{L}\p{M}\p{N}_.+-]*)$/u;

async function loadColleagues(me) {
  const found = [];
  let url = "/api/v1/operators/?page_size=100";
  for (let page = 0; url && page < PAGE_LIMIT; page += 1) {
    const data = await api.get(url);
    found.push(...(data.results || data));
    url = data.next;
  }
  return found.filter((operator) => operator.is_active && operator.id !== me.id);
}

export function setupMentions({ textarea, listbox, me, isNote, showToast }) {
  function matching(colleagues, typed) {
    if (!isNote()) return [];
    const text = typed.toLowerCase();
    const named = (operator) => [operator.username, operator.name].map((name) => String(name).toLowerCase());
    const starting = colleagues.filter((operator) => named(operator).some((name) => name.startsWith(text)));
    const containing = colleagues.filter(
      (operator) => !starting.includes(operator) && named(operator).some((name) => name.includes(text)),
    );
    return [...starting, ...containing].slice(0, SHOWN_LIMIT);
  }

  return setupTypedPicker({
    textarea,
    listbox,
    trigger: TRIGGER,
    load: () => loadColleagues(me),
    failed: (error) =>
      showToast(format(gettext("Colleagues unavailable: %(reason)s"), { reason: error.message }), { isError: true }),
    matching,
    option: (operator) =>
      element(
        html`<li class="canned-option" role="option" id="mention-option-${operator.id}" data-pick-id="${operator.id}" aria-selected="false"><span class="canned-shortcut">@${operator.username}</span> <span class="canned-preview">${operator.name}</span></li>`,
      ),
    nothingFound: () => null,
    choose: (operator, { start, end }) => {
      textarea.focus();
      textarea.setRangeText(`@${operator.username} `, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    },
  });
}
