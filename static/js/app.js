// The page: views, the lobby, and the game's events. Built on arena-client.js like any other client.

import { ApiError, ArenaClient, CLOSE, PLAYER } from "./arena-client.js";
import { Controls } from "./controls.js";
import { bindForm, clearForm, notice } from "./forms.js";
import { showHistory, showLive } from "./lobby.js";
import { Renderer } from "./render.js";
import { ReplayPlayer } from "./replay.js";
import { ordinal, resultTitle, signed, standings, UNRATED } from "./results.js";
import { Sound } from "./sound.js";

const $ = (selector) => document.querySelector(selector);
const client = new ArenaClient();
const renderer = new Renderer($("#canvas"));
const controls = new Controls($("#canvas"), renderer,
  { shoot_fireball: $("#skill-fireball"), blink: $("#skill-blink") });
const sound = new Sound();
const STALLED_MS = 1000; // no frame for this long in a game: the connection is said to stall
const FEED_LINES = 4;
const LIVE_REFRESH_MS = 5000; // the lobby's list of live games is asked for again this often
let connection = null;
let rejoinTimer = null;
let wantsPractice = false; // asked for a practice game: sent once the server has us waiting
let lastFrameAt = 0;
let game = null; // {practice, delay} of the game on screen (delay: how far behind a spectator sees it)
let watching = null; // the room asked for with `spectate` (again after each `queued`: a redirect queues us)
let replayer = null; // the ReplayPlayer on screen

// For tests and curious players: what the server last said, and what is drawn.
window.arena = { lastState: null, events: [], eventAt: {}, resultShownAt: null, tokenRefreshes: 0, renderer,
  get replayer() { return replayer; },
  get socketOpen() { return !!connection && connection.isOpen; },
  get socketUrls() { return connection ? connection.urls : []; } };

function show(view) {
  document.body.dataset.view = view;
  if (view === "auth") $("#register-username").focus();
}

// What the game view is for: "play", "watch" (a live game, as a spectator) or "replay".
function setMode(mode) { document.body.dataset.mode = mode; }

// The lobby: a way back into a game that still runs (after a reload, say), and the latest games.
async function enterLobby() {
  showAccount(await client.me());
  $("#account").hidden = false;
  show("lobby");
  offerRejoin(await client.runningGame());
  showHistory(await client.myGames(5).catch(() => []), Number(client.user.user_id), watchReplay);
  await refreshLive();
}

async function refreshLive() {
  showLive(await client.liveGames(10).catch(() => []), watch);
}
setInterval(() => { if (document.body.dataset.view === "lobby") refreshLive(); }, LIVE_REFRESH_MS);

function showAccount(me) { $("#whoami").textContent = `${me.username} · score ${me.score}`; }

function offerRejoin(running) {
  clearInterval(rejoinTimer);
  $("#rejoin").hidden = !running;
  if (!running) return;
  if (running.rejoin_within === null) {
    $("#rejoin-text").textContent = "Your game is running in another window or tab.";
    $("#rejoin-button").textContent = "Play it here";
    return;
  }
  const until = Date.now() + running.rejoin_within * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(rejoinTimer);
      $("#rejoin").hidden = true;
      return;
    }
    $("#rejoin-text").textContent = `Your game is still running — rejoin (${left} s left)`;
  };
  $("#rejoin-button").textContent = "Rejoin";
  tick();
  rejoinTimer = setInterval(tick, 250);
}

function gameRunning() { return !$("#rejoin").hidden || document.body.dataset.view === "game"; }

function backToLogin(message, kind) {
  leaveGame();
  clearInterval(rejoinTimer);
  client.forget();
  $("#account").hidden = true;
  document.querySelectorAll("form").forEach(clearForm);
  notice(message, kind);
  show("auth");
}

bindForm($("#login-form"), (username, password) => client.login(username, password), enterLobby);
bindForm($("#register-form"), (username, password) => client.register(username, password), enterLobby);
client.addEventListener("expired", () => backToLogin("Your session expired. Please log in again.", "warning"));
client.addEventListener("access", () => { window.arena.tokenRefreshes += 1; });

$("#logout").addEventListener("click", async () => {
  if (gameRunning() && !confirm("Your game is still running: logging out forfeits it. Log out?")) return;
  leaveGame();
  await client.logout();
  backToLogin("Logged out.", "info");
});

// Playing.

function connectionStatus(text) {
  $("#connection").textContent = text;
  if (text) $("#queue-status").textContent = text;
}

