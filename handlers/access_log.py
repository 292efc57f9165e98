"""Tornado's access log, with tokens in query strings redacted: secrets never reach a log."""

import logging
import re

import tornado.web

access_log = logging.getLogger("tornado.access")
_TOKEN_IN_QUERY = re.compile(r"([?&](?:access_)?token=)[^&#]*")


def redact_token(uri: str) -> str:
    """The URI with every `token=` query value replaced by `[redacted]`."""
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", uri)


def log_request(handler: tornado.web.RequestHandler) -> None:
    """`Application(log_function=...)`: Tornado's format, with the URI redacted."""
    status = handler.get_status()
    if status < 400:
        log_method = access_log.info
    elif status < 500:
        log_method = access_log.warning
    else:
        log_method = access_log.error
    request = handler.request
    log_method("%d %s %s (%s) %.2fms", status, request.method, redact_token(request.uri),
               request.remote_ip, 1000.0 * request.request_time())
