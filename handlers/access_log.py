"""Tornado's access log, with tokens in query strings redacted: secrets never reach a log."""

import logging
import re

import tornado.web

from handlers.request_ids import request_id

access_log = logging.getLogger("tornado.access")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:access_)?token=)[^&#]*")
REDACTED = "[redacted]"
CLIENT_GONE = 499  # the client hung up before its answer: routine, not a warning


def redact_token(uri: str) -> str:
    """The URI with every `token=` query value replaced by `[redacted]`."""
    return _TOKEN_IN_QUERY.sub(r"\1" + REDACTED, uri)


def log_request(handler: tornado.web.RequestHandler) -> None:
    """`Application(log_function=...)`: Tornado's format, with the URI redacted."""
    status = handler.get_status()
    level = logging.INFO if status < 400 or status == CLIENT_GONE else logging.WARNING if status < 500 else logging.ERROR
    if not access_log.isEnabledFor(level):
        return  # at a quieter log level a request costs no formatting at all
    request = handler.request
    access_log.log(level, "%d %s %s (%s) %.2fms [%s]", status, request.method, redact_token(request.uri),
                   request.remote_ip, 1000.0 * request.request_time(),
                   request_id(request, trust_proxy=False))  # decided by the handler already; else a new one