// What the arena says over itself when frames stop: stalled (the socket is open, nothing comes), or
// lost (it closed; reconnecting). Prediction stops in both; a lost connection greys the arena.
function trouble(text, lost = false) {
  $("#trouble").textContent = text;
  $("#trouble").hidden = !text;
  renderer.stalled = Boolean(text);
  renderer.lost = lost;
}

function play({ practice = false } = {}) {
  connect("play", practice ? "Starting a practice game…" : "Connecting…");
  wantsPractice = practice;
}

// Watch a live game: join as a spectator, `ARENA_SPECTATE_DELAY` seconds behind its players.
function watch(room) {
  connect("watch", "Joining the game…");
  watching = room;
}

function connect(mode, status) {
  leaveGame();
  clearInterval(rejoinTimer);
  setMode(mode);
  $("#game-over").hidden = $("#death").hidden = true;
  $("#queue-status").textContent = status;
  show("queue");
  connection = client.connect();
  connection.addEventListener("event", (event) => onGameEvent(event.detail));
  connection.addEventListener("offline", (event) => {
    connectionStatus(`Connection lost, retrying… (${event.detail.attempt})`);
    trouble(`Connection lost — reconnecting (${event.detail.attempt})…`, true);
  });
  connection.addEventListener("online", () => { connectionStatus(""); trouble(""); });
  connection.addEventListener("ended", (event) => {
    const { code } = event.detail;
    leaveGame();
    if (code === CLOSE.REPLACED) {
      notice("The game was opened in another window or tab.", "warning");
      enterLobby().catch(() => show("lobby"));
    } else if (code === CLOSE.UNAUTHORIZED || code === CLOSE.TOKEN_EXPIRED) {
      backToLogin("Please log in again.", "warning");
    } else {
      notice("Lost the connection to the server.", "error");
      show("lobby");
    }
  });
  controls.attach((frame) => connection && connection.send(frame));
  connection.open();
}

function leaveGame() {
  if (connection) connection.stop();
  connection = null;
  wantsPractice = false;
  watching = null;
  replayer = null;
  controls.attach(null);
  trouble("");
}

function onGameEvent(event) {
  lastFrameAt = performance.now();
  if (renderer.stalled && !renderer.lost) trouble("");
  window.arena.events.push(event.event);
  window.arena.eventAt[event.event] = lastFrameAt;
  switch (event.event) {
    case "queued":
      if (watching !== null) {
        connection.send({ event: "spectate", room: watching });
        break;
      }
      if (wantsPractice) {
        wantsPractice = false;
        connection.send({ event: "practice" });
        break;
      }
      $("#queue-status").textContent =
        `Waiting ${Math.round(event.waited)} s · ${event.waiting} in the queue · bots join after ${event.bots_after} s`;
      if (document.body.dataset.view !== "queue") show("queue");
      break;
    case "spectating":
      game = { practice: false, delay: event.delay };
      break;
    case "game_start":
      startGame(event);
      break;
    case "state":
      window.arena.lastState = event;
      renderer.push(event);
      break;
    case "attack":
      renderer.hit(event.attackee, event.attacker, event.x, event.y);
      sound.play(event.attackee === renderer.me ? 180 : 520);
      break;
    case "died":
      died(event);
      break;
    case "message":
      chatLine(`${event.username}: ${event.text}`);
      break;
    case "game_over":
      // The last snapshot is drawn `renderer.delay` late: the result waits until the fatal hit is seen.
      setTimeout(() => gameOver(event), renderer.delay + 50);
      break;
    case "server_draining":
      connectionStatus("The server is restarting: your game goes on.");
      break;
    case "error":
      if (watching !== null && (event.code === "no_such_game" || event.code === "spectators_full")) {
        notice(event.code === "no_such_game" ? "That game has ended." : "That game has all the spectators it takes.",
          "warning");
        toLobby();
      } else if (event.code !== "cooldown") chatLine(`⚠ ${event.detail}`);
      break;
  }
}

function startGame(event) {
  renderer.start(event);
  const spectating = document.body.dataset.mode === "watch";
  game = { practice: event.practice && !spectating, delay: game && game.delay };
  const kind = event.practice ? "Practice · unrated" : event.rated ? "" : "Unrated: one human";
  badge(spectating ? `Watching · ${game.delay ?? 0} s behind` : kind);
  clearScreen();
  show("game");
}

