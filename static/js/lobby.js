// The lobby's lists: your last games (each with its replay) and the games running now (to watch).

import { ordinal, signed } from "./results.js";

const $ = (selector) => document.querySelector(selector);

function row(text, buttonText, onClick) {
  const line = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = text;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = buttonText;
  button.addEventListener("click", onClick);
  line.append(label, button);
  return line;
}

// `games` from `GET /api/me/games/`; `me` the user's id; `onReplay(gameId)` plays one back.
export function showHistory(games, me, onReplay) {
  $("#history-empty").hidden = games.length > 0;
  $("#history").replaceChildren(...games.map((played) => {
    const others = played.players.filter((p) => p.id !== me && !p.bot).map((p) => p.username);
    const against = others.length ? `vs ${others.join(", ")}` : "vs bots";
    const outcome = played.abandoned ? "abandoned" : played.place ? `${ordinal(played.place)} of ${played.players.length}` : "";
    const score = played.practice ? "practice" : played.rated ? signed(played.score_change) : "unrated";
    return row([outcome, against, score].filter(Boolean).join(" · "), "Watch replay", () => onReplay(played.id));
  }));
}

// `rooms` from `GET /api/games/live/`; `onWatch(room)` joins one as a spectator.
export function showLive(rooms, onWatch) {
  $("#live-empty").hidden = rooms.length > 0;
  $("#live").replaceChildren(...rooms.map((room) => {
    const names = room.players.map((p) => p.username).join(", ");
    const audience = room.spectators ? ` · ${room.spectators} watching` : "";
    return row(names + audience, "Watch", () => onWatch(room.room));
  }));
}
