// Turning a mouse, a keyboard or a touch screen into the protocol's intentions.
// Mouse: right-click moves; Q / F (or the skill buttons) arm a fireball / blink for the next left click.
// Touch: a tap moves; the skill buttons arm a skill for the next tap, which aims it.

const AIM_COLORS = { shoot_fireball: "#ff7043", blink: "#7cc4ff" };

export class Controls {
  constructor(canvas, renderer, buttons) {
    this.canvas = canvas;
    this.renderer = renderer;
    this.buttons = buttons; // skill -> button
    this.send = () => {};
    this.armed = null;
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    for (const [skill, button] of Object.entries(buttons)) {
      button.addEventListener("click", () => (this.armed === skill ? this.disarm() : this.arm(skill)));
    }
  }

  // Where intentions go: the current connection's send, or nothing between games.
  attach(send) {
    this.send = send || (() => {});
    this.disarm();
  }

  arm(skill) {
    this.armed = skill;
    this.canvas.classList.add("armed");
    for (const [name, button] of Object.entries(this.buttons)) button.setAttribute("aria-pressed", String(name === skill));
  }

  disarm() {
    this.armed = null;
    this.renderer.aim = null;
    this.canvas.classList.remove("armed");
    for (const button of Object.values(this.buttons)) button.setAttribute("aria-pressed", "false");
  }

  key(key) {
    const skill = { q: "shoot_fireball", f: "blink" }[key.toLowerCase()];
    if (skill) this.arm(skill);
    else if (key === "Escape") this.disarm();
    return Boolean(skill);
  }

  pointerDown(event) {
    event.preventDefault();
    const target = this.renderer.toMap(event.clientX, event.clientY);
    const touch = event.pointerType !== "mouse";
    if (this.armed && (touch || event.button === 0)) {
      this.send({ event: this.armed, ...target });
      if (this.armed === "shoot_fireball") this.renderer.predictShot(target.tx, target.ty);
      this.disarm();
    } else if (touch || event.button === 2) {
      this.send({ event: "move_to", ...target });
      this.renderer.predictMove(target.tx, target.ty);
    }
  }

  pointerMove(event) {
    if (!this.armed || event.pointerType !== "mouse") return;
    const { tx, ty } = this.renderer.toMap(event.clientX, event.clientY);
    this.renderer.aim = { x: tx, y: ty, skill: this.armed, color: AIM_COLORS[this.armed] };
  }
}
