// Macros in the reply box: typing `#` at the start of a word opens a listbox of the
// operator's macros (their own and the shared ones) filtered by name; Enter or Tab applies
// the chosen one to the open conversation. Its actions arrive live like any other change;
// what did not apply is said in a toast.

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";
import { setupTypedPicker } from "./picker.js";

const SHOWN_LIMIT = 8;
// A hash at the start of the text or after whitespace, then the name typed so far.
const TRIGGER = /(^|\s)#([\p{L}\p{N}_-]*)$/u;

function matching(macros, typed) {
  const text = typed.toLowerCase().replaceAll("-", " ");
  const named = (macro) => macro.name.toLowerCase();
  const starting = macros.filter((macro) => named(macro).startsWith(text));
  const containing = macros.filter((macro) => !starting.includes(macro) && named(macro).includes(text));
  return [...starting, ...containing].slice(0, SHOWN_LIMIT);
}

/** `conversationId()` names the open conversation. */
export function setupMacros({ textarea, listbox, conversationId, showToast }) {
  async function apply(macro, { start, end }) {
    const id = conversationId();
    if (!id) return;
    // The `#name` typed was a command, not part of the reply.
    textarea.setRangeText("", start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    try {
      const result = await api.post(`/api/v1/macros/${macro.id}/apply/`, { conversation: id });
      const failed = result.actions.filter((action) => action.error);
      if (!failed.length) {
        showToast(format(gettext("Macro “%(name)s” applied."), { name: macro.name }));
        return;
      }
      showToast(
        format(
          ngettext(
            "Macro “%(name)s”: %(count)s action did not apply: %(reason)s",
            "Macro “%(name)s”: %(count)s actions did not apply: %(reason)s",
            failed.length,
          ),
          { name: macro.name, count: failed.length, reason: failed[0].error },
        ),
        { isError: true },
      );
    } catch (error) {
      showToast(format(gettext("Macro “%(name)s” not applied: %(reason)s"), { name: macro.name, reason: error.message }), {
        isError: true,
      });
    }
  }

  return setupTypedPicker({
    textarea,
    listbox,
    trigger: TRIGGER,
    load: () => api.get("/api/v1/macros/"),
    failed: (error) =>
      showToast(format(gettext("Macros unavailable: %(reason)s"), { reason: error.message }), { isError: true }),
    matching,
    option: (macro) =>
      element(
        html`<li class="canned-option" role="option" id="macro-option-${macro.id}" data-pick-id="${macro.id}" aria-selected="false"><span class="canned-shortcut">#${macro.name}</span> <span class="canned-preview">${format(ngettext("%(count)s action", "%(count)s actions", macro.actions.length), { count: macro.actions.length })}</span></li>`,
      ),
    // A `#` before an order number is common in replies: with no macro of that name, no list.
    nothingFound: () => null,
    choose: apply,
  });
}
