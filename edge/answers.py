"""What every JSON answer of the API carries, and the answers the edge gives by itself."""

import orjson
import tornado.web

from edge.throttles import Throttled

JSON = "application/json"
# Every API answer: never cached (tokens), never sniffed, framed or allowed to load anything.
API_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def too_large(limit: int) -> bytes:
    """DRF's words for a body over the limit (413)."""
    return orjson.dumps({"detail": f"Request body exceeds {limit} bytes."})


def answer_throttled(handler: tornado.web.RequestHandler, throttled: Throttled) -> None:
    """429 with `Retry-After` and DRF's words: the same answer from every endpoint and the game socket."""
    handler.set_status(429)
    handler.set_header("Retry-After", str(throttled.seconds))
    handler.set_header("Content-Type", JSON)
    handler.finish(orjson.dumps(throttled.body))
