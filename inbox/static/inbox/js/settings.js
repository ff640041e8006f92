// The settings page: the operator's language and time zone, labels, canned replies and
// (admins) outgoing webhooks, written through the REST API. The server renders the lists; after a change the page
// reloads them from it.
// gettext() and interpolate() come from the page's catalogue script (/jsi18n/).

import { api } from "./api.js";

const status = document.getElementById("settings-status");

function show(text, { isError = false } = {}) {
  status.textContent = text;
  status.classList.toggle("is-error", isError);
}

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

async function run(action, done) {
  try {
    await action();
    sessionStorage.setItem("settings-status", done);
    window.location.reload();
  } catch (error) {
    show(error.message, { isError: true });
  }
}

function rowId(element, attribute) {
  return element.closest(`[${attribute}]`).getAttribute(attribute);
}

document.getElementById("new-label-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  run(() => api.post("/api/v1/labels/", fields(event.target)), gettext("Label added."));
});

document.getElementById("new-canned-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = fields(form);
  // Supervisors and admins choose; an operator's replies are personal.
  if (form.elements.is_shared) body.is_shared = form.elements.is_shared.checked;
  run(() => api.post("/api/v1/canned-responses/", body), gettext("Canned reply added."));
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("[data-label-form]")) {
    event.preventDefault();
    const id = rowId(form, "data-label-id");
    run(() => api.patch(`/api/v1/labels/${id}/`, fields(form)), gettext("Label saved."));
  } else if (form.matches("[data-canned-form]")) {
    event.preventDefault();
    const id = rowId(form, "data-canned-id");
    run(() => api.patch(`/api/v1/canned-responses/${id}/`, fields(form)), gettext("Canned reply saved."));
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-delete-label], [data-delete-canned]");
  if (!button) return;
  const isLabel = button.hasAttribute("data-delete-label");
  const id = rowId(button, isLabel ? "data-label-id" : "data-canned-id");
  const question = isLabel
    ? gettext("Delete this label? It comes off every conversation.")
    : gettext("Delete this canned reply?");
  if (!window.confirm(question)) return;
  const path = isLabel ? `/api/v1/labels/${id}/` : `/api/v1/canned-responses/${id}/`;
  run(() => api.delete(path), isLabel ? gettext("Label deleted.") : gettext("Canned reply deleted."));
});

document.getElementById("language-select")?.addEventListener("change", (event) => {
  // The page comes back in the chosen language; the note is written in it there.
  run(() => api.patch("/api/v1/operators/me/", { language: event.target.value }), "language-saved");
});

document.getElementById("time-zone-select")?.addEventListener("change", (event) => {
  run(() => api.patch("/api/v1/operators/me/", { time_zone: event.target.value }), gettext("Time zone saved."));
});

document.getElementById("new-webhook-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = fields(form);
  body.events = new FormData(form).getAll("events");
  run(() => api.post("/api/v1/webhooks/", body), gettext("Webhook added."));
});

document.addEventListener("click", (event) => {
  const button = event.target.closest(
    "[data-webhook-test], [data-webhook-active], [data-delete-webhook], [data-redeliver]",
  );
  if (!button) return;
  const path = `/api/v1/webhooks/${rowId(button, "data-webhook-id")}/`;
  if (button.hasAttribute("data-webhook-test")) {
    run(() => api.post(`${path}test/`), gettext("Test event queued: its delivery is listed below."));
  } else if (button.hasAttribute("data-redeliver")) {
    const delivery = rowId(button, "data-delivery-id");
    run(() => api.post(`${path}deliveries/${delivery}/redeliver/`), gettext("Delivery queued again."));
  } else if (button.hasAttribute("data-webhook-active")) {
    const active = button.getAttribute("data-webhook-active") === "true";
    run(() => api.patch(path, { active }), active ? gettext("Webhook switched on.") : gettext("Webhook switched off."));
  } else if (window.confirm(gettext("Delete this webhook and its delivery log?"))) {
    run(() => api.delete(path), gettext("Webhook deleted."));
  }
});

const previous = sessionStorage.getItem("settings-status");
if (previous) {
  show(previous === "language-saved" ? gettext("Language saved.") : previous);
  sessionStorage.removeItem("settings-status");
}

document.getElementById("follow-up-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {
    enabled: form.elements.enabled.checked,
    action: form.elements.action.value,
    assign_to: form.elements.assign_to.value,
    team: form.elements.team.value ? Number(form.elements.team.value) : null,
  };
  run(() => api.patch("/api/v1/settings/follow-ups/", body), gettext("Follow-up settings saved."));
});
