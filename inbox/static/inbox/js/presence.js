// Who of the team is online: the operator's own status (chosen in the header, kept for the
// tab), colleagues online or away in the header, and a presence dot by assignee names.

import { api } from "./api.js";
import { element, html } from "./dom.js";
import { format } from "./i18n.js";

const PRESENCE_KEY = "switchboard.presence";
const PRESENCE_LABELS = { online: gettext("Online"), away: gettext("Away"), offline: gettext("Offline") };

/** `markedRoots` are the elements whose assignee names carry a presence dot. */
export function setupPresence({ me, live, markedRoots }) {
  const presenceSelect = document.getElementById("presence-select");
  const teamOnline = document.getElementById("team-online");

  // Operators online or away, by id: loaded on (re)connect, then kept by presence events.
  const presence = new Map();
  // What the operator chose in the header; "online" lets a hidden tab show as away.
  let chosenPresence = sessionStorage.getItem(PRESENCE_KEY) || "online";

  function presenceOf(operatorId) {
    return presence.get(operatorId)?.status || "offline";
  }

  /** Mark every assignee inside `root` with their presence (styled as a dot). */
  function withPresence(root) {
    const nodes = root.matches?.("[data-operator-id]") ? [root] : [];
    for (const node of [...nodes, ...root.querySelectorAll("[data-operator-id]")]) {
      const status = presenceOf(Number(node.dataset.operatorId));
      node.dataset.presence = status;
      node.title = PRESENCE_LABELS[status];
    }
    return root;
  }

  function renderPresence() {
    const others = [...presence.values()].filter((entry) => entry.operator.id !== me.id);
    teamOnline.replaceChildren(
      ...others.map((entry) =>
        element(
          html`<li data-presence="${entry.status}" title="${format(gettext("%(name)s: %(status)s"), { name: entry.operator.name, status: PRESENCE_LABELS[entry.status] || entry.status })}"><span class="presence-dot" aria-hidden="true"></span>${entry.operator.name}</li>`,
        ),
      ),
    );
    teamOnline.hidden = !others.length;
    for (const root of markedRoots) withPresence(root);
  }

  function onPresence(event) {
    if (!event.operator?.id) return;
    if (event.status === "offline") presence.delete(event.operator.id);
    else presence.set(event.operator.id, { operator: event.operator, status: event.status });
    renderPresence();
  }

  async function loadPresence() {
    try {
      const answer = await api.get("/inbox/presence/");
      presence.clear();
      for (const entry of answer.operators) presence.set(entry.operator.id, entry);
      renderPresence();
    } catch {
      // Events keep it roughly right until the next reconnect.
    }
  }

  function sendPresence(status) {
    live.send({ type: "presence", status });
  }

  /** On (re)connecting: the server counts a new connection as online, so restate a different choice. */
  function restate() {
    if (chosenPresence !== "online") sendPresence(chosenPresence);
    else if (document.hidden) sendPresence("away");
    loadPresence();
  }

  /** A tab in the background shows as away, unless the operator chose a status. */
  function onVisibilityChange() {
    if (chosenPresence === "online") sendPresence(document.hidden ? "away" : "online");
  }

  presenceSelect.value = chosenPresence;
  presenceSelect.dataset.presence = chosenPresence;
  presenceSelect.addEventListener("change", () => {
    chosenPresence = presenceSelect.value;
    presenceSelect.dataset.presence = chosenPresence;
    sessionStorage.setItem(PRESENCE_KEY, chosenPresence);
    sendPresence(chosenPresence);
  });

  return { mark: withPresence, onPresence, restate, onVisibilityChange };
}
