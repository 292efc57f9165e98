"""Skill ratings in a simulation: synthetic players of known skill play many rounds of 3-player games,
matched by the server's own matchmaker, once by rating (GAME_MATCH_BY=rating, the default) and once by
the course's score window (GAME_MATCH_BY=score). Prints, round by round, how well the ratings know the
players (correlation of mu with the true skill) and how fair the rooms are (the spread of true skill in a
room), with the simulated wait.

    python bench/rating_sim.py [--players 1200] [--rounds 40] [--seed 1]

A player's performance in a game is their skill plus noise (OpenSkill's beta, 25/6); places follow
performance. Every player queues at the start of a round; the matchmaker is asked once a simulated
second until everyone is placed (bots fill rooms after GAME_BOT_FILL_AFTER, and those games are left out).
"""

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game import rating  # noqa: E402
from game.matchmaker import Matchmaker, Ticket  # noqa: E402
from settings import GameSettings  # noqa: E402
from store.documents import Rating  # noqa: E402

NOISE = 25 / 6


def play_round(players: dict, by: str, rng: random.Random) -> tuple[list[float], float]:
    """One round: everyone queues, rooms form as the windows allow, each room plays one game. The spread
    of true skill in each room, and the mean wait (simulated seconds)."""
    matchmaker = Matchmaker(GameSettings(MATCH_BY=by, ROOM_CAPACITY=3, BOT_FILL_AFTER=60))
    for user_id, player in players.items():
        matchmaker.add(Ticket(user_id, "", player["score"], 0.0, player["rating"].mu, player["rating"].sigma))
    spreads, waits = [], []
    for second in range(60):
        rooms, _ = matchmaker.match(float(second))
        for room in rooms:
            ids = [ticket.user_id for ticket in room]
            waits += [second] * len(ids)
            skills = [players[i]["skill"] for i in ids]
            spreads.append(max(skills) - min(skills))
            performance = {i: players[i]["skill"] + rng.gauss(0, NOISE) for i in ids}
            order = sorted(ids, key=performance.get, reverse=True)
            ranks = {i: order.index(i) + 1 for i in ids}
            for i, (mu, sigma) in rating.changes({i: (players[i]["rating"], ranks[i]) for i in ids}).items():
                before = players[i]["rating"]
                players[i]["rating"] = Rating(before.mu + mu, before.sigma + sigma)
                players[i]["score"] += 10 if ranks[i] == 1 else -5
        if not matchmaker.queue:
            break
    return spreads, statistics.fmean(waits) if waits else 0.0


def simulate(by: str, count: int, rounds: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    players = {n: {"skill": rng.gauss(25, 5), "rating": Rating(), "score": 1500} for n in range(1, count + 1)}
    rows = []
    for number in range(1, rounds + 1):
        spreads, wait = play_round(players, by, rng)
        skills = [p["skill"] for p in players.values()]
        mus = [p["rating"].mu for p in players.values()]
        rows.append((number, statistics.correlation(skills, mus), statistics.fmean(spreads), wait))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    print(f"{options.players} players (true skill ~ N(25, 5)), {options.rounds} rounds of 3-player games, "
          f"seed {options.seed}")
    results = {by: simulate(by, options.players, options.rounds, options.seed) for by in ("rating", "score")}
    print(f"{'round':>5} | {'by rating: corr(mu, skill)':>26} {'skill spread':>12} {'wait s':>6} | "
          f"{'by score: corr(mu, skill)':>25} {'skill spread':>12} {'wait s':>6}")
    for index, (number, *_) in enumerate(results["rating"]):
        if number in (1, 2, 5, 10, 20, 30, 40, options.rounds) or number == options.rounds:
            (_, c1, s1, w1), (_, c2, s2, w2) = results["rating"][index], results["score"][index]
            print(f"{number:>5} | {c1:>26.3f} {s1:>12.2f} {w1:>6.1f} | {c2:>25.3f} {s2:>12.2f} {w2:>6.1f}")


if __name__ == "__main__":
    main()
