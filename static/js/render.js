// Drawing the game: snapshots arrive at 20 Hz; we draw ~100 ms in the past, interpolating
// between the two snapshots around that moment, so motion is smooth at the screen's frame rate.

const DELAY_MS = 100;
const COLORS = ["#4fc3f7", "#ef5350", "#66bb6a", "#ab47bc", "#ffca28", "#26a69a"];

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.snapshots = []; // [{at, state}], oldest first
    this.effects = []; // {x, y, until}
    this.players = new Map(); // id -> {username, score, bot, color}
    this.me = null;
    this.map = { width: 16 / 9, height: 1 };
  }

  start(gameStart) {
    this.map = gameStart.map;
    this.me = gameStart.you;
    this.snapshots = [];
    this.players = new Map(gameStart.players.map((p, i) => [p.id, { ...p, color: COLORS[i % COLORS.length] }]));
  }

  push(state) {
    this.snapshots.push({ at: performance.now(), state });
    if (this.snapshots.length > 30) this.snapshots.shift();
  }

  flash(x, y) { this.effects.push({ x, y, until: performance.now() + 300 }); }

  // Canvas pixels → map units, for mouse targets.
  toMap(clientX, clientY) {
    const box = this.canvas.getBoundingClientRect();
    return {
      tx: ((clientX - box.left) / box.width) * this.map.width,
      ty: ((clientY - box.top) / box.height) * this.map.height,
    };
  }

  // The interpolated rows at render time: Map id -> row, and the fireballs.
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
      const before = new Map(rowsA.map((row) => [row[0], row]));
      return rowsB.map((row) => {
        const old = before.get(row[0]);
        if (!old) return row;
        return [row[0], old[1] + (row[1] - old[1]) * t, old[2] + (row[2] - old[2]) * t, ...row.slice(3)];
      });
    };
    return { players: mix(older.state.players, newer.state.players), fireballs: mix(older.state.fireballs, newer.state.fireballs) };
  }

  draw(now) {
    const { context: g, canvas } = this;
    const scale = canvas.height / this.map.height;
    g.clearRect(0, 0, canvas.width, canvas.height);
    const frame = this.frame(now);
    if (!frame) return;
    for (const [id, x, y, radius, alive, , , connected] of frame.players) {
      const info = this.players.get(id) || { username: "?", score: 0, color: "#999" };
      g.globalAlpha = alive ? (connected ? 1 : 0.5) : 0.15;
      g.beginPath();
      g.arc(x * scale, y * scale, radius * scale, 0, 2 * Math.PI);
      g.fillStyle = info.bot ? "#9e9e9e" : info.color;
      g.fill();
      if (id === this.me) { g.lineWidth = 4; g.strokeStyle = "#fff"; g.stroke(); }
      g.globalAlpha = alive ? 1 : 0.4;
      g.fillStyle = "#eee";
      g.font = "22px system-ui";
      g.textAlign = "center";
      const label = info.bot ? info.username : `${info.username} (${info.score})`;
      g.fillText(label, x * scale, (y - radius) * scale - 10);
    }
    g.globalAlpha = 1;
    g.fillStyle = "#ff7043";
    for (const [, x, y] of frame.fireballs) {
      g.beginPath();
      g.arc(x * scale, y * scale, 0.01 * scale, 0, 2 * Math.PI);
      g.fill();
    }
    this.effects = this.effects.filter((effect) => effect.until > now);
    for (const effect of this.effects) {
      g.beginPath();
      g.strokeStyle = "#ffeb3b";
      g.lineWidth = 3;
      g.arc(effect.x * scale, effect.y * scale, (0.06 + (effect.until - now) / 3000) * scale, 0, 2 * Math.PI);
      g.stroke();
    }
  }

  // The latest server row of this player, for cooldowns.
  latest(id) {
    const last = this.snapshots[this.snapshots.length - 1];
    return last && last.state.players.find((row) => row[0] === id);
  }
}
