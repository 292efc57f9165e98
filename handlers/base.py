"""The JSON API's common ground: DRF-style body parsing and field errors, JSON errors, never HTML."""

import logging
import re
from typing import Any, Optional

import orjson
import tornado.web
from tornado import netutil
from tornado import httputil
from tornado.httputil import HTTPServerRequest

from arena import Arena
from auth.passwords import ClientGone, HasherBusy, HashingClient, hashing_client
from edge.request_ids import HEADER, request_id
from edge.answers import API_HEADERS, JSON, answer_throttled
from edge.throttles import Throttled, address_key
from settings import JWTSettings
from store.database import StoreUnavailable

log = logging.getLogger("arena.api")
UNAVAILABLE = {"detail": "Service temporarily unavailable."}
INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
PARSED_MEDIA_TYPES = (JSON, "application/x-www-form-urlencoded", "multipart/form-data")


class APIError(tornado.web.HTTPError):
    """An error answer: `status` with `body` as JSON, and optional extra headers."""

    def __init__(self, status: int, body: Any, headers: Optional[dict] = None):
        super().__init__(status)
        self.body = body
        self.headers = headers or {}


class FieldErrors(APIError):
    """400 with DRF's field-error shape: `{"field": ["message", ...]}`."""

    def __init__(self, errors: dict):
        super().__init__(400, errors)


def detail(status: int, message: str, **extra: Any) -> APIError:
    return APIError(status, {"detail": message, **extra})


def unauthorized(settings: JWTSettings, body: dict) -> APIError:
    """401 with the `WWW-Authenticate` challenge SimpleJWT sends."""
    challenge = f'{settings.AUTH_HEADER_TYPES[0]} realm="api"'
    return APIError(401, body, {"WWW-Authenticate": challenge})


def client_address(request: HTTPServerRequest, trust_proxy: bool) -> str:
    """Who is calling: the peer, or with ARENA_TRUST_PROXY what the proxy says (X-Real-IP, else the
    last X-Forwarded-For hop, as Tornado's `xheaders` reads them)."""
    if trust_proxy:
        forwarded = request.headers.get("X-Real-IP") or request.headers.get("X-Forwarded-For", "")
        candidate = forwarded.split(",")[-1].strip()
        if netutil.is_valid_ip(candidate):
            return candidate
    return request.remote_ip


def string_field(data: dict, name: str, errors: dict, *, allow_blank: bool = False) -> Optional[str]:
    """Read a DRF `CharField`: numbers become strings, other non-strings and blanks are errors."""
    if name not in data:
        errors[name] = ["This field is required."]
        return None
    value = data[name]
    if value is None:
        errors[name] = ["This field may not be null."]
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors[name] = ["Not a valid string."]
        return None
    value = str(value).strip()
    if not value and not allow_blank:
        errors[name] = ["This field may not be blank."]
        return None
    return value


def read_fields(data: dict, *names: str) -> list[str]:
    """Read required string fields, raising every field's error at once."""
    errors: dict = {}
    values = [string_field(data, name, errors) for name in names]
    if errors:
        raise FieldErrors(errors)
    return values


