// Optional sound: short tones made on the fly (no files), off until the player turns it on.

const KEY = "arena.sound";

export class Sound {
  constructor() {
    this.enabled = localStorage.getItem(KEY) === "on";
    this.context = null;
  }

  set(enabled) {
    this.enabled = enabled;
    localStorage.setItem(KEY, enabled ? "on" : "off");
  }

  play(frequency, seconds = 0.12) {
    if (!this.enabled) return;
    this.context ??= new AudioContext();
    const oscillator = this.context.createOscillator();
    const gain = this.context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.15, this.context.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, this.context.currentTime + seconds);
    oscillator.connect(gain).connect(this.context.destination);
    oscillator.start();
    oscillator.stop(this.context.currentTime + seconds);
  }
}