function badge(text) {
  $("#badge").textContent = text;
  $("#badge").hidden = !text;
}

function clearScreen() {
  $("#chat-log").replaceChildren();
  $("#feed").replaceChildren();
  $("#game-over").hidden = $("#death").hidden = true;
}

function name(id) { return (renderer.players.get(id) || { username: "?" }).username; }

function chatLine(text) {
  const line = document.createElement("li");
  line.textContent = text;
  $("#chat-log").append(line);
  while ($("#chat-log").children.length > 6) $("#chat-log").firstChild.remove();
}

function feedLine(text) {
  const line = document.createElement("li");
  line.textContent = text;
  $("#feed").append(line);
  while ($("#feed").children.length > FEED_LINES) $("#feed").firstChild.remove();
}

function died(event) {
  feedLine(event.by === null ? `${name(event.player)} left` : `${name(event.by)} ✕ ${name(event.player)}`);
  if (event.player !== renderer.me) return;
  controls.disarm();
  sound.play(110, 0.4);
  $("#death-by").textContent = event.by === null ? "You stayed away too long." : `${name(event.by)} got you.`;
  $("#death-place").textContent = `${ordinal(event.place)} of ${renderer.players.size}`;
  $("#death").hidden = false;
}

function showResult(title, place, score) {
  $("#game-over-title").textContent = title;
  $("#game-over-place").textContent = place;
  $("#game-over-score").textContent = score;
  $("#death").hidden = true;
  $("#game-over").hidden = false;
  window.arena.resultShownAt = performance.now();
}

// The end screen: a player is told their place and score change, a spectator (me: null) everyone's places.
function gameOver(event) {
  const me = renderer.me;
  const place = event.places[String(me)];
  let placed = "";
  if (!event.abandoned && me === null) placed = standings(event.places, name);
  else if (!event.abandoned && place) placed = `You came ${ordinal(place)} of ${renderer.players.size}.`;
  let score = UNRATED[event.unrated] || "Unrated.";
  if (event.rated) score = me === null ? "Rated game." : `Score ${signed(event.scores[String(me)] ?? 0)}`;
  showResult(resultTitle(event, me, name), placed, score);
  leaveGame();
  client.me().then(showAccount).catch(() => {});
}

// Replays: the whole game is downloaded once, then played here.
async function watchReplay(gameId) {
  let replay;
  try {
    replay = await client.replay(gameId);
  } catch (error) {
    notice(error.status === 404 ? "This game has no replay." : error.message, "error");
    return;
  }
  if (replay.frames === null) {
    notice("This replay was recorded by an older version of the game and cannot be played here.", "warning");
    return;
  }
  leaveGame();
  setMode("replay");
  replayer = new ReplayPlayer(renderer, replay);
  renderer.start(replayer.description());
  replayer.addEventListener("event", (event) => onGameEvent(event.detail));
  replayer.addEventListener("end", (event) => replayOver(event.detail));
  game = { practice: replay.practice };
  badge(`Replay · ${replay.players.map((p) => p.username).join(", ")}`);
  clearScreen();
  $("#replay-seek").max = String(replay.steps);
  setReplaySpeed(1);
  $("#replay-toggle").textContent = "Pause";
  show("game");
}

function replayOver(result) {
  const changes = Object.entries(result.score_changes).filter(([, change]) => change !== 0)
    .map(([id, change]) => `${name(Number(id))} ${signed(change)}`);
  showResult(resultTitle(result, renderer.me, name), result.abandoned ? "" : standings(result.places, name),
    changes.length ? `Score: ${changes.join(", ")}` : "Unrated.");
  $("#replay-toggle").textContent = "Play again";
}

function setReplaySpeed(speed) {
  if (replayer) replayer.setSpeed(speed);
  document.querySelectorAll("#replay-bar .speed").forEach((button) => {
    button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === speed));
  });
}

