// The operator websocket: reconnects with backoff after a drop and tells the page so it
// can catch up from the server (delivery over the socket is at-most-once).

const MAX_DELAY_MS = 30000;
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;

export class LiveConnection {
  constructor({ url, onEvent, onState, onReconnect }) {
    this.url = url;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.attempt = 0;
    this.hasConnected = false;
    this.socket = null;
  }

  start() {
    this.onState("connecting");
    this.open();
    window.addEventListener("online", () => this.reconnectNow());
  }

  open() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const isReconnect = this.hasConnected;
      this.hasConnected = true;
      this.attempt = 0;
      this.onState("live");
      this.startHeartbeat();
      if (isReconnect) this.onReconnect();
    });
    socket.addEventListener("message", (message) => {
      this.lastHeard = Date.now();
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type !== "pong") this.onEvent(event);
    });
    socket.addEventListener("close", (closed) => {
      this.stopHeartbeat();
      if (this.socket !== socket) return;
      if (closed.code === 4401) {
        window.location.assign("/login/");
        return;
      }
      this.onState("reconnecting");
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const base = Math.min(1000 * 2 ** this.attempt, MAX_DELAY_MS);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.lastHeard = Date.now();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeard > PING_EVERY_MS + PONG_WITHIN_MS) {
        // Nothing heard since the last ping: the connection is dead without knowing it.
        this.socket.close();
        return;
      }
      this.send({ type: "ping" });
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
  }

  /** Send now when connected; typing and presence are worthless later, so drop them. */
  send(event) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(event));
    }
  }
}
