"""Tornado's access log with query values redacted (secrets never reach a log) and structured fields."""

import logging

import tornado.web

from edge.request_ids import request_id
from logs import redact_query

access_log = logging.getLogger("tornado.access")
CLIENT_GONE = 499  # the client hung up before its answer: routine, not a warning
PROBES = frozenset({"/api/health/", "/api/health/live", "/api/health/ready", "/metrics"})  # polled: DEBUG when fine


def log_request(handler: tornado.web.RequestHandler) -> None:
    """`Application(log_function=...)`: Tornado's format, with the query's values redacted."""
    status = handler.get_status()
    if handler.request.path in PROBES:  # an unready answer is the probe doing its job: a warning at most
        level = logging.DEBUG if status < 400 else logging.WARNING
    elif status < 400 or status == CLIENT_GONE:
        level = logging.INFO
    else:
        level = logging.WARNING if status < 500 else logging.ERROR
    if not access_log.isEnabledFor(level):
        return  # at a quieter log level a request costs no formatting at all
    request = handler.request
    duration = 1000.0 * request.request_time()
    rid = request_id(request, trust_proxy=False)  # decided by the handler already; else a new one
    access_log.log(level, "%d %s %s (%s) %.2fms [%s]", status, request.method, redact_query(request.uri),
                   request.remote_ip, duration, rid,
                   extra={"request_id": rid, "status": status, "method": request.method, "path": request.path,
                          "duration_ms": round(duration, 2), "address": request.remote_ip})
