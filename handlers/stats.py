"""`GET /api/stats/?ticks=N`: what an operator watches — rooms, players, recent tick durations, requests."""

from handlers.base import APIHandler

MAX_TICKS = 3600  # a minute at 60 Hz


class StatsHandler(APIHandler):
    """Counts and tick duration percentiles (ms) over the last `ticks` ticks (default 600, 10 s at 60 Hz)."""

    def get(self):
        count = self.integer_query("ticks", 600, 1, MAX_TICKS)
        stats = {**self.arena.game.stats(count), "requests": self.arena.requests_in_flight}
        if self.arena.cluster is not None:
            stats["cluster"] = self.arena.cluster.stats()
        self.write_json(stats)
