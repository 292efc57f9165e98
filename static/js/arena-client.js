// Tornado Arena's client: the REST API (register, log in, keep the access token fresh, log out) and the
// game socket (authenticate, pass renewed tokens on, reconnect while the seat is kept), for any page or
// game. `new ArenaClient({ baseUrl })`; docs/protocol.md has an example. No UI in here.

export const CLOSE = { UNAUTHORIZED: 4001, REPLACED: 4002, TOKEN_EXPIRED: 4003, MOVED: 4004 };
// Where each field sits in a `state` frame's rows (docs/protocol.md); both kinds start with id, x, y.
export const PLAYER = Object.freeze({
  ID: 0, X: 1, Y: 2, RADIUS: 3, ALIVE: 4, FIREBALL_COOLDOWN: 5, BLINK_COOLDOWN: 6, CONNECTED: 7, HITS: 8,
});
export const FIREBALL = Object.freeze({ ID: 0, X: 1, Y: 2, OWNER: 3 });
const FINAL_CLOSES = [CLOSE.UNAUTHORIZED, CLOSE.TOKEN_EXPIRED, CLOSE.REPLACED];
const RETRY_DELAYS = [500, 1000, 2000, 4000, 8000];
const GIVE_UP_AFTER = 20000; // the server's default reconnect grace
const RENEW_AT = 0.7; // of the access token's life: a 5-minute token never lapses mid-game
const REDIRECT_TRIES = 2; // then back to our own origin (single-process servers never redirect)

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : status ? `HTTP ${status}` : "The server cannot be reached.");
    this.status = status; // 0: no answer at all
    this.body = body || {};
  }
}

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

export class ArenaClient extends EventTarget {
  // Events: "access" (detail: the new access token), "expired" (the session cannot be renewed).
  // The refresh token is kept in `storage`: localStorage by default, so the session is shared by the
  // site's tabs and outlives closing one, as SimpleJWT front ends usually do (docs/security.md says what
  // that trades); pass sessionStorage to end it with the tab.
  constructor({ baseUrl = location.origin, storage = localStorage, storageKey = "arena.refresh",
    redirectHosts = [] } = {}) {
    super();
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.redirectHosts = redirectHosts; // other hosts a cluster's processes may redirect the socket to
    this.storage = storage;
    this.storageKey = storageKey;
    this.access = null;
    this.refresh = storage.getItem(storageKey);
    this.timer = null;
  }

  get user() { return this.access ? claims(this.access) : null; }

