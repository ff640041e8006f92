// Macros, applied to the open conversation two ways: in the reply box, typing `#` at the
// start of a word opens a listbox of the operator's macros (their own and the shared ones)
// filtered by name, and Enter or Tab applies the chosen one; in the header, the Macros menu
// lists them and one click applies one. Their actions arrive live like any other change;
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

/** Apply a macro to a conversation; a toast says how it went. */
async function macroApply(macro, conversationId, showToast) {
  try {
    const result = await api.post(`/api/v1/macros/${macro.id}/apply/`, { conversation: conversationId });
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

const loadMacros = () => api.get("/api/v1/macros/");

/** `conversationId()` names the open conversation. */
export function setupMacros({ textarea, listbox, conversationId, showToast }) {
  function apply(macro, { start, end }) {
    const id = conversationId();
    if (!id) return;
    // The `#name` typed was a command, not part of the reply.
    textarea.setRangeText("", start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    macroApply(macro, id, showToast);
  }

  return setupTypedPicker({
    textarea,
    listbox,
    trigger: TRIGGER,
    load: loadMacros,
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

/** The header's Macros menu: the macros, listed when it opens; one click applies one. */
export function setupMacroMenu({ header, conversationId, showToast }) {
  let macros = [];

  async function fill(menu) {
    const items = menu.querySelector(".macro-menu");
    try {
      macros = await loadMacros();
    } catch (error) {
      items.replaceChildren(element(html`<span class="menu-empty">${format(gettext("Macros unavailable: %(reason)s"), { reason: error.message })}</span>`));
      return;
    }
    const manage = element(html`<a class="menu-link" role="menuitem" href="/macros/">${gettext("Manage macros")}</a>`);
    const choices = macros.map((macro) =>
      element(html`<button type="button" role="menuitem" data-apply-macro="${macro.id}">${macro.name}</button>`),
    );
    items.replaceChildren(...(choices.length ? choices : [element(html`<span class="menu-empty">${gettext("No macros yet.")}</span>`)]), manage);
  }

  header.addEventListener("click", (event) => {
    const summary = event.target.closest("summary[data-macro-menu]");
    if (summary && !summary.parentElement.open) fill(summary.parentElement);
    const button = event.target.closest("button[data-apply-macro]");
    if (!button) return;
    button.closest("details")?.removeAttribute("open");
    const macro = macros.find((item) => String(item.id) === button.dataset.applyMacro);
    const id = conversationId();
    if (macro && id) macroApply(macro, id, showToast);
  });
}
