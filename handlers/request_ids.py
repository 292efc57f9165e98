"""Every HTTP answer carries an `X-Request-ID`; the access log and error logs carry it too.

A trusted proxy's id (ARENA_TRUST_PROXY) is kept so one id follows a request through both; otherwise,
or when the given one is not a plain token, the server makes one.
"""

import re
import uuid

from tornado.httputil import HTTPServerRequest

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(request: HTTPServerRequest, trust_proxy: bool) -> str:
    """The request's id, decided once and kept on the request."""
    known = getattr(request, "arena_request_id", None)
    if known is None:
        given = request.headers.get(HEADER, "") if trust_proxy else ""
        known = given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
        request.arena_request_id = known
    return known
