// The game socket: authenticate with the first frame (the token stays out of URLs and logs),
// pass every new access token on, and reconnect with backoff while the seat is kept.

export const CLOSE = { UNAUTHORIZED: 4001, REPLACED: 4002, TOKEN_EXPIRED: 4003 };
const RETRY_DELAYS = [500, 1000, 2000, 4000, 8000];
const GIVE_UP_AFTER = 20000; // the server's default reconnect grace

export class GameConnection extends EventTarget {
  constructor(session) {
    super();
    this.session = session;
    this.socket = null;
    this.attempt = 0;
    this.droppedAt = null;
    this.leaving = false;
    this.onAccess = (event) => this.send({ event: "refresh_token", token: event.detail });
    session.addEventListener("access", this.onAccess);
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/wss/multiplayer/`);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ event: "auth", token: this.session.access }));
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.event === "welcome") {
        this.attempt = 0;
        this.droppedAt = null;
        this.dispatchEvent(new Event("online"));
      }
      this.dispatchEvent(new CustomEvent("event", { detail: event }));
    };
    socket.onclose = (close) => this.closed(close);
  }

  closed(close) {
    if (this.leaving) return;
    if ([CLOSE.UNAUTHORIZED, CLOSE.TOKEN_EXPIRED, CLOSE.REPLACED].includes(close.code)) {
      this.stop();
      this.dispatchEvent(new CustomEvent("ended", { detail: close }));
      return;
    }
    this.droppedAt ??= Date.now();
    if (Date.now() - this.droppedAt > GIVE_UP_AFTER) {
      this.stop();
      this.dispatchEvent(new CustomEvent("ended", { detail: close }));
      return;
    }
    const delay = RETRY_DELAYS[Math.min(this.attempt++, RETRY_DELAYS.length - 1)];
    this.dispatchEvent(new CustomEvent("offline", { detail: delay }));
    setTimeout(() => this.leaving || this.open(), delay);
  }

  get isOpen() { return this.socket !== null && this.socket.readyState === WebSocket.OPEN; }

  send(frame) {
    if (this.isOpen) this.socket.send(JSON.stringify(frame));
  }

  stop() {
    this.leaving = true;
    this.session.removeEventListener("access", this.onAccess);
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }
}
