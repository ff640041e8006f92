// Search over every conversation the operator may see, whatever the view: results replace
// the list while the box holds text; emptying it (or Escape) brings the view back.

import { api } from "./api.js";
import { format } from "./i18n.js";

const SEARCH_DELAY_MS = 250;
const RESULTS_LIMIT = 50;

function resultsSummary(count, text) {
  if (!count) return format(gettext("No conversations match “%(text)s”."), { text });
  if (count >= RESULTS_LIMIT) return format(gettext("%(count)s+ conversations matching “%(text)s”"), { count, text });
  return format(
    ngettext("%(count)s conversation matching “%(text)s”", "%(count)s conversations matching “%(text)s”", count),
    { count, text },
  );
}

/** `list` shows the results; `onEnd()` brings the view back up to date. */
export function setupSearch({ list, onEnd, showToast }) {
  const listPane = document.querySelector(".pane-list");
  const searchForm = document.getElementById("search-form");
  const searchInput = document.getElementById("search-input");
  const searchStatus = document.getElementById("search-status");

  let searchToken = 0;
  let searchTimer;

  async function runSearch(text) {
    const token = ++searchToken;
    let result;
    try {
      result = await api.get(`/inbox/search/?q=${encodeURIComponent(text)}`);
    } catch {
      if (token === searchToken) showToast(gettext("Search failed."), { isError: true });
      return;
    }
    if (token !== searchToken) return; // a newer search was started meanwhile
    listPane.classList.add("is-searching");
    list.showResults(result.items, text);
    searchStatus.hidden = false;
    searchStatus.textContent = resultsSummary(result.items.length, text);
  }

  async function endSearch() {
    ++searchToken;
    if (!list.searchText()) return;
    list.leaveResults();
    listPane.classList.remove("is-searching");
    searchStatus.hidden = true;
    await onEnd();
  }

  function searchNow() {
    clearTimeout(searchTimer);
    const text = searchInput.value.trim();
    if (text) runSearch(text);
    else endSearch();
  }

  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const text = searchInput.value.trim();
    searchTimer = setTimeout(() => (text ? runSearch(text) : endSearch()), SEARCH_DELAY_MS);
  });
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    searchNow();
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    clearTimeout(searchTimer);
    searchInput.value = "";
    searchInput.blur();
    endSearch();
  });

  return { run: runSearch, focus: () => searchInput.focus() };
}
