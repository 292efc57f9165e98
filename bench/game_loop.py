"""Game loop cost in-process: tick duration and snapshot fan-out for N bot-filled rooms.

Overdue players are grouped, so each room holds two idle humans (sessions that only count bytes)
and one bot that moves and shoots as in real games; hits never kill (HITS_TO_KILL is huge) so every room runs for the whole
measurement. `--spectators` measures what watching costs instead: the same rooms with no spectator,
one on each room, and 100 on one room (issue 25), on a game clock that runs with the ticks.
Usage: python bench/game_loop.py [--seconds 5] [--rooms 10,100,300,1000] [--spectators]
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import header, percentile  # noqa: E402
from game.game import Game  # noqa: E402
from settings import GameSettings  # noqa: E402
from game.results import ResultRecorder  # noqa: E402
from store.documents import GameResult, Rating  # noqa: E402
from store.journal import ResultJournal  # noqa: E402

TICK_BUDGET_MS = 1000 / 60
SPECTATORS_ON_ONE = 100


class CountingSession:
    """A connection that counts what it would send."""

    frames = 0
    bytes = 0

    def __init__(self, user_id: int):
        self.user_id, self.username, self.score = user_id, f"player{user_id}", user_id * 1000
        self.rating = Rating()

    def send(self, *payloads: bytes) -> None:
        CountingSession.frames += len(payloads)
        CountingSession.bytes += sum(map(len, payloads))

    def close(self, code: int, reason: str) -> None:
        pass


async def record_nothing(result: GameResult) -> None:
    pass


class GameClock:
    """The game's clock, moved on by the benchmark one tick at a time (spectators' delay runs on it)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def game_with_rooms(rooms: int, clock: GameClock) -> tuple[Game, GameSettings]:
    settings = GameSettings(BOT_FILL_AFTER=0, HITS_TO_KILL=10**9, BOT_HOLD_FIRE=0, MATCH_BY="score")
    recorder = ResultRecorder(record_nothing, 1, ResultJournal("unused: writes never fail here"), deadline=1)
    game = Game(settings, recorder, rng=random.Random(1), clock=clock, spectators_per_room=SPECTATORS_ON_ONE)
    for user_id in range(1, 2 * rooms + 1):  # scores 1000 apart: no score match, bot fill only
        game.connect(CountingSession(user_id))
    game.run_matchmaking()
    assert len(game.rooms) == rooms
    return game, settings


def watch(game: Game, room_ids: list[str], first_id: int) -> None:
    """One spectator on each of `room_ids` (a room may come more than once)."""
    for user_id, room_id in enumerate(room_ids, start=first_id):
        spectator = CountingSession(user_id)
        game.connect(spectator)
        game.handle(spectator, "spectate", {"room": room_id})
    assert len(game.spectators.watching) == len(room_ids)


def measure(rooms: int, seconds: float, spectators: str = "none") -> dict:
    """Tick durations over `seconds` of game; `spectators`: "none", "each" room one, or "one" room 100."""
    clock = GameClock()
    game, settings = game_with_rooms(rooms, clock)
    room_ids = list(game.rooms)
    watch(game, {"none": [], "each": room_ids, "one": room_ids[:1] * SPECTATORS_ON_ONE}[spectators], 10 * rooms)
    dt, durations = 1 / settings.TICK_RATE, []
    warm_up = int(game.spectators.delay * settings.TICK_RATE) + 1 if spectators != "none" else 0
    ticks = int(seconds * settings.TICK_RATE)
    for tick in range(1, warm_up + ticks + 1):
        if tick == warm_up + 1:
            CountingSession.frames = CountingSession.bytes = 0
            durations.clear()
        clock.now += dt
        started = time.perf_counter()
        game.step(dt, tick)
        durations.append((time.perf_counter() - started) * 1000)
    return {
        "rooms": rooms, "players": rooms * settings.ROOM_CAPACITY,
        "p50": percentile(durations, 50), "p99": percentile(durations, 99), "max": max(durations),
        "frames_per_s": CountingSession.frames / seconds, "bytes_per_s": CountingSession.bytes / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="simulated seconds per room count")
    parser.add_argument("--rooms", default="10,100,300,1000,2000,4000,6000")
    parser.add_argument("--spectators", action="store_true", help="what spectators cost, at each room count")
    args = parser.parse_args()
    if args.spectators:
        spectator_costs([int(n) for n in args.rooms.split(",")], args.seconds)
        return
    header(f"Game loop: tick duration at 60 Hz (budget {TICK_BUDGET_MS:.1f} ms), 2 idle humans + 1 bot per room")
    print(f"{'rooms':>6} {'players':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'frames/s':>10} {'KB/s':>9}")
    first_miss = None
    for rooms in [int(n) for n in args.rooms.split(",")]:
        r = measure(rooms, args.seconds)
        print(f"{r['rooms']:>6} {r['players']:>8} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f} "
              f"{r['frames_per_s']:>10.0f} {r['bytes_per_s'] / 1024:>9.0f}", flush=True)
        if first_miss is None and r["p99"] > TICK_BUDGET_MS:
            first_miss = rooms
    print(f"first room count whose tick p99 misses the 60 Hz deadline: {first_miss or 'none of those measured'}")


def spectator_costs(room_counts: list[int], seconds: float) -> None:
    header("Spectators: tick duration with none, one on each room, and 100 on one room (after their delay)")
    print(f"{'rooms':>6} {'spectators':>16} {'p50 ms':>8} {'p99 ms':>8} {'p99 ratio':>10} {'frames/s':>10}")
    for rooms in room_counts:
        baseline = None
        for spectators, label in (("none", "none"), ("each", f"1 on each ({rooms})"), ("one", f"{SPECTATORS_ON_ONE} on one")):
            r = measure(rooms, seconds, spectators)
            baseline = baseline or r["p99"]
            print(f"{rooms:>6} {label:>16} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['p99'] / baseline:>9.2f}x "
                  f"{r['frames_per_s']:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
