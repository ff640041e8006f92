// A listbox under the reply box that opens while a trigger word is typed (`/shortcut`,
// `#macro`): arrows move, Enter or Tab chooses, Escape closes; the items load once, on
// first use. Canned responses and macros are two of these.

/**
 * Wire a picker to a textarea.
 * - `trigger`: a pattern for the text before the caret whose second group is the word typed.
 * - `load()`: the items (a promise); `failed(error)` is called if they cannot be had.
 * - `matching(items, typed)`: those to show; `option(item)` one's `<li>` (with `data-pick-id`).
 * - `nothingFound(typed)`: an `<li>` to show when nothing matches, or null to close instead.
 * - `choose(item, { start, end })`: what choosing does with the trigger's range of text.
 */
export function setupTypedPicker({ textarea, listbox, trigger, load, failed, matching, option, nothingFound, choose }) {
  let items = null;
  let loading = null;
  let shown = [];
  let active = -1;
  let range = null; // { start, end } of the trigger text being replaced

  function isOpen() {
    return !listbox.hidden;
  }

  function close() {
    if (textarea.getAttribute("aria-controls") === listbox.id) {
      textarea.removeAttribute("aria-activedescendant");
    }
    listbox.hidden = true;
    listbox.replaceChildren();
    shown = [];
    active = -1;
    range = null;
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
    shown = matching(items, typed);
    textarea.setAttribute("aria-controls", listbox.id);
    if (!shown.length) {
      const empty = nothingFound(typed);
      if (!empty) return close();
      listbox.replaceChildren(empty);
      listbox.hidden = false;
      highlight(-1);
      return;
    }
    listbox.replaceChildren(...shown.map(option));
    listbox.hidden = false;
    highlight(0);
  }

  async function update() {
    const caret = textarea.selectionStart;
    if (caret !== textarea.selectionEnd) return close();
    const match = trigger.exec(textarea.value.slice(0, caret));
    if (!match) return close();
    range = { start: caret - match[2].length - 1, end: caret };
    if (!items) {
      loading ||= load().catch((error) => {
        loading = null;
        failed(error);
        return null;
      });
      const loaded = await loading;
      if (!loaded) return close();
      items = loaded;
      // The text may have moved on while the list loaded: read it again.
      return update();
    }
    // With nothing to offer at all, the trigger character is just a character.
    if (!items.length) return close();
    render(match[2]);
  }

  function pick(item) {
    if (!range || !item) return;
    const chosen = range;
    close();
    choose(item, chosen);
  }

  textarea.setAttribute("aria-autocomplete", "list");
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
      pick(shown[active]);
    } else if (event.key === "Escape") close();
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  listbox.addEventListener("mousedown", (event) => {
    const chosen = event.target.closest("[data-pick-id]");
    if (!chosen) return;
    event.preventDefault(); // keep the focus in the textarea
    pick(shown.find((item) => String(item.id) === chosen.dataset.pickId));
  });

  return { close, forget: () => { items = null; } };
}
