// The inbox's websocket: one connection, its state shown in the header, and each event
// handed to the part of the page that owns it.

import { LiveConnection } from "./live.js";

export const STATE_LABELS = {
  live: gettext("Live"),
  connecting: gettext("Connecting…"),
  reconnecting: gettext("Reconnecting…"),
};

export function setupLiveEvents() {
  const liveStatus = document.getElementById("live-status");
  let connection = null;

  /**
   * Connect. `handlers` maps an event type to its handler; `onLive()` runs on every
   * (re)connection, `onReconnect()` after a drop, to catch up from the server.
   */
  function start({ handlers, onLive, onReconnect }) {
    const routes = new Map(Object.entries(handlers));
    connection = new LiveConnection({
      url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`,
      onEvent: (event) => routes.get(event.type)?.(event),
      onReconnect,
      onState(state) {
        liveStatus.dataset.state = state;
        liveStatus.textContent = STATE_LABELS[state];
        if (state === "live") onLive();
      },
    });
    connection.start();
  }

  /** Sent only while connected: what the page says (typing, presence, viewing) is worthless later. */
  function send(event) {
    connection?.send(event);
  }

  return { start, send };
}
