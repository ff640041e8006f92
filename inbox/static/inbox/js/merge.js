// "Merge with…" in the customer profile: find the duplicate through the customers API,
// confirm, merge through the API; and "Undo merge" for merges still undoable. The profile
// pane is re-rendered by the server afterwards (onChanged).

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";
import { customerName } from "./render.js";

const SEARCH_DELAY_MS = 250;

function identitySummary(customer) {
  const values = [customer.email, customer.phone, ...(customer.identities || []).map((identity) => identity.value)];
  return [...new Set(values.filter(Boolean))].slice(0, 3).join(" · ");
}

export function setupMerge({ profile, onChanged, showToast }) {
  const dialog = document.getElementById("merge-dialog");
  const search = document.getElementById("merge-search");
  const results = document.getElementById("merge-results");
  const pickStep = document.getElementById("merge-pick");
  const confirmStep = document.getElementById("merge-confirm");
  const summary = document.getElementById("merge-summary");
  const submit = document.getElementById("merge-submit");
  let survivor = null;
  let duplicate = null;
  let searchTimer;
  let searchToken = 0;

  function showPick() {
    duplicate = null;
    confirmStep.hidden = true;
    pickStep.hidden = false;
    search.focus();
  }

  function open(button) {
    survivor = { id: Number(button.dataset.mergeCustomer), name: button.dataset.mergeCustomerName };
    document.getElementById("merge-survivor-name").textContent = survivor.name;
    search.value = "";
    results.replaceChildren();
    dialog.showModal();
    showPick();
  }

  async function find() {
    const text = search.value.trim();
    const token = ++searchToken;
    if (!text) {
      results.replaceChildren();
      return;
    }
    let page;
    try {
      page = await api.get(`/api/v1/customers/?q=${encodeURIComponent(text)}`);
    } catch (error) {
      showToast(format(gettext("Search failed: %(reason)s"), { reason: error.message }), { isError: true });
      return;
    }
    if (token !== searchToken) return;
    const customers = page.results.filter((customer) => customer.id !== survivor.id);
    results.replaceChildren(
      ...(customers.length
        ? customers.map((customer) =>
            element(
              html`<li><button type="button" data-merge-pick="${customer.id}" data-name="${customerName(customer)}"><span class="merge-name">${customerName(customer)}</span><span class="merge-detail">${identitySummary(customer)}</span></button></li>`,
            ),
          )
        : [element(html`<li class="muted">${gettext("No other customer matches.")}</li>`)]),
    );
  }

  function pick(button) {
    duplicate = { id: Number(button.dataset.mergePick), name: button.dataset.name };
    summary.textContent = format(gettext("%(duplicate)s will be merged into %(survivor)s; this can be undone."), {
      duplicate: duplicate.name,
      survivor: survivor.name,
    });
    pickStep.hidden = true;
    confirmStep.hidden = false;
    submit.focus();
  }

  async function merge() {
    if (!survivor || !duplicate) return;
    submit.disabled = true;
    try {
      await api.post(`/api/v1/customers/${survivor.id}/merge/`, { other: duplicate.id });
      dialog.close();
      showToast(
        format(gettext("%(duplicate)s merged into %(survivor)s."), { duplicate: duplicate.name, survivor: survivor.name }),
      );
      await onChanged();
    } catch (error) {
      showToast(format(gettext("Not merged: %(reason)s"), { reason: error.message }), { isError: true });
    } finally {
      submit.disabled = false;
    }
  }

  async function undo(button) {
    button.disabled = true;
    try {
      await api.post(`/api/v1/customer-merges/${button.dataset.mergeUndo}/undo/`);
      showToast(format(gettext("Merge of %(name)s undone."), { name: button.dataset.mergeName }));
      await onChanged();
    } catch (error) {
      button.disabled = false;
      showToast(format(gettext("Not undone: %(reason)s"), { reason: error.message }), { isError: true });
    }
  }

  profile.addEventListener("click", (event) => {
    const openButton = event.target.closest("#merge-open");
    if (openButton) open(openButton);
    const undoButton = event.target.closest("button[data-merge-undo]");
    if (undoButton) undo(undoButton);
  });
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(find, SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(searchTimer);
      find();
    }
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-merge-pick]");
    if (button) pick(button);
  });
  document.getElementById("merge-back").addEventListener("click", showPick);
  document.getElementById("merge-cancel").addEventListener("click", () => dialog.close());
  submit.addEventListener("click", merge);
}
