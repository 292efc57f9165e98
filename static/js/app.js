// The page: views, the lobby, and the game's events. Built on arena-client.js like any other client.

import { ApiError, ArenaClient, CLOSE, PLAYER } from "./arena-client.js";
import { Controls } from "./controls.js";
import { bindForm, clearForm, notice } from "./forms.js";
import { Renderer } from "./render.js";
import { Sound } from "./sound.js";

const $ = (selector) => document.querySelector(selector);
const client = new ArenaClient();
const renderer = new Renderer($("#canvas"));
const controls = new Controls($("#canvas"), renderer,
  { shoot_fireball: $("#skill-fireball"), blink: $("#skill-blink") });
const sound = new Sound();
let connection = null;
let rejoinTimer = null;

// For tests and curious players: what the server last said, and what is drawn.
window.arena = { lastState: null, events: [], tokenRefreshes: 0, renderer,
  get socketOpen() { return !!connection && connection.isOpen; },
  get socketUrls() { return connection ? connection.urls : []; } };

function show(view) {
  document.body.dataset.view = view;
  if (view === "auth") $("#register-username").focus();
}

function ordinal(n) {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return `${n}${suffix}`;
}

// The lobby, with a way back into a game that still runs (after a reload, say).
async function enterLobby() {
  showAccount(await client.me());
  $("#account").hidden = false;
  show("lobby");
  offerRejoin(await client.runningGame());
}

function showAccount(me) { $("#whoami").textContent = `${me.username} · ${me.score}`; }

function offerRejoin(game) {
  clearInterval(rejoinTimer);
  $("#rejoin").hidden = !game;
  if (!game) return;
  if (game.rejoin_within === null) {
    $("#rejoin-text").textContent = "Your game is running in another window or tab.";
    $("#rejoin-button").textContent = "Play it here";
    return;
  }
  const until = Date.now() + game.rejoin_within * 1000;
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

function play() {
  leaveGame();
  clearInterval(rejoinTimer);
  $("#game-over").hidden = $("#death").hidden = true;
  $("#queue-status").textContent = "Connecting…";
  show("queue");
  connection = client.connect();
  connection.addEventListener("event", (event) => onGameEvent(event.detail));
  connection.addEventListener("offline", (event) => connectionStatus(`Connection lost, retrying… (${event.detail.attempt})`));
  connection.addEventListener("online", () => connectionStatus(""));
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
  controls.attach(null);
}

function onGameEvent(event) {
  window.arena.events.push(event.event);
  switch (event.event) {
    case "queued":
      $("#queue-status").textContent =
        `Waiting ${Math.round(event.waited)} s · ${event.waiting} in the queue · bots join after ${event.bots_after} s`;
      if (document.body.dataset.view !== "queue") show("queue");
      break;
    case "game_start":
      renderer.start(event);
      $("#chat-log").replaceChildren();
      $("#game-over").hidden = $("#death").hidden = true;
      show("game");
      break;
    case "state":
      window.arena.lastState = event;
      renderer.push(event);
      break;
    case "attack":
      renderer.hit(event.attackee, event.x, event.y);
      sound.play(event.attackee === renderer.me ? 180 : 520);
      break;
    case "died":
      chatLine(`${name(event.player)} is out.`);
      if (event.player === renderer.me) youDied(event.place);
      break;
    case "message":
      chatLine(`${event.username}: ${event.text}`);
      break;
    case "game_over":
      gameOver(event);
      break;
    case "error":
      if (event.code !== "cooldown") chatLine(`⚠ ${event.detail}`);
      break;
  }
}

function name(id) { return (renderer.players.get(id) || { username: "?" }).username; }

function chatLine(text) {
  const line = document.createElement("li");
  line.textContent = text;
  $("#chat-log").append(line);
  while ($("#chat-log").children.length > 8) $("#chat-log").firstChild.remove();
}

function youDied(place) {
  controls.disarm();
  sound.play(110, 0.4);
  $("#death-place").textContent = `${ordinal(place)} of ${renderer.players.size}`;
  $("#death").hidden = false;
}

function gameOver(event) {
  const change = event.scores[String(renderer.me)] ?? 0;
  $("#game-over-title").textContent = event.abandoned ? "Game abandoned"
    : event.winner === renderer.me ? "You win!" : `${event.winner === null ? "Nobody" : name(event.winner)} wins`;
  $("#game-over-score").textContent = `Score ${change >= 0 ? "+" : ""}${change}`;
  $("#death").hidden = true;
  $("#game-over").hidden = false;
  leaveGame();
  client.me().then(showAccount).catch(() => {});
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
    for (const value of [row.rank, row.username, row.score]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
  show("leaderboard");
}

$("#play").addEventListener("click", play);
$("#play-again").addEventListener("click", play);
$("#rejoin-button").addEventListener("click", play);
$("#death-play-again").addEventListener("click", () => {
  $("#death").hidden = true;
  $("#queue-status").textContent = "Finding a new room…";
  show("queue");
  connection.send({ event: "leave" }); // out already: the −5 stands, and the server queues us again
});
$("#death-watch").addEventListener("click", () => { $("#death").hidden = true; });
$("#leave-queue").addEventListener("click", () => { leaveGame(); enterLobby().catch(() => show("lobby")); });
$("#show-leaderboard").addEventListener("click", showLeaderboard);
$("#game-over-leaderboard").addEventListener("click", showLeaderboard);
$("#back-to-lobby").addEventListener("click", () => enterLobby().catch((error) => notice(error.message, "error")));
$("#sound").checked = sound.enabled;
$("#sound").addEventListener("change", (event) => sound.set(event.target.checked));

const chatInput = $("#chat-input");
document.addEventListener("keydown", (event) => {
  if (document.body.dataset.view !== "game") return;
  if (event.target === chatInput) {
    if (event.key === "Enter" && chatInput.value.trim()) {
      connection && connection.send({ event: "message", text: chatInput.value.trim() });
      chatInput.value = "";
    }
    if (event.key === "Escape" || event.key === "Enter") { chatInput.hidden = true; $("#canvas").focus(); }
    return;
  }
  if (event.key === "Enter") { chatInput.hidden = false; chatInput.focus(); event.preventDefault(); }
  else controls.key(event.key);
});

function drawLoop(now) {
  if (document.body.dataset.view === "game") {
    renderer.draw(now);
    const mine = renderer.latest(renderer.me);
    if (mine) {
      const alive = mine[PLAYER.ALIVE];
      const skills = [["#skill-fireball", mine[PLAYER.FIREBALL_COOLDOWN]], ["#skill-blink", mine[PLAYER.BLINK_COOLDOWN]]];
      for (const [id, seconds] of skills) {
        const button = $(id);
        button.querySelector(".cooldown").textContent = !alive ? "· out" : seconds > 0 ? `${seconds.toFixed(1)} s` : "";
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
