"""`GET /api/stats/?ticks=N`: what an operator watches — rooms, players, and recent tick durations."""

from handlers.base import APIHandler


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


class StatsHandler(APIHandler):
    """Counts and tick duration percentiles (ms) over the last `ticks` ticks (default 600, 10 s at 60 Hz)."""

    def get(self):
        game = self.arena.game
        raw = self.get_query_argument("ticks", "600")
        count = int(raw) if raw.isdigit() and int(raw) > 0 else 600
        recent = sorted(list(game.loop.tick_durations)[-count:])
        self.write_json({
            "rooms": len(game.rooms),
            "sessions": len(game.sessions),
            "queued": len(game.matchmaker.queue),
            "tick": game.loop.tick,
            "tick_ms": {"count": len(recent), "p50": percentile(recent, 50) * 1000,
                        "p99": percentile(recent, 99) * 1000, "max": (recent[-1] if recent else 0.0) * 1000},
        })
