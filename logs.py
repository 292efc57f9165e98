"""Log lines as text (the default) or one JSON object per line, with secrets taken out of both.

Whatever a message says, a JWT-shaped string or a query-string value never reaches a log line: the
formatters redact them from the finished line, as a last line of defence behind the call sites
(which log no bodies, and log paths rather than query strings). Nor does a control character a client
chose (a newline that forges a second line, an ANSI escape, a C1 control, a bidirectional override):
every field is written with them escaped (`\n`, `\x1b`, `\u202e`); only a traceback keeps its lines.
"""

import logging
import re
import sys
from datetime import datetime, timezone

import orjson

REDACTED = "[redacted]"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s?]+=)(?!\[redacted\])[^&#\s)\]\"']*")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# `extra=` fields a JSON line carries when the call site gives them.
FIELDS = ("request_id", "user_id", "room", "close_code", "close_reason", "status", "method", "path",
          "duration_ms", "address")


def redact_query(uri: str) -> str:
    """`/p?token=abc&ticks=5` → `/p?token=[redacted]&ticks=[redacted]`: names stay, values never."""
    return _QUERY_VALUE.sub(r"\1" + REDACTED, uri)


def redact(line: str) -> str:
    return redact_query(_JWT.sub(REDACTED, line))


def escape_controls(text: str) -> str:
    """Control and bidirectional characters as escapes: what a client sends cannot forge or hide lines."""
    return _CONTROLS.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...FIELDS, "exception"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": escape_controls(record.getMessage())}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = escape_controls(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(line, default=str).decode())


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr at `level` in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
