"""`GET /api/stats/?ticks=N`: what an operator watches — rooms, players, recent tick durations, requests."""

from handlers.base import APIHandler


class StatsHandler(APIHandler):
    """Counts and tick duration percentiles (ms) over the last `ticks` ticks (default 600, 10 s at 60 Hz)."""

    def get(self):
        raw = self.get_query_argument("ticks", "600")
        count = int(raw) if raw.isdigit() and int(raw) > 0 else 600
        self.write_json({**self.arena.game.stats(count), "requests": self.arena.requests_in_flight})
