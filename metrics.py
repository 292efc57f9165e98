"""Prometheus metrics of one server process, on a registry of its own (docs/operations.md lists them).

Events are counted where they happen, with the cheapest instrument that will do: per-frame counts are
plain integers, and levels (rooms, sockets, queues) are read only when Prometheus scrapes, so the tick
and the socket writes pay next to nothing for being watched.
"""

from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # `_created` series double the output and no dashboard here reads them
# Close codes the server or a well-behaved client uses; anything else a client sends counts as "other",
# so no client can create label values without bound.
KNOWN_CLOSE_CODES = frozenset({1000, 1001, 1005, 1006, 1009, 1011, 1013, 4001, 4002, 4003, 4004, 4008, 4009, 4010})
TICK_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.0167, 0.033, 0.1)
WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120)
HASH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5)


def close_code_label(code: object) -> str:
    return str(code) if code in KNOWN_CLOSE_CODES else "none" if code is None else "other"


class _Levels:
    """Gauges and hot counters read at scrape time from the functions given to `Metrics.watch`."""

    def __init__(self) -> None:
        self.gauges: list[tuple[str, str, Callable[[], float]]] = []
        self.counters: list[tuple[str, str, Callable[[], float]]] = []

    def collect(self) -> Iterable[Metric]:
        for name, documentation, read in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=read())
        for name, documentation, read in self.counters:
            yield CounterMetricFamily(name, documentation, value=read())


class Metrics:
    """Every instrument of the process; `Arena` builds one and hands it to the parts it watches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        ProcessCollector(registry=registry)  # CPU seconds, resident memory, open file descriptors
        self.tick_seconds = Histogram("arena_tick_duration_seconds", "Time one tick of every room took",
                                      buckets=TICK_BUCKETS, registry=registry)
        self.ticks_late = Counter("arena_ticks_late", "Ticks run a whole period or more after they were due",
                                  registry=registry)
        self.ticks_dropped = Counter("arena_ticks_dropped", "Ticks skipped after a stall (more than 5 behind)",
                                     registry=registry)
        self.queue_wait_seconds = Histogram("arena_queue_wait_seconds", "Time a player waited before a room",
                                            buckets=WAIT_BUCKETS, registry=registry)
        self.sockets_closed = Counter("arena_sockets_closed", "WebSocket connections closed, by close code",
                                      ["code"], registry=registry)
        self.slow_consumers = Counter("arena_slow_consumers_dropped",
                                      "Sockets closed (4009) for letting unsent output pile up", registry=registry)
        self.logins = Counter("arena_logins", "Password logins (token and sliding endpoints), by outcome",
                              ["outcome"], registry=registry)
        self.token_operations = Counter("arena_token_operations", "Token endpoint answers, by endpoint and outcome",
                                        ["endpoint", "outcome"], registry=registry)
        self.hash_seconds = Histogram("arena_password_hash_seconds",
                                      "Time from asking for a password hash or check to its answer, queue included",
                                      ["operation"], buckets=HASH_BUCKETS, registry=registry)
        self.store_seconds = Histogram("arena_store_operation_seconds", "MongoDB query latency, by query",
                                       ["operation"], buckets=STORE_BUCKETS, registry=registry)
        self.store_errors = Counter("arena_store_errors", "MongoDB queries that failed or timed out, by query",
                                    ["operation"], registry=registry)
        self.frames_sent = 0  # plain integers: counted per frame and per socket, exported at scrape time
        self.bytes_sent = 0
        self._levels = _Levels()
        self._levels.counters += [
            ("arena_frames_sent_total", "WebSocket frames queued to clients", lambda: self.frames_sent),
            ("arena_bytes_sent_total", "WebSocket payload bytes queued to clients", lambda: self.bytes_sent)]
        registry.register(self._levels)

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value `read()` gives at scrape time."""
        self._levels.gauges.append((name, documentation, read))

    def store_operation(self, operation: str, seconds: float, failed: bool) -> None:
        self.store_seconds.labels(operation).observe(seconds)
        if failed:
            self.store_errors.labels(operation).inc()

    def socket_closed(self, code: object) -> None:
        self.sockets_closed.labels(close_code_label(code)).inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
