// A finished game played back in the page from its downloaded replay (`GET /api/games/{id}/replay/`):
// the server's frames drawn by the same Renderer, at 1×, 2× or 4×, paused and sought, with no further
// request to the server. Events ("attack", "died", "message", …) fire as playback passes their step.

const SPAN_MS = 1000; // the two snapshots handed to the renderer are this far apart on its clock

export class ReplayPlayer extends EventTarget {
  // Events: "event" (detail: a game event as the socket would send it), "end" (detail: the result).
  constructor(renderer, replay) {
    super();
    this.renderer = renderer;
    this.replay = replay;
    this.states = replay.frames.filter((frame) => frame.event === "state");
    this.happenings = replay.frames.filter((frame) => frame.event === "events");
    this.steps = replay.steps;
    this.tickRate = replay.tick_rate;
    this.speed = 1;
    this.playing = true;
    this.ended = false;
    this.step = 0;
    this.nextHappening = 0;
    this.lastNow = null;
  }

  // What a `game_start` would have said, for Renderer.start: nobody is "you".
  description() {
    const s = this.replay.settings;
    return { room: null, you: null, map: { width: s.MAP_WIDTH, height: s.MAP_HEIGHT }, speed: s.PLAYER_SPEED,
      hits_to_kill: s.HITS_TO_KILL, blink_range: s.BLINK_RANGE, fireball_speed: s.FIREBALL_SPEED,
      fireball_range: s.FIREBALL_RANGE, fireball_cooldown: s.FIREBALL_COOLDOWN, blink_cooldown: s.BLINK_COOLDOWN,
      players: this.replay.players.map(({ id, username, score, bot }) => ({ id, username, score, bot })) };
  }

  get seconds() { return this.step / this.tickRate; }
  get duration() { return this.steps / this.tickRate; }

  setSpeed(speed) { this.speed = speed; }

  toggle() {
    if (this.ended) this.seek(0);
    this.playing = !this.playing || this.ended;
    this.ended = false;
  }

  // Jump to a step: what happened before it is not replayed (no hits drawn, no sounds).
  seek(step) {
    this.step = Math.max(0, Math.min(this.steps, step));
    this.nextHappening = this.happenings.findIndex((frame) => frame.step > this.step);
    if (this.nextHappening < 0) this.nextHappening = this.happenings.length;
    this.renderer.effects = [];
    this.renderer.trails = new Map();
    this.ended = false;
  }

  // Move playback on to `now` (performance.now()) and hand the renderer the snapshots around it.
  advance(now) {
    const elapsed = this.lastNow === null ? 0 : now - this.lastNow;
    this.lastNow = now;
    if (this.playing && !this.ended) {
      this.step = Math.min(this.steps, this.step + (elapsed / 1000) * this.tickRate * this.speed);
      while (this.nextHappening < this.happenings.length && this.happenings[this.nextHappening].step <= this.step) {
        for (const event of this.happenings[this.nextHappening].events) {
          this.dispatchEvent(new CustomEvent("event", { detail: event }));
        }
        this.nextHappening += 1;
      }
      if (this.step >= this.steps) {
        this.ended = true;
        this.playing = false;
        this.dispatchEvent(new CustomEvent("end", { detail: this.replay.result }));
      }
    }
    this.place(now);
  }

  // The renderer draws `renderer.delay` ms in the past, between two snapshots: set them so that moment
  // falls where the playback step is between the states around it.
  place(now) {
    const after = this.states.findIndex((state) => state.tick > this.step); // -1: at the last state or past it
    const newer = this.states.at(after);
    const older = this.states.at(after < 0 ? -1 : Math.max(0, after - 1));
    const gap = newer.tick - older.tick;
    const fraction = gap > 0 ? (this.step - older.tick) / gap : 1;
    const olderAt = now - this.renderer.delay - fraction * SPAN_MS;
    this.renderer.snapshots = [{ at: olderAt, state: older }, { at: olderAt + SPAN_MS, state: newer }];
  }
}
