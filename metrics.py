"""Prometheus metrics of one server process, on a registry of its own (docs/operations.md lists them).

Events are counted where they happen, with the cheapest instrument that will do: what happens on every
request, query, tick or frame is counted in plain numbers (`Tally`, `Timings`, integers) that become
Prometheus samples only when it scrapes, and levels (rooms, sockets, queues) are read at scrape time,
so the tick, the token endpoints and the socket writes pay next to nothing for being watched.
prometheus-client's own instruments (a lock and a child lookup per call) serve the rare events.
"""

from bisect import bisect_left
from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # `_created` series double the output and no dashboard here reads them
TICK_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.0167, 0.033, 0.1)
WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120)
HASH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5)
REDIS_BUCKETS = STORE_BUCKETS


class Tally:
    """A counter family whose samples are plain integers by label values: `inc(*values)` is a dict update."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]):
        self.name, self.documentation, self.labels = name, documentation, labels
        self.counts: dict[tuple, int] = {}

    def inc(self, *values: str) -> None:
        self.counts[values] = self.counts.get(values, 0) + 1

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, count in sorted(self.counts.items()):
            family.add_metric(values, count)
        return family


class Timings:
    """A histogram family kept as plain bucket counts by label values: `observe` is a bisect and two adds."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]):
        self.name, self.documentation, self.labels, self.buckets = name, documentation, labels, buckets
        self.series: dict[tuple, list] = {}  # values -> [count per bucket (+Inf last)..., sum]
        if not labels:
            self.series[()] = [0] * (len(buckets) + 1) + [0.0]

    def observe(self, seconds: float, *values: str) -> None:
        series = self.series.get(values)
        if series is None:
            series = self.series[values] = [0] * (len(self.buckets) + 1) + [0.0]
        series[bisect_left(self.buckets, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        bounds = [floatToGoString(bound) for bound in self.buckets] + ["+Inf"]
        for values, series in sorted(self.series.items()):
            cumulative, total = [], 0
            for bound, count in zip(bounds, series):
                total += count
                cumulative.append((bound, total))
            family.add_metric(list(values), cumulative, series[-1])
        return family


class _Levels:
    """What is read at scrape time: gauges and hot counters from the functions given to `Metrics.watch`,
    and the plain-number instruments."""

    def __init__(self) -> None:
        self.gauges: list[tuple[str, str, Callable[[], float]]] = []
        self.counters: list[tuple[str, str, Callable[[], float]]] = []
        self.instruments: list[Tally | Timings] = []

    def collect(self) -> Iterable[Metric]:
        for name, documentation, read in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=read())
        for name, documentation, read in self.counters:
            yield CounterMetricFamily(name, documentation, value=read())
        for instrument in self.instruments:
            yield instrument.collect()


class Metrics:
    """Every instrument of the process; `Arena` builds one and hands it to the parts it watches.

    `close_codes` are the codes the protocol knows; any other a client sends is counted as "other", so
    no client can create label values without bound.
    """

    def __init__(self, close_codes: frozenset = frozenset()) -> None:
        self.close_codes = close_codes
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        ProcessCollector(registry=registry)  # CPU seconds, resident memory, open file descriptors
        self._levels = _Levels()
        hot = self._levels.instruments
        self.tick_seconds = Timings("arena_tick_duration_seconds", "Time one tick of every room took", (),
                                    TICK_BUCKETS)
        self.ticks_late = Counter("arena_ticks_late", "Ticks run a whole period or more after they were due",
                                  registry=registry)
        self.ticks_dropped = Counter("arena_ticks_dropped", "Ticks skipped after a stall (more than 5 behind)",
                                     registry=registry)
        self.queue_wait_seconds = Histogram("arena_queue_wait_seconds", "Time a player waited before a room",
                                            buckets=WAIT_BUCKETS, registry=registry)
        self.sockets_closed = Tally("arena_sockets_closed", "WebSocket connections closed, by close code", ("code",))
        self.slow_consumers = Counter("arena_slow_consumers_dropped",
                                      "Sockets closed (4009) for letting unsent output pile up", registry=registry)
        self.logins = Tally("arena_logins", "Password logins (token and sliding endpoints), by outcome", ("outcome",))
        self.token_operations = Tally("arena_token_operations", "Token endpoint answers, by endpoint and outcome",
                                      ("endpoint", "outcome"))
        self.hash_seconds = Timings("arena_password_hash_seconds",
                                    "Time from asking for a password hash or check to its answer, queue included",
                                    ("operation",), HASH_BUCKETS)
        self.store_seconds = Timings("arena_store_operation_seconds", "MongoDB query latency, by query",
                                     ("operation",), STORE_BUCKETS)
        self.store_errors = Tally("arena_store_errors", "MongoDB queries that failed or timed out, by query",
                                  ("operation",))
        self.redis_seconds = Timings("arena_redis_command_seconds",
                                     "Redis command latency (cluster mode; blocking stream reads left out)", (),
                                     REDIS_BUCKETS)
        hot += [self.tick_seconds, self.sockets_closed, self.logins, self.token_operations, self.hash_seconds,
                self.store_seconds, self.store_errors, self.redis_seconds]
        self.frames_sent = 0  # plain integers: counted per frame and per socket, exported at scrape time
        self.bytes_sent = 0
        self.redis_errors = 0
        self._levels.counters += [
            ("arena_frames_sent_total", "WebSocket frames queued to clients", lambda: self.frames_sent),
            ("arena_bytes_sent_total", "WebSocket payload bytes queued to clients", lambda: self.bytes_sent),
            ("arena_redis_errors_total", "Redis commands that failed or timed out (cluster mode)",
             lambda: self.redis_errors)]
        registry.register(self._levels)

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value `read()` gives at scrape time."""
        self._levels.gauges.append((name, documentation, read))

    def store_operation(self, operation: str, seconds: float, failed: bool) -> None:
        self.store_seconds.observe(seconds, operation)
        if failed:
            self.store_errors.inc(operation)

    def socket_closed(self, code: object) -> None:
        self.sockets_closed.inc(str(code) if code in self.close_codes else "none" if code is None else "other")

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
