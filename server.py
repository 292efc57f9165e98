"""Tornado Arena: JWT auth over REST and a server-authoritative game over WebSocket, in one process.

`python server.py --help` lists the options; each defaults to its environment variable (settings.py).
"""

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from typing import Any, Callable, Coroutine

import tornado.web

from arena import Arena
from cluster.link import ClusterUnavailable
from store.connection import connect_store, describe_store
from store.database import StoreUnavailable
from handlers import routes
from edge.access_log import log_request
from handlers.base import NotFoundHandler
from edge.server import make_server
from logs import configure_logging
from settings import Settings, SettingsError, keep_generated_key, load_settings

log = logging.getLogger("arena")
FULL_GC_EVERY = 1000


def make_app(arena: Arena) -> tornado.web.Application:
    """The Application the server runs; tests build it the same way."""
    return routes.ArenaApplication(
        arena,
        default_handler_class=NotFoundHandler,
        default_handler_args={"arena": arena},
        log_function=log_request,
        websocket_ping_interval=0,  # the arena's Heartbeat pings, without a task per connection
        websocket_max_message_size=arena.settings.game.MAX_MESSAGE_SIZE,
    )


def make_metrics_app(arena: Arena) -> tornado.web.Application:
    """The ARENA_METRICS_PORT listener's Application: `/metrics` alone, everything else 404."""
    return tornado.web.Application(routes.metrics_routes(arena), default_handler_class=NotFoundHandler,
                                   default_handler_args={"arena": arena}, log_function=log_request)


def parse_args(argv: list[str]) -> dict:
    """Command-line options; each overrides its environment variable."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="address to listen on (ARENA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (ARENA_PORT, default 8888)")
    parser.add_argument("--mongo-url", help="MongoDB URL (MONGO_URL; unset: embedded in-memory store)")
    parser.add_argument("--db", help="MongoDB database name (ARENA_DB, default arena)")
    parser.add_argument("--log-level", help="debug, info, warning or error (ARENA_LOG_LEVEL, default info)")
    options = vars(parser.parse_args(argv))
    names = {"host": "HOST", "port": "PORT", "mongo_url": "MONGO_URL", "db": "DB", "log_level": "LOG_LEVEL"}
    return {names[key]: value for key, value in options.items() if value is not None}


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then drain in-flight requests and close everything in order."""
    store = await connect_store(settings)
    arena = Arena(settings, store)
    server = make_server(make_app(arena), settings)
    listen(server, "ARENA_PORT", settings.PORT, settings.HOST)
    metrics_server = None
    if settings.METRICS_PORT:
        metrics_server = make_server(make_metrics_app(arena), settings)
        listen(metrics_server, "ARENA_METRICS_PORT", settings.METRICS_PORT, settings.HOST)
    arena.start()
    await arena.start_cluster()
    # Everything built so far (modules, settings, the app) lives as long as the process: keep it out
    # of the garbage collector's full passes, which otherwise stall a tick for tens of ms, and make
    # those passes rare (every 1,000 middle-generation passes instead of 10).
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)
    log.info("Tornado Arena listening on http://%s:%d with store %s on %s%s", settings.HOST, settings.PORT,
             describe_store(store, settings), type(asyncio.get_running_loop()).__module__.split(".")[0],
             f" in cluster mode as {settings.INSTANCE}" if settings.REDIS_URL else "")
    if settings.SECRET_KEY_FILE:
        log.info("SECRET_KEY is not set: signing tokens with the key kept in %s (set SECRET_KEY in production)",
                 os.path.abspath(settings.SECRET_KEY_FILE))
    elif settings.SECRET_KEY_GENERATED:
        log.warning("SECRET_KEY is not set: signing tokens with a random key, so tokens will not "
                    "survive a restart")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    def begin_stopping() -> None:
        arena.draining = True  # readiness fails at once, before anything closes
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, begin_stopping)
    await stop.wait()
    log.info("draining: readiness answers 503 for %.1f s, then games move or finish", settings.DRAIN_GRACE)
    await arena.drain()
    log.info("shutting down")
    server.stop()
    if metrics_server is not None:
        metrics_server.stop()
    await arena.shutdown()
    await server.close_all_connections()
    await store.close()
    log.info("stopped")


def listen(server, setting: str, port: int, host: str) -> None:
    """Listen, or raise SettingsError naming the setting when the address is taken or not ours."""
    try:
        server.listen(port, host)
    except OSError as exc:
        raise SettingsError(f"{setting}: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def event_loop_runner(choice: str) -> Callable[[Coroutine], Any]:
    """`asyncio.run`, on uvloop's loop unless ARENA_EVENT_LOOP says asyncio (uvloop does not install on
    Windows: `auto` then takes asyncio's, `uvloop` is refused)."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SettingsError("ARENA_EVENT_LOOP: uvloop is not installed") from None
        else:
            return uvloop.run
    return asyncio.run


def main(argv: list[str]) -> int:
    try:
        settings = keep_generated_key(load_settings(**parse_args(argv)))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    try:
        run = event_loop_runner(settings.EVENT_LOOP)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        run(serve(settings))
    except StoreUnavailable as exc:
        log.error("%s", exc)
        return 1
    except ClusterUnavailable as exc:
        log.error("ARENA_REDIS_URL: cluster mode cannot start: %s", exc)
        return 1
    except SettingsError as exc:  # found while building the services (e.g. ARENA_ALLOWED_ORIGINS)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
