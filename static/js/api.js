// The REST side: register, log in, keep the access token fresh, log out.
// Tokens live in memory; the refresh token also in sessionStorage so a reload keeps the session.

const REFRESH_KEY = "arena.refresh";

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, path, body, access) {
  const headers = { "Content-Type": "application/json" };
  if (access) headers.Authorization = `Bearer ${access}`;
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

export class Session extends EventTarget {
  constructor() {
    super();
    this.access = null;
    this.refresh = sessionStorage.getItem(REFRESH_KEY);
    this.timer = null;
  }

  get user() { return this.access ? claims(this.access) : null; }

  async register(username, password) {
    await call("POST", "/api/register/", { username, password });
    await this.login(username, password);
  }

  async login(username, password) {
    this.store(await call("POST", "/api/token/", { username, password }));
  }

  // Resume after a reload; false when there is no usable refresh token.
  async resume() {
    if (!this.refresh) return false;
    try {
      await this.renew();
      return true;
    } catch (error) {
      this.forget();
      return false;
    }
  }

  // A new access token (and, with rotation, a new refresh token), announced as "access".
  async renew() {
    this.store(await call("POST", "/api/token/refresh/", { refresh: this.refresh }));
  }

  store(tokens) {
    if (tokens.refresh) {
      this.refresh = tokens.refresh;
      sessionStorage.setItem(REFRESH_KEY, tokens.refresh);
    }
    this.access = tokens.access;
    this.scheduleRenewal();
    this.dispatchEvent(new CustomEvent("access", { detail: this.access }));
  }

  // Renew at 70% of the access token's life, so a 5-minute token never lapses mid-game.
  scheduleRenewal() {
    clearTimeout(this.timer);
    const { iat, exp } = claims(this.access);
    const due = (iat + 0.7 * (exp - iat)) * 1000 - Date.now();
    this.timer = setTimeout(() => this.renew().catch(() => this.expire()), Math.max(due, 500));
  }

  expire() {
    this.forget();
    this.dispatchEvent(new Event("expired"));
  }

  async me() { return call("GET", "/api/me/", null, this.access); }

  async logout() {
    const refresh = this.refresh;
    this.forget();
    if (refresh) await call("POST", "/api/token/blacklist/", { refresh }).catch(() => {});
  }

  forget() {
    clearTimeout(this.timer);
    this.access = null;
    this.refresh = null;
    sessionStorage.removeItem(REFRESH_KEY);
  }
}

export async function leaderboard(limit = 10) {
  return (await call("GET", `/api/leaderboard/?limit=${limit}`)).results;
}