  async call(method, path, body, access) {
    const headers = { "Content-Type": "application/json" };
    if (access) headers.Authorization = `Bearer ${access}`;
    let response;
    try {
      response = await fetch(this.baseUrl + path, { method, headers, body: body && JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, null);
    }
    const payload = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  async register(username, password) {
    await this.call("POST", "/api/register/", { username, password });
    await this.login(username, password);
  }

  async login(username, password) {
    this.store(await this.call("POST", "/api/token/", { username, password }));
  }

  // Resume a stored session (after a reload); false when there is none left.
  async resume() {
    if (!this.refresh) return false;
    try {
      await this.renew();
      return true;
    } catch (error) {
      if (error.status === 0) throw error; // the server is away: the session may still be good
      this.forget();
      return false;
    }
  }

  async renew() {
    this.store(await this.call("POST", "/api/token/refresh/", { refresh: this.refresh }));
  }

  store(tokens) {
    if (tokens.refresh) {
      this.refresh = tokens.refresh;
      this.storage.setItem(this.storageKey, tokens.refresh);
    }
    this.access = tokens.access;
    clearTimeout(this.timer);
    const { iat, exp } = claims(this.access);
    const due = (iat + RENEW_AT * (exp - iat)) * 1000 - Date.now();
    this.timer = setTimeout(() => this.renew().catch(() => this.expire()), Math.max(due, 500));
    this.dispatchEvent(new CustomEvent("access", { detail: this.access }));
  }

  expire() {
    this.forget();
    this.dispatchEvent(new Event("expired"));
  }

  me() { return this.call("GET", "/api/me/", null, this.access); }

  // The game this user is still alive in: {room, rejoin_within} or null.
  async runningGame() { return (await this.call("GET", "/api/me/game/", null, this.access)).game; }

  // The user's latest games, newest first (`GET /api/me/games/`).
  async myGames(limit = 5) { return (await this.call("GET", `/api/me/games/?limit=${limit}`, null, this.access)).results; }

  // The games running now, newest first (`GET /api/games/live/`): {room, players, started_at, spectators}.
  async liveGames(limit = 10) { return (await this.call("GET", `/api/games/live/?limit=${limit}`)).results; }

  // A finished game's replay, with the frames the server played from it (`GET /api/games/{id}/replay/`).
  replay(gameId) { return this.call("GET", `/api/games/${encodeURIComponent(gameId)}/replay/`, null, this.access); }

  async leaderboard(limit = 10) { return (await this.call("GET", `/api/leaderboard/?limit=${limit}`)).results; }

  async logout() {
    const refresh = this.refresh;
    this.forget();
    if (refresh) await this.call("POST", "/api/token/blacklist/", { refresh }).catch(() => {});
  }

  forget() {
    clearTimeout(this.timer);
    this.access = null;
    this.refresh = null;
    this.storage.removeItem(this.storageKey);
  }

  // A game socket for this session; call open() on it.
  connect() { return new GameConnection(this); }
}

export class GameConnection extends EventTarget {
  // Events: "event" (detail: a server frame), "online" (welcomed), "offline" (detail: {attempt, delay}),
  // "ended" (detail: the CloseEvent; no more retries). In cluster mode a `redirect` frame and close
  // 4004 send the connection to the process running the player's room.
  constructor(client) {
    super();
    this.client = client;
    this.socket = null;
    this.attempt = 0;
    this.droppedAt = null;
    this.leaving = false;
    this.target = null; // the URL a redirect named, until it fails REDIRECT_TRIES times
    this.redirectUrl = null;
    this.failedRedirects = 0;
    this.welcomed = false;
    this.urls = []; // every URL opened, in order
    this.onAccess = (event) => this.send({ event: "refresh_token", token: event.detail });
    client.addEventListener("access", this.onAccess);
  }

  get url() {
    if (this.target) return this.target;
    const url = new URL("/wss/multiplayer/", this.client.baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  open() {
    const url = this.url;
    this.urls.push(url);
    this.welcomed = false;
    const socket = new WebSocket(url);
    this.socket = socket;
    // The token goes in the first frame, not the URL: it stays out of every access log.
    socket.onopen = () => socket.send(JSON.stringify({ event: "auth", token: this.client.access }));
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.event === "welcome") {
        this.attempt = 0;
        this.droppedAt = null;
        this.welcomed = true;
        this.failedRedirects = 0;
        this.dispatchEvent(new Event("online"));
      }
      if (event.event === "redirect" && this.trusts(event.url)) this.redirectUrl = event.url;
      this.dispatchEvent(new CustomEvent("event", { detail: event }));
    };
    socket.onclose = (close) => this.closed(close);
  }

  closed(close) {
    if (this.leaving) return;
    if (close.code === CLOSE.MOVED && this.redirectUrl) { // go where the room is, at once
      this.target = this.redirectUrl;
      this.redirectUrl = null;
      this.open();
      return;
    }
    if (this.target && !this.welcomed && ++this.failedRedirects >= REDIRECT_TRIES) {
      this.target = null;
      this.failedRedirects = 0;
    }
    this.droppedAt ??= Date.now();
    if (FINAL_CLOSES.includes(close.code) || Date.now() - this.droppedAt > GIVE_UP_AFTER) {
      this.stop();
      this.dispatchEvent(new CustomEvent("ended", { detail: close }));
      return;
    }
    const delay = RETRY_DELAYS[Math.min(this.attempt++, RETRY_DELAYS.length - 1)];
    this.dispatchEvent(new CustomEvent("offline", { detail: { attempt: this.attempt, delay } }));
    setTimeout(() => this.leaving || this.open(), delay);
  }

  // A redirect carries the token to another process: only to a game socket URL on the server's own host
  // (or a host the app lists in `redirectHosts`); any other is ignored, and the reconnection stays here.
  trusts(url) {
    try {
      const target = new URL(url);
      const hosts = [new URL(this.client.baseUrl).hostname, ...this.client.redirectHosts];
      return (target.protocol === "wss:" || target.protocol === "ws:") && hosts.includes(target.hostname);
    } catch {
      return false;
    }
  }

  get isOpen() { return this.socket !== null && this.socket.readyState === WebSocket.OPEN; }

  send(frame) {
    if (this.isOpen) this.socket.send(JSON.stringify(frame));
  }

  stop() {
    this.leaving = true;
    this.client.removeEventListener("access", this.onAccess);
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }
}
