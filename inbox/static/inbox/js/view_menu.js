// The view menu and status tabs above the list: their counts, fetched after the page
// arrives and again soon after a change; and the channel and label filters, which load
// the page for the chosen filter.

import { api } from "./api.js";

const COUNTS_AFTER_CHANGE_MS = 700;

/** `query` is the current view's query string. */
export function setupViewMenu({ query }) {
  let countsTimer;

  function applyCounts(counts) {
    for (const node of document.querySelectorAll("[data-count-status]")) {
      const value = counts.statuses[node.dataset.countStatus];
      node.textContent = value === undefined ? "" : String(value);
    }
    for (const node of document.querySelectorAll("[data-count-view]")) {
      const value = counts.views[node.dataset.countView];
      node.textContent = value === undefined ? "" : String(value);
    }
  }

  async function refreshCounts() {
    try {
      applyCounts(await api.get(`/inbox/counts/?${query}`));
    } catch {
      // The next change or reconnect refreshes them.
    }
  }

  /** Once changes stop coming for a moment, rather than once per change. */
  function refreshCountsSoon() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(refreshCounts, COUNTS_AFTER_CHANGE_MS);
  }

  const filterForm = document.getElementById("channel-filter-form");
  document.getElementById("channel-filter").addEventListener("change", () => filterForm.requestSubmit());
  document.getElementById("label-filter")?.addEventListener("change", () => filterForm.requestSubmit());

  return { applyCounts, refreshCounts, refreshCountsSoon };
}
