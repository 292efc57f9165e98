"""Every HTTP answer carries an `X-Request-ID`; the access log and error logs carry it too.

A trusted proxy's id (ARENA_TRUST_PROXY) is kept so one id follows a request through both; otherwise,
or when the given one is not a plain token, the server makes one.
"""

import itertools
import re
import secrets

from tornado.httputil import HTTPServerRequest

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Ours are 32 hex digits, like a UUID's: a random prefix per process and a counter, unique without
# asking the kernel for randomness on every request.
_PREFIX = secrets.token_hex(10)
_COUNTER = itertools.count()


def new_request_id(given: str = "") -> str:
    """A trusted proxy's id (`given`) if it is a plain token, else a new one."""
    return given if given and _ACCEPTABLE.fullmatch(given) else f"{_PREFIX}{next(_COUNTER):012x}"


def request_id(request: HTTPServerRequest, trust_proxy: bool) -> str:
    """The request's id, decided once and kept on the request."""
    known = getattr(request, "arena_request_id", None)
    if known is None:
        known = request.arena_request_id = new_request_id(request.headers.get(HEADER, "") if trust_proxy else "")
    return known
