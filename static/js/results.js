// A game's result in words, for the end screens, the match history and replays.

export const UNRATED = {
  practice: "Practice game: unrated.",
  fewer_than_two_humans_played: "Unrated: only games in which two humans play count.",
  abandoned: "Abandoned: no score changes.",
};

export function ordinal(n) {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return `${n}${suffix}`;
}

export function signed(change) { return `${change >= 0 ? "+" : ""}${change}`; }

// Who won: `result` is a `game_over` or a replay's result (`winner`, `places`, `abandoned`); `me` the
// viewer's player id (null for a spectator), `name` a player id's name.
export function resultTitle(result, me, name) {
  const first = Object.entries(result.places).filter(([, place]) => place === 1).map(([id]) => Number(id));
  if (result.abandoned) return "Game abandoned";
  if (result.winner !== null && result.winner === me) return "You win!";
  if (result.winner !== null) return `${name(result.winner)} wins`;
  if (first.length > 1) return `${first.map(name).join(" and ")} survive`;
  return "Nobody wins";
}

// Every player's place, best first: what a spectator or a replay's viewer is told.
export function standings(places, name) {
  return Object.entries(places).sort(([, a], [, b]) => a - b)
    .map(([id, place]) => `${ordinal(place)} ${name(Number(id))}`).join(" · ");
}
