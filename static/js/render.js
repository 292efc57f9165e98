// Drawing the game: snapshots arrive at 20 Hz; everything is drawn DELAY_MS in the past, interpolated
// between the two snapshots around that moment, and events (hits) are drawn on that same clock.
// Only what you do is predicted: your ball starts moving the moment you click (reconciled with each
// snapshot) and your fireball leaves at once (until the server's own takes its place). While the
// connection stalls nothing is predicted; once it is lost the arena is greyed.

import { FIREBALL, PLAYER } from "./arena-client.js";

const { ID, X, Y } = PLAYER; // FIREBALL's too
const DELAY_MS = 100;
// Distinct colours for up to 10 players (bots too); more cycle through hues.
const PALETTE = ["#4fc3f7", "#ef5350", "#66bb6a", "#ffca28", "#ab47bc", "#ff8a65", "#26c6da", "#d4e157",
  "#ec407a", "#8d6e63"];
const MIN_LABEL_CSS_PX = 13; // names stay readable however small the canvas is shown
const MAX_NAME = 14;
const TRAIL = 8; // positions of a fireball's trail
const MARKER_MS = 600; // how long the mark of a move's target stays
const SHOT_HANDOVER_MS = 400; // a predicted fireball gives way to the server's (or is dropped) by then

export function colorOf(index) {
  return index < PALETTE.length ? PALETTE[index] : `hsl(${(index * 137.5) % 360} 70% 60%)`;
}

