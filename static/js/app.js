// The page: views, forms, the game's input and events. The reference client for docs/protocol.md.

import { ApiError, Session, leaderboard } from "./api.js";
import { CLOSE, GameConnection } from "./connection.js";
import { Renderer } from "./render.js";

const $ = (selector) => document.querySelector(selector);
const session = new Session();
const renderer = new Renderer($("#canvas"));
let connection = null;
let armed = null; // "shoot_fireball" or "blink" after Q / F, until the next click

// For tests and curious players: what the server last said.
window.arena = { lastState: null, events: [], tokenRefreshes: 0, get socketOpen() { return !!connection && connection.isOpen; } };

function show(view) { document.body.dataset.view = view; }

function notice(text) {
  $("#notice").textContent = text || "";
  $("#notice").hidden = !text;
}

async function enterLobby() {
  const me = await session.me();
  $("#whoami").textContent = `${me.username} · ${me.score}`;
  $("#account").hidden = false;
  show("lobby");
}

function backToLogin(message) {
  leaveGame();
  session.forget();
  $("#account").hidden = true;
  notice(message);
  show("auth");
}

// Forms: DRF's field errors go next to their field, "detail" under the form.
function bindForm(form, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll(".field-error, .form-error").forEach((p) => { p.textContent = ""; });
    const data = new FormData(form);
    try {
      await action(data.get("username"), data.get("password"));
      notice("");
      await enterLobby();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      for (const [field, messages] of Object.entries(error.body)) {
        const slot = form.querySelector(`.field-error[data-for="${field}"]`) || form.querySelector(".form-error");
        slot.textContent = Array.isArray(messages) ? messages.join(" ") : String(messages);
      }
    }
  });
}

bindForm($("#login-form"), (username, password) => session.login(username, password));
bindForm($("#register-form"), (username, password) => session.register(username, password));
session.addEventListener("expired", () => backToLogin("Your session expired. Please log in again."));
session.addEventListener("access", () => { window.arena.tokenRefreshes += 1; });

$("#logout").addEventListener("click", async () => {
  leaveGame();
  await session.logout();
  backToLogin("Logged out.");
});

// Playing.

function play() {
  leaveGame();
  $("#game-over").hidden = true;
  $("#queue-status").textContent = "Connecting…";
  show("queue");
  connection = new GameConnection(session);
  connection.addEventListener("event", (event) => onGameEvent(event.detail));
  connection.addEventListener("offline", (event) => {
    $("#connection").textContent = `Connection lost, retrying in ${event.detail / 1000} s…`;
  });
  connection.addEventListener("online", () => { $("#connection").textContent = ""; });
  connection.addEventListener("ended", (event) => {
    const { code } = event.detail;
    if (code === CLOSE.REPLACED) {
      notice("The game was opened in another window or tab.");
      show("lobby");
    } else if (code === CLOSE.UNAUTHORIZED || code === CLOSE.TOKEN_EXPIRED) {
      backToLogin("Please log in again.");
    } else {
      notice("Lost the connection to the server.");
      show("lobby");
    }
  });
  connection.open();
}

function leaveGame() {
  if (connection) connection.stop();
  connection = null;
  armed = null;
}

function onGameEvent(event) {
  window.arena.events.push(event.event);
  switch (event.event) {
    case "queued":
      $("#queue-status").textContent =
        `Waiting ${Math.round(event.waited)} s · ${event.waiting} in the queue · bots join after ${event.bots_after} s`;
      break;
    case "game_start":
      renderer.start(event);
      $("#chat-log").replaceChildren();
      $("#game-over").hidden = true;
      show("game");
      break;
    case "state":
      window.arena.lastState = event;
      renderer.push(event);
      break;
    case "attack":
      renderer.flash(event.x, event.y);
      break;
    case "died":
      chatLine(`${name(event.player)} is out.`);
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

function gameOver(event) {
  const change = event.scores[String(renderer.me)] ?? 0;
  $("#game-over-title").textContent = event.abandoned ? "Game abandoned"
    : event.winner === renderer.me ? "You win!" : `${event.winner === null ? "Nobody" : name(event.winner)} wins`;
  $("#game-over-score").textContent = `Score ${change >= 0 ? "+" : ""}${change}`;
  $("#game-over").hidden = false;
  leaveGame();
  session.me().then((me) => { $("#whoami").textContent = `${me.username} · ${me.score}`; });
}

async function showLeaderboard() {
  const rows = await leaderboard(20);
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
$("#leave-queue").addEventListener("click", () => { leaveGame(); show("lobby"); });
$("#show-leaderboard").addEventListener("click", showLeaderboard);
$("#game-over-leaderboard").addEventListener("click", showLeaderboard);
$("#back-to-lobby").addEventListener("click", () => enterLobby());

// Input: right-click moves, Q/F arm a fireball/blink for the next click, Enter chats, Esc closes it.
const canvas = $("#canvas");
canvas.addEventListener("contextmenu", (event) => event.preventDefault());
canvas.addEventListener("mousedown", (event) => {
  if (!connection) return;
  const target = renderer.toMap(event.clientX, event.clientY);
  if (event.button === 2) {
    connection.send({ event: "move_to", ...target });
  } else if (event.button === 0 && armed) {
    connection.send({ event: armed, ...target });
    armed = null;
  }
});

const chatInput = $("#chat-input");
document.addEventListener("keydown", (event) => {
  if (document.body.dataset.view !== "game") return;
  if (event.target === chatInput) {
    if (event.key === "Enter" && chatInput.value.trim()) {
      connection && connection.send({ event: "message", text: chatInput.value.trim() });
      chatInput.value = "";
    }
    if (event.key === "Escape" || event.key === "Enter") { chatInput.hidden = true; canvas.focus(); }
    return;
  }
  if (event.key === "Enter") { chatInput.hidden = false; chatInput.focus(); event.preventDefault(); }
  else if (event.key === "q" || event.key === "Q") armed = "shoot_fireball";
  else if (event.key === "f" || event.key === "F") armed = "blink";
});

function drawLoop(now) {
  if (document.body.dataset.view === "game") {
    renderer.draw(now);
    const mine = renderer.latest(renderer.me);
    if (mine) {
      for (const [id, label, seconds] of [["#cooldown-fireball", "Q fireball", mine[5]], ["#cooldown-blink", "F blink", mine[6]]]) {
        $(id).textContent = seconds > 0 ? `${label} ${seconds.toFixed(1)} s` : label;
        $(id).classList.toggle("waiting", seconds > 0);
      }
    }
  }
  requestAnimationFrame(drawLoop);
}
requestAnimationFrame(drawLoop);

session.resume().then((resumed) => (resumed ? enterLobby() : show("auth")));
