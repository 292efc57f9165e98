"""`GET /metrics`: the process's Prometheus metrics (metrics.py), on the API port or ARENA_METRICS_PORT."""

from handlers.base import APIHandler
from metrics import CONTENT_TYPE


class MetricsHandler(APIHandler):
    """Prometheus's text format; errors still answer as the API's JSON."""

    async def get(self):
        await self.arena.readiness()  # arena_ready says what /api/health/ready would answer now
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(self.arena.metrics.exposition())