function shortName(name) { return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name; }

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.snapshots = []; // [{at, state}], oldest first
    this.effects = []; // {kind, player, x, y, startAt, until, particles}
    this.trails = new Map(); // fireball id -> [[x, y], ...]
    this.players = new Map(); // id -> {username, score, bot, color}
    this.me = null;
    this.room = null;
    this.map = { width: 16 / 9, height: 1 };
    this.speed = 0.15;
    this.hitsToKill = 4;
    this.aim = null; // {x, y, skill, color} in map units while a skill is armed
    this.prediction = null; // {tx, ty, from: {x, y}, at}
    this.marker = null; // {x, y, at}: where the last move sends you
    this.shots = []; // your fireballs drawn before the server has them: {x, y, dx, dy, at, known}
    this.stalled = false; // no frame for a while: nothing predicted
    this.lost = false; // the connection is gone: the arena is greyed
    this.labelCssPx = 0;
    this.delay = DELAY_MS;
    this.cooldowns = { fireball: 3, blink: 5 };
  }

  start(gameStart) {
    this.map = gameStart.map;
    this.room = gameStart.room;
    this.me = gameStart.you;
    this.speed = gameStart.speed ?? this.speed;
    this.hitsToKill = gameStart.hits_to_kill ?? this.hitsToKill;
    this.blinkRange = gameStart.blink_range ?? 0.8;
    this.fireball = { speed: gameStart.fireball_speed ?? 0.5, range: gameStart.fireball_range ?? 1 };
    this.cooldowns = { fireball: gameStart.fireball_cooldown ?? 3, blink: gameStart.blink_cooldown ?? 5 };
    this.snapshots = [];
    this.effects = [];
    this.trails = new Map();
    this.prediction = null;
    this.marker = null;
    this.shots = [];
    this.stalled = this.lost = false;
    this.players = new Map(gameStart.players.map((p, i) => [p.id, { ...p, color: colorOf(i) }]));
  }

  push(state) {
    this.snapshots.push({ at: performance.now(), state });
    if (this.snapshots.length > 30) this.snapshots.shift();
  }

  // A hit, drawn in the attacker's colour when the delayed clock reaches it, around where the victim is
  // drawn then; on your own ball at once, where your ball is drawn (it is not delayed).
  hit(attackee, attacker, x, y) {
    const now = performance.now();
    const startAt = attackee === this.me ? now : now + DELAY_MS;
    const particles = Array.from({ length: 10 }, () => {
      const angle = Math.random() * 2 * Math.PI;
      return { dx: Math.cos(angle), dy: Math.sin(angle), speed: 0.1 + Math.random() * 0.2 };
    });
    const color = (this.players.get(attacker) || { color: "#ffeb3b" }).color;
    this.effects.push({ player: attackee, x, y, startAt, until: startAt + 400, particles, color });
  }

  // Your own ball heads for the target now; the server's snapshots take over as they arrive.
  predictMove(tx, ty, now = performance.now()) {
    const from = this.selfAt(now);
    this.marker = { x: tx, y: ty, at: now };
    if (from && !this.stalled) this.prediction = { tx, ty, from, at: now };
  }

  // Your fireball leaves your ball at once; the server's replaces it when the delayed frame shows it.
  predictShot(tx, ty, now = performance.now()) {
    const from = this.selfAt(now);
    const distance = from && Math.hypot(tx - from.x, ty - from.y);
    if (!from || !distance || this.stalled) return;
    const mine = this.myFireballs(this.frame(now));
    this.shots.push({ x: from.x, y: from.y, dx: (tx - from.x) / distance, dy: (ty - from.y) / distance, at: now,
      known: mine });
  }

  // Where a blink toward the point lands: the point, or blink's range short of it.
  blinkTarget(self, x, y) {
    const distance = Math.hypot(x - self.x, y - self.y);
    const reach = Math.min(distance, this.blinkRange);
    return distance ? { x: self.x + ((x - self.x) / distance) * reach, y: self.y + ((y - self.y) / distance) * reach } : self;
  }

  myFireballs(frame) {
    return new Set(frame ? frame.fireballs.filter((ball) => ball[FIREBALL.OWNER] === this.me).map((ball) => ball[ID]) : []);
  }

  // Canvas pixels → map units, for pointer targets.
  toMap(clientX, clientY) {
    const box = this.canvas.getBoundingClientRect();
    return {
      tx: ((clientX - box.left) / box.width) * this.map.width,
      ty: ((clientY - box.top) / box.height) * this.map.height,
    };
  }

  // The interpolated rows at render time: players and fireballs.
  frame(now) {
    const at = now - DELAY_MS;
    const list = this.snapshots;
    if (list.length === 0) return null;
    let older = list[0], newer = list[0];
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].at <= at) { older = list[i]; newer = list[Math.min(i + 1, list.length - 1)]; break; }
    }
    const span = newer.at - older.at;
    const t = span > 0 ? Math.min(1, Math.max(0, (at - older.at) / span)) : 1;
    const mix = (rowsA, rowsB) => {
      const before = new Map(rowsA.map((row) => [row[ID], row]));
      return rowsB.map((row) => {
        const old = before.get(row[ID]);
        if (!old) return row;
        const moved = [...row];
        moved[X] = old[X] + (row[X] - old[X]) * t;
        moved[Y] = old[Y] + (row[Y] - old[Y]) * t;
        return moved;
      });
    };
    return { players: mix(older.state.players, newer.state.players), fireballs: mix(older.state.fireballs, newer.state.fireballs) };
  }

  // Where your own ball is drawn: the newest snapshot (not delayed), moved on toward your last click
  // for the time since; once the server has you there, the prediction ends.
  selfAt(now) {
    const row = this.latest(this.me);
    if (!row) return null;
    const last = this.snapshots[this.snapshots.length - 1];
    const p = this.prediction;
    if (!p || !row[PLAYER.ALIVE] || this.stalled) return { x: row[X], y: row[Y] };
    const base = last.at > p.at ? { x: row[X], y: row[Y], at: last.at } : { ...p.from, at: p.at };
    const dx = p.tx - base.x, dy = p.ty - base.y, distance = Math.hypot(dx, dy);
    if (distance < 1e-3) { // arrived: the snapshots alone place the ball again
      this.prediction = null;
      return { x: base.x, y: base.y };
    }
    const step = Math.min(distance, this.speed * Math.max(0, now - base.at) / 1000);
    return { x: base.x + (dx / distance) * step, y: base.y + (dy / distance) * step };
  }

  draw(now) {
    const { context: g, canvas } = this;
    const scale = canvas.height / this.map.height;
    const cssScale = canvas.width / Math.max(1, canvas.clientWidth); // canvas px per CSS px
    const font = Math.max(22, MIN_LABEL_CSS_PX * cssScale);
    this.labelCssPx = font / cssScale;
    this.drawArena(g, scale);
    const frame = this.frame(now);
    if (!frame) return;
    this.drawMarker(g, now, scale);
    this.drawFireballs(g, frame.fireballs, scale);
    this.drawShots(g, frame, now, scale);
    for (const row of frame.players) {
      const [id, radius, alive] = [row[ID], row[PLAYER.RADIUS], row[PLAYER.ALIVE]];
      const [connected, hits] = [row[PLAYER.CONNECTED], row[PLAYER.HITS]];
      const info = this.players.get(id) || { username: "?", score: 0, color: "#999" };
      const self = id === this.me ? this.selfAt(now) : null;
      const x = (self ? self.x : row[X]) * scale, y = (self ? self.y : row[Y]) * scale, r = radius * scale;
      g.globalAlpha = alive ? (connected ? 1 : 0.5) : 0.15;
      g.beginPath();
      g.arc(x, y, r, 0, 2 * Math.PI);
      g.fillStyle = info.color;
      g.fill();
      if (id === this.me) { g.lineWidth = 4; g.strokeStyle = "#fff"; g.stroke(); }
      if (alive) this.drawHealth(g, x, y, r, hits);
      g.globalAlpha = alive ? 1 : 0.4;
      this.drawLabel(g, info.bot ? shortName(info.username) : `${shortName(info.username)} (${info.score})`,
        x, y - r - 0.4 * font, font);
    }
    g.globalAlpha = 1;
    this.drawEffects(g, frame, now, scale);
    this.drawAim(g, now, scale);
    if (this.lost) {
      g.fillStyle = "#14161ccc";
      g.fillRect(0, 0, canvas.width, canvas.height);
    }
  }

  // A fading cross where your last move sends you.
  drawMarker(g, now, scale) {
    const m = this.marker;
    if (!m || now - m.at > MARKER_MS) return;
    const size = 0.015 * scale;
    g.globalAlpha = 1 - (now - m.at) / MARKER_MS;
    g.strokeStyle = "#e8e8e8";
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(m.x * scale - size, m.y * scale - size);
    g.lineTo(m.x * scale + size, m.y * scale + size);
    g.moveTo(m.x * scale + size, m.y * scale - size);
    g.lineTo(m.x * scale - size, m.y * scale + size);
    g.stroke();
    g.globalAlpha = 1;
  }

  // Your fireballs the server has not shown yet, flown from the moment you clicked.
  drawShots(g, frame, now, scale) {
    const mine = this.myFireballs(frame);
    this.shots = this.shots.filter((shot) => now - shot.at < SHOT_HANDOVER_MS
      && ![...mine].some((id) => !shot.known.has(id)));
    for (const shot of this.shots) {
      const travelled = Math.min(this.fireball.range, (this.fireball.speed * (now - shot.at)) / 1000);
      g.beginPath();
      g.arc((shot.x + shot.dx * travelled) * scale, (shot.y + shot.dy * travelled) * scale, 0.012 * scale, 0, 2 * Math.PI);
      g.fillStyle = "#ff7043";
      g.fill();
    }
  }

  drawArena(g, scale) {
    const { canvas } = this;
    g.fillStyle = "#0b0d12";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = "#ffffff10";
    g.lineWidth = 1;
    const step = 0.1 * scale;
    g.beginPath();
    for (let x = step; x < canvas.width; x += step) { g.moveTo(x, 0); g.lineTo(x, canvas.height); }
    for (let y = step; y < canvas.height; y += step) { g.moveTo(0, y); g.lineTo(canvas.width, y); }
    g.stroke();
    g.strokeStyle = "#f0a030";
    g.lineWidth = 6;
    g.strokeRect(3, 3, canvas.width - 6, canvas.height - 6);
  }

  // One pip per hit left, under the ball (above it against the bottom wall), inside the arena: the fourth
  // hit kills.
  drawHealth(g, x, y, r, hits) {
    const total = this.hitsToKill, left = Math.max(0, total - hits);
    const pip = Math.max(6, r * 0.22), gap = pip * 2.8;
    const { width, height } = this.canvas;
    const below = y + r + pip * 2.4;
    const row = below + pip < height ? below : y - r - pip * 2.4;
    const span = (total - 1) * gap;
    const first = Math.min(Math.max(x - span / 2, pip + 2), width - pip - 2 - span);
    for (let i = 0; i < total; i++) {
      g.beginPath();
      g.arc(first + i * gap, row, pip, 0, 2 * Math.PI);
      g.fillStyle = i < left ? "#e8e8e8" : "#ffffff30";
      g.fill();
    }
  }

  drawLabel(g, text, x, y, font) {
    g.font = `${Math.round(font)}px system-ui, sans-serif`;
    g.textAlign = "center";
    const half = g.measureText(text).width / 2;
    const { width, height } = this.canvas;
    const cx = Math.min(Math.max(x, half + 6), width - half - 6); // kept inside the arena
    const cy = Math.min(Math.max(y, font + 4), height - 6);
    g.lineWidth = Math.max(3, font / 6);
    g.strokeStyle = "#000a";
    g.strokeText(text, cx, cy);
    g.fillStyle = "#f2f2f2";
    g.fillText(text, cx, cy);
  }

  drawFireballs(g, fireballs, scale) {
    const seen = new Set();
    for (const ball of fireballs) {
      const [id, x, y] = [ball[FIREBALL.ID], ball[FIREBALL.X], ball[FIREBALL.Y]];
      seen.add(id);
      const trail = this.trails.get(id) || [];
      trail.push([x, y]);
      if (trail.length > TRAIL) trail.shift();
      this.trails.set(id, trail);
      trail.forEach(([tx, ty], i) => {
        g.globalAlpha = (i + 1) / trail.length * 0.5;
        g.beginPath();
        g.arc(tx * scale, ty * scale, (0.004 + 0.006 * i / TRAIL) * scale, 0, 2 * Math.PI);
        g.fillStyle = "#ffb74d";
        g.fill();
      });
      g.globalAlpha = 1;
      g.beginPath();
      g.arc(x * scale, y * scale, 0.012 * scale, 0, 2 * Math.PI);
      g.fillStyle = "#ff7043";
      g.shadowColor = "#ff7043";
      g.shadowBlur = 12;
      g.fill();
      g.shadowBlur = 0;
    }
    for (const id of this.trails.keys()) if (!seen.has(id)) this.trails.delete(id);
  }

  drawEffects(g, frame, now, scale) {
    this.effects = this.effects.filter((effect) => effect.until > now);
    for (const effect of this.effects) {
      if (now < effect.startAt) continue; // not yet on the delayed clock
      const row = frame.players.find((r) => r[ID] === effect.player);
      const self = effect.player === this.me ? this.selfAt(now) : null;
      const x = (self ? self.x : row ? row[X] : effect.x) * scale, y = (self ? self.y : row ? row[Y] : effect.y) * scale;
      const age = (now - effect.startAt) / (effect.until - effect.startAt);
      g.globalAlpha = 1 - age;
      g.beginPath();
      g.strokeStyle = effect.color;
      g.lineWidth = 3;
      g.arc(x, y, (0.05 + 0.05 * age) * scale, 0, 2 * Math.PI);
      g.stroke();
      g.fillStyle = "#ffcc80";
      for (const particle of effect.particles) {
        const distance = particle.speed * age * scale * 0.5;
        g.fillRect(x + particle.dx * distance - 3, y + particle.dy * distance - 3, 6, 6);
      }
    }
    g.globalAlpha = 1;
  }

  // An armed skill: a line from your ball toward the pointer; a blink's ends where the blink would land.
  drawAim(g, now, scale) {
    const self = this.aim && this.selfAt(now);
    if (!self) return;
    const end = this.aim.skill === "blink" ? this.blinkTarget(self, this.aim.x, this.aim.y) : this.aim;
    this.aimEnd = end;
    g.setLineDash([12, 10]);
    g.strokeStyle = this.aim.color;
    g.lineWidth = 3;
    g.beginPath();
    g.moveTo(self.x * scale, self.y * scale);
    g.lineTo(end.x * scale, end.y * scale);
    g.stroke();
    g.setLineDash([]);
  }

  // The newest server row of a player (cooldowns, alive).
  latest(id) {
    const last = this.snapshots[this.snapshots.length - 1];
    return last && last.state.players.find((row) => row[ID] === id);
  }
}
