"""How token bytes are signed and verified: PyJWT with a pinned algorithm, keys, JWKS, aud/iss, leeway."""

import asyncio
import json
import time
from calendar import timegm
from collections import OrderedDict
from datetime import datetime
from typing import Any, Optional

import jwt
import orjson
from jwt import PyJWKSet
from jwt.utils import base64url_encode
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from settings import HMAC_ALGORITHMS, JWTSettings


class TokenBackendError(Exception):
    """The token's bytes cannot be trusted; the message is SimpleJWT's."""


class TokenBackendExpiredToken(TokenBackendError):
    """The signature is good but `exp` has passed."""


class JWKSClient:
    """Fetches a JWKS with Tornado's AsyncHTTPClient, caches it, and finds keys by `kid`.

    An unknown `kid` refetches the set at most once per `min_refetch` seconds, so a key rotated in at
    the issuer is picked up without a restart and a flood of bogus kids cannot hammer the issuer.
    Concurrent lookups share one fetch; after a failed fetch the next waits twice as long as the last
    (from a second up to `cache_seconds`), while the keys already known stay in use.
    """

    def __init__(self, url: str, cache_seconds: float, min_refetch: float):
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refetch = min_refetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._failures = 0
        self._fetching: Optional[asyncio.Future] = None
        self._http: Optional[AsyncHTTPClient] = None

    async def _fetch(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            # A client of its own: the shared one may be busy with requests that wait for this fetch.
            if self._http is None:
                self._http = AsyncHTTPClient(force_instance=True)
            response = await self._http.fetch(self.url, request_timeout=5)
            jwks = PyJWKSet.from_dict(orjson.loads(response.body))
        except (HTTPClientError, OSError, ValueError, jwt.PyJWKSetError):
            self._failures += 1
            raise
        self._keys = {key.key_id: key.key for key in jwks.keys}
        self._fetched_at = time.monotonic()
        self._failures = 0

    def _retry_after(self) -> float:
        """Seconds between attempts: `min_refetch`, or a doubling backoff after failures."""
        if not self._failures:
            return self.min_refetch
        return min(self.cache_seconds, max(1.0, self.min_refetch) * 2 ** (self._failures - 1))

    async def _refetch(self) -> None:
        if self._fetching is None:
            self._fetching = asyncio.ensure_future(self._fetch())
            self._fetching.add_done_callback(lambda _: setattr(self, "_fetching", None))
        await asyncio.shield(self._fetching)

    async def key_for(self, kid: Optional[str]) -> Any:
        now = time.monotonic()
        stale = now - self._fetched_at > self.cache_seconds
        wanted = stale or kid not in self._keys
        if wanted and (self._fetching is not None or now - self._attempted_at >= self._retry_after()):
            try:
                await self._refetch()
            except (HTTPClientError, OSError, ValueError, jwt.PyJWKSetError) as exc:
                if not self._keys:
                    raise TokenBackendError("Token is invalid") from exc
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenBackendError("Token is invalid") from None


VERIFIED_CACHE_SIZE = 1024


class TokenBackend:
    """Encodes payloads and decodes tokens with the JWT settings; keys are parsed once, here.

    Tokens are written exactly as `jwt.encode` writes them (the header with sorted keys, the payload in
    claim order, both compact JSON through JSON_ENCODER), but signed with the key prepared at start:
    `jwt.encode` prepares it again on every call, which for an HMAC secret means parsing it as JSON
    and as PEM, SSH and DER (a seventh of a refresh's time).

    Clients present the same access token on every call, so the payloads of recently verified
    tokens are kept (LRU, keyed by the whole token string): a repeat skips the signature check, but
    `exp` is checked every time, and with a JWKS the key must still be in it. Only successful
    verifications are kept, and nothing a check could newly reject over time (exp and the key aside)
    is skipped: `nbf` and `iat` only ever become valid.
    """

    def __init__(self, settings: JWTSettings, json_encoder: Optional[type] = None):
        self.algorithm = settings.ALGORITHM
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        self._signer = algorithm
        self.signing_key = algorithm.prepare_key(settings.SIGNING_KEY)
        public = settings.SIGNING_KEY if self.algorithm in HMAC_ALGORITHMS else settings.VERIFYING_KEY
        extra = settings.EXTRA_VERIFYING_KEYS
        self.verifying_keys = [algorithm.prepare_key(key) for key in ([public] if public else []) + list(extra)]
        self.headers = {"kid": settings.SIGNING_KEY_ID} if settings.SIGNING_KEY_ID else None
        self.audience = settings.AUDIENCE
        self.issuer = settings.ISSUER
        self.leeway = settings.LEEWAY
        self.json_encoder = json_encoder  # JSON_ENCODER, resolved (auth.extensions)
        header = {"typ": "JWT", "alg": self.algorithm, **(self.headers or {})}
        self._header_segment = base64url_encode(self._json(header, sort_keys=True))
        self._verified: OrderedDict[str, tuple[dict, Optional[str], Any]] = OrderedDict()
        self.jwks = None
        if settings.JWK_URL:
            self.jwks = JWKSClient(settings.JWK_URL, settings.JWKS_CACHE_SECONDS,
                                   settings.JWKS_REFETCH_INTERVAL)

    def _json(self, value: dict, sort_keys: bool = False) -> bytes:
        return json.dumps(value, separators=(",", ":"), cls=self.json_encoder, sort_keys=sort_keys).encode()

    def encode(self, payload: dict) -> str:
        payload = dict(payload)
        if self.audience is not None:
            payload["aud"] = self.audience
        if self.issuer is not None:
            payload["iss"] = self.issuer
        for claim in ("exp", "iat", "nbf"):  # as jwt.encode: datetimes become seconds since the epoch
            if isinstance(payload.get(claim), datetime):
                payload[claim] = timegm(payload[claim].utctimetuple())
        signing_input = self._header_segment + b"." + base64url_encode(self._json(payload))
        signature = self._signer.sign(signing_input, self.signing_key)
        return (signing_input + b"." + base64url_encode(signature)).decode()

    async def _candidate_keys(self, token: str) -> tuple[Optional[str], list]:
        """The token's `kid` (JWKS only) and the keys that may have signed it."""
        if self.jwks is None:
            return None, self.verifying_keys
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise TokenBackendError("Token is invalid") from None
        return kid, [await self.jwks.key_for(kid)]

    async def _still_trusted(self, kid: Optional[str], key: Any) -> bool:
        """A cached verification holds only while its key does: a key gone from the JWKS takes it along."""
        return self.jwks is None or await self.jwks.key_for(kid) is key

    async def decode(self, token: str, verify_exp: bool = True) -> dict:
        """The verified payload (a fresh copy); raises TokenBackendError. Only ALGORITHM is accepted."""
        cached = self._verified.pop(token, None)
        if cached is None or not await self._still_trusted(cached[1], cached[2]):
            cached = await self._verify(token)
        self._verified[token] = cached
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        payload = cached[0]
        if verify_exp and "exp" in payload and payload["exp"] <= time.time() - self.leeway:
            raise TokenBackendExpiredToken("Token is expired")
        return dict(payload)

    async def _verify(self, token: str) -> tuple[dict, Optional[str], Any]:
        """The payload, and the kid and key that verified it."""
        options = {"verify_aud": self.audience is not None, "verify_exp": False}
        kid, keys = await self._candidate_keys(token)
        for key in keys:
            try:
                payload = jwt.decode(token, key, algorithms=[self.algorithm], audience=self.audience,
                                     issuer=self.issuer, leeway=self.leeway, options=options)
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError:
                raise TokenBackendError("Token is invalid") from None
            if not isinstance(payload.get("exp", 0), (int, float)):
                raise TokenBackendError("Token is invalid")
            return payload, kid, key
        raise TokenBackendError("Token is invalid")