function clock(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

async function showLeaderboard() {
  let rows;
  try {
    rows = await client.leaderboard(20);
  } catch (error) {
    notice(error.message, "error");
    return;
  }
  $("#leaderboard-rows").replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of [row.rank, row.username, row.score, row.rating]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
  show("leaderboard");
}

function toLobby() { leaveGame(); enterLobby().catch(() => show("lobby")); }

$("#play").addEventListener("click", () => play());
$("#practice").addEventListener("click", () => play({ practice: true }));
$("#practice-now").addEventListener("click", () => connection && connection.send({ event: "practice" }));
$("#play-again").addEventListener("click", () => play({ practice: Boolean(game && game.practice) }));
$("#rejoin-button").addEventListener("click", () => play());
$("#death-play-again").addEventListener("click", () => {
  $("#death").hidden = true;
  $("#queue-status").textContent = "Finding a new room…";
  show("queue");
  connection.send({ event: "leave" }); // out already: the result stands, and the server queues us again
});
// Out of the game: watch it to its end as spectators do (live, though: your result is already fixed).
$("#death-watch").addEventListener("click", () => {
  $("#death").hidden = true;
  setMode("watch");
  badge("Watching · you are out");
});
$("#leave-queue").addEventListener("click", toLobby);
$("#back-from-watching").addEventListener("click", toLobby);
// After Play/Pause or a seek: the end screen goes, the button says what it does next.
function replayMoved() {
  $("#game-over").hidden = true;
  $("#replay-toggle").textContent = replayer.playing ? "Pause" : "Play";
}
$("#replay-toggle").addEventListener("click", () => {
  if (!replayer) return;
  replayer.toggle();
  replayMoved();
});
document.querySelectorAll("#replay-bar .speed").forEach((button) => {
  button.addEventListener("click", () => setReplaySpeed(Number(button.dataset.speed)));
});
$("#replay-seek").addEventListener("input", (event) => {
  if (!replayer) return;
  replayer.seek(Number(event.target.value));
  replayMoved();
});
$("#game-over-lobby").addEventListener("click", toLobby);
$("#show-leaderboard").addEventListener("click", showLeaderboard);
$("#back-to-lobby").addEventListener("click", () => enterLobby().catch((error) => notice(error.message, "error")));
$("#sound").checked = sound.enabled;
$("#sound").addEventListener("change", (event) => sound.set(event.target.checked));

// Chat: Enter (or the Chat button) opens a labelled box; Enter or Send sends, Escape closes.
const chatForm = $("#chat-form"), chatInput = $("#chat-input");
function openChat(open) {
  chatForm.hidden = !open;
  $("#chat-toggle").setAttribute("aria-expanded", String(open));
  if (open) chatInput.focus();
  else $("#canvas").focus();
}
$("#chat-toggle").addEventListener("click", () => openChat(chatForm.hidden));
chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (chatInput.value.trim()) connection && connection.send({ event: "message", text: chatInput.value.trim() });
  chatInput.value = "";
  openChat(false);
});
document.addEventListener("keydown", (event) => {
  if (document.body.dataset.view !== "game" || document.body.dataset.mode !== "play") return;
  if (event.target === chatInput) {
    if (event.key === "Escape") openChat(false);
    return;
  }
  if (event.key === "Enter") { openChat(true); event.preventDefault(); }
  else controls.key(event.key);
});

function showReplayPosition(now) {
  replayer.advance(now);
  $("#replay-seek").value = String(Math.round(replayer.step));
  $("#replay-time").textContent = `${clock(replayer.seconds)} / ${clock(replayer.duration)}`;
}

function drawLoop(now) {
  if (document.body.dataset.view === "game") {
    if (connection && connection.isOpen && !renderer.lost && $("#game-over").hidden
        && now - lastFrameAt > STALLED_MS && !renderer.stalled) {
      trouble("Connection stalled — waiting for the server…");
    }
    if (replayer) showReplayPosition(now);
    renderer.draw(now);
    const mine = renderer.latest(renderer.me);
    if (mine) {
      const alive = mine[PLAYER.ALIVE];
      const skills = [["#skill-fireball", mine[PLAYER.FIREBALL_COOLDOWN], "fireball"],
        ["#skill-blink", mine[PLAYER.BLINK_COOLDOWN], "blink"]];
      for (const [id, seconds, skill] of skills) {
        const button = $(id);
        const full = renderer.cooldowns[skill] || 1;
        button.style.setProperty("--ready", alive ? String(1 - Math.min(1, seconds / full)) : "0");
        button.title = !alive ? "out" : seconds > 0 ? `ready in ${seconds.toFixed(1)} s` : "ready";
        button.classList.toggle("waiting", !alive || seconds > 0);
        button.disabled = !alive;
      }
    }
  }
  requestAnimationFrame(drawLoop);
}
requestAnimationFrame(drawLoop);

client.resume()
  .then((resumed) => (resumed ? enterLobby() : show("auth")))
  .catch((error) => {
    show("auth");
    if (error instanceof ApiError) notice(error.message, "error");
  });
