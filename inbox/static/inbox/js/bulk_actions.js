// Several conversations at once: a checkbox on each item of the list (shift-click takes
// the range from the last one clicked), "select all in this view", and a bar that assigns,
// labels, resolves or snoozes them in one call to the API, which answers for each.

import { snoozeUntil } from "./actions.js";
import { api } from "./api.js";
import { format } from "./i18n.js";

/** `list` is the conversation list; `onDone()` brings the page up to date after an action. */
export function setupBulkActions({ page, list, me, onDone, showToast }) {
  const bar = document.getElementById("bulk-bar");
  const count = document.getElementById("bulk-count");
  const selectViewButton = document.getElementById("bulk-select-view");
  const labelSelect = document.getElementById("bulk-label");
  const snoozeSelect = document.getElementById("bulk-snooze");
  const selected = new Set();
  // Chosen with "select all in this view": the action goes to the view's filter, which
  // also reaches conversations not loaded yet.
  let isWholeView = false;
  let lastClickedId = null;

  function boxes() {
    return [...list.element.querySelectorAll("input.conversation-select")];
  }

  function render() {
    for (const box of boxes()) box.checked = isWholeView || selected.has(Number(box.value));
    bar.hidden = !isWholeView && selected.size === 0;
    count.textContent = isWholeView
      ? gettext("Every conversation in this view")
      : format(ngettext("%(count)s selected", "%(count)s selected", selected.size), { count: selected.size });
    selectViewButton.hidden = isWholeView;
  }

  function clear() {
    selected.clear();
    isWholeView = false;
    lastClickedId = null;
    render();
  }

  function onBoxClicked(box, { isRange }) {
    const id = Number(box.value);
    if (isWholeView) {
      // Leaving "all in this view": keep what is shown, less the one unticked.
      isWholeView = false;
      for (const other of boxes()) selected.add(Number(other.value));
    }
    const all = boxes();
    const from = all.findIndex((other) => Number(other.value) === lastClickedId);
    const to = all.indexOf(box);
    const range = isRange && from !== -1 ? all.slice(Math.min(from, to), Math.max(from, to) + 1) : [box];
    for (const one of range) {
      if (box.checked) selected.add(Number(one.value));
      else selected.delete(Number(one.value));
    }
    lastClickedId = id;
    render();
  }

  function target() {
    if (isWholeView && !list.searchText()) return { filter: page.view.filter };
    const ids = isWholeView ? boxes().map((box) => Number(box.value)) : [...selected];
    return { ids };
  }

  async function run(action, values = {}) {
    try {
      const answer = await api.post("/api/v1/conversations/bulk/", { ...target(), action, ...values });
      const done = answer.results.filter((result) => result.ok).length;
      const refused = answer.results.filter((result) => !result.ok);
      if (done) showToast(format(ngettext("%(count)s conversation changed.", "%(count)s conversations changed.", done), { count: done }));
      if (refused.length) {
        showToast(
          format(ngettext("%(count)s conversation not changed: %(reason)s", "%(count)s conversations not changed: %(reason)s", refused.length), {
            count: refused.length,
            reason: refused[0].error,
          }),
          { isError: true },
        );
      }
      clear();
      await onDone();
    } catch (error) {
      showToast(error.message, { isError: true });
    }
  }

  list.element.addEventListener("click", (event) => {
    const box = event.target.closest("input.conversation-select");
    if (box) onBoxClicked(box, { isRange: event.shiftKey });
  });

  selectViewButton.addEventListener("click", () => {
    isWholeView = true;
    render();
  });
  document.getElementById("bulk-clear").addEventListener("click", clear);

  bar.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-bulk]");
    if (!button) return;
    const action = button.dataset.bulk;
    if (action === "assign-me") run("assign", { operator: me.id });
    if (action === "unassign") run("assign", { operator: null });
    if (action === "resolve") run("resolve");
  });

  labelSelect?.addEventListener("change", () => {
    const labelId = Number(labelSelect.value);
    labelSelect.value = "";
    if (labelId) run("label", { labels: [labelId] });
  });

  snoozeSelect.addEventListener("change", () => {
    const choice = snoozeSelect.value;
    snoozeSelect.value = "";
    if (!choice) return;
    run("snooze", { until: snoozeUntil(choice) });
  });

  return {
    isChecked: (id) => isWholeView || selected.has(id),
    /** Items drawn again (a live change, more loaded) show whether they are selected. */
    render,
    clear,
  };
}