class APIHandler(tornado.web.RequestHandler):
    """Base of the JSON endpoints: parses bodies as DRF does and answers every error as JSON.

    A body declared larger than ARENA_MAX_BODY_SIZE is refused (413) by the server before a byte of it
    is read (edge.server), and Tornado never buffers more than that of a body without a length.
    """

    _hashing = False  # this request hashes a password (hashing_for)

    def initialize(self, arena: Arena) -> None:
        """Routes hand every handler the services it uses (handlers.routes)."""
        self.arena = arena
        self._set_request_headers()

    def client_address(self) -> str:
        return client_address(self.request, self.arena.settings.TRUST_PROXY)

    def hashing_for(self, *accounts: str) -> None:
        """Passwords this request hashes count against its address's share of the hashing threads (and
        the accounts', throttle keys); and are skipped if its client has gone before their turn. The
        arena counts it among the requests that hash, which hashing's budget is not kept against."""
        hashing_client.set(HashingClient((address_key(self.client_address()), *accounts),
                                         self.request.connection.stream.closed))
        if not self._hashing:
            self._hashing = True
            self.arena.hashing_requests += 1

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", JSON)
        for name, value in API_HEADERS.items():
            self.set_header(name, value)
        if hasattr(self, "arena"):  # after an error cleared the headers; at first, initialize sets them
            self._set_request_headers()

    def _set_request_headers(self) -> None:
        self.set_header(HEADER, request_id(self.request, self.arena.settings.TRUST_PROXY))
        self._set_cors_headers()

    def _set_cors_headers(self) -> None:
        """A browser page from an allowed origin may read the answer (tokens travel in headers and
        bodies, never cookies, so no credentials are allowed)."""
        origin = self.request.headers.get("Origin")
        if origin:  # the answer depends on the Origin only when there is one (and no-store keeps it out of caches)
            self.set_header("Vary", "Origin")
            if self.arena.origins.allows(origin, self.request.host):
                self.set_header("Access-Control-Allow-Origin", origin)
                self.set_header("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")

    def options(self, *args: Any) -> None:
        """A CORS preflight: allowed origins learn the methods and headers this endpoint takes."""
        origin = self.request.headers.get("Origin")
        if not origin or not self.arena.origins.allows(origin, self.request.host):
            raise detail(403, "This origin may not call the API.")
        self.set_header("Access-Control-Allow-Methods", ", ".join(self.allowed_methods()))
        self.set_header("Access-Control-Allow-Headers", f"{self.arena.settings.jwt.AUTH_HEADER_NAME}, Content-Type")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def write_json(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(orjson.dumps(body))

    def check_xsrf_cookie(self) -> None:
        """Token-authenticated API: no cookies, so no XSRF checks."""

    def prepare(self):
        self.arena.request_started()
        self._counted = True

    def on_finish(self) -> None:
        if getattr(self, "_counted", False):
            self.arena.request_finished(hashed=self._hashing)

    def integer_query(self, name: str, default: int, minimum: int, maximum: int) -> int:
        """A query parameter read as DRF's IntegerField(min_value, max_value) reads it: ASCII digits
        only (`²` or `①` are not numbers), bounded, else 400 with the field's error."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        if len(raw) > 1000:
            raise FieldErrors({name: ["String value too large."]})
        if not INTEGER.fullmatch(raw.strip()):
            raise FieldErrors({name: ["A valid integer is required."]})
        value = int(raw.strip())
        if value < minimum:
            raise FieldErrors({name: [f"Ensure this value is greater than or equal to {minimum}."]})
        if value > maximum:
            raise FieldErrors({name: [f"Ensure this value is less than or equal to {maximum}."]})
        return value

    def body_data(self) -> dict:
        """The request body as a dict: JSON, url-encoded form or multipart, like DRF's default parsers."""
        if not self.request.body and "Content-Type" not in self.request.headers:
            return {}
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type == JSON:
            try:
                data = orjson.loads(self.request.body)
            except orjson.JSONDecodeError as exc:
                raise detail(400, f"JSON parse error - {exc}") from None
            if not isinstance(data, dict):
                kind = {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(
                    type(data), "null" if data is None else type(data).__name__)
                raise APIError(400, {"non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {kind}."]})
            return data
        if media_type in PARSED_MEDIA_TYPES:
            arguments: dict[str, list[bytes]] = {}
            try:
                httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), self.request.body,
                                              arguments, {}, self.request.headers)
            except httputil.HTTPInputError as exc:
                raise detail(400, f"Multipart form parse error - {exc}") from None
            # Like a QueryDict, the last value wins.
            return {name: values[-1].decode("utf-8", "replace") for name, values in arguments.items()}
        shown = self.request.headers.get("Content-Type", "")
        raise detail(415, f'Unsupported media type "{shown}" in request.')

    def allowed_methods(self) -> list[str]:
        return [method for method in self.SUPPORTED_METHODS
                if getattr(type(self), method.lower()) is not getattr(tornado.web.RequestHandler, method.lower())]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, APIError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            body = exc.body
        elif isinstance(exc, (StoreUnavailable, HasherBusy)):
            self.set_status(503)
            if isinstance(exc, HasherBusy):
                self.set_header("Retry-After", str(exc.retry_after))
            body = UNAVAILABLE
        elif isinstance(exc, ClientGone):
            self.set_status(499, "Client Closed Request")  # nginx's code: logged, sent to nobody
            body = {"detail": "The client closed the request."}
        elif isinstance(exc, Throttled):
            answer_throttled(self, exc)
            return
        elif isinstance(exc, tornado.web.HTTPError) and isinstance(exc.__context__, httputil.HTTPInputError):
            body = {"detail": f"Multipart form parse error - {exc.__context__}"}  # Tornado parsed the body first
        elif status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
            body = {"detail": f'Method "{self.request.method}" not allowed.'}
        elif status_code == 404:
            body = {"detail": "Not found."}
        elif status_code >= 500:
            body = {"detail": "A server error occurred."}
        else:
            body = {"detail": self._reason}
        self.set_header("Content-Type", JSON)
        self.finish(orjson.dumps(body))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (APIError, Throttled)):
            return  # an answer, not a fault
        if isinstance(value, (StoreUnavailable, HasherBusy)):
            log.warning("%s %s answered 503: %s", self.request.method, self.request.path,
                        value or type(value).__name__, extra=self._log_fields())
            return
        if isinstance(value, ClientGone):
            return  # nobody is there to answer
        if isinstance(value, tornado.web.HTTPError):  # an answer (e.g. @authenticated's 403): no traceback
            super().log_exception(typ, value, tb)
            return
        fields = self._log_fields()
        log.error("%s %s failed (request %s)", self.request.method, self.request.path, fields["request_id"],
                  exc_info=(typ, value, tb), extra=fields)

    def _log_fields(self) -> dict:
        return {"request_id": request_id(self.request, self.arena.settings.TRUST_PROXY),
                "method": self.request.method, "path": self.request.path}


class NotFoundHandler(APIHandler):
    """Every unknown path: 404 `{"detail": "Not found."}` whatever the method."""

    def prepare(self):
        raise detail(404, "Not found.")

