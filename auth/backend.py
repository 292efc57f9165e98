"""How token bytes are signed and verified: PyJWT with a pinned algorithm, keys, JWKS, aud/iss, leeway."""

import time
from collections import OrderedDict
from typing import Any, Optional

import jwt
import orjson
from jwt import PyJWKSet
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from auth.imports import import_string
from settings import HMAC_ALGORITHMS, JWTSettings


class TokenBackendError(Exception):
    """The token's bytes cannot be trusted; the message is SimpleJWT's."""


class TokenBackendExpiredToken(TokenBackendError):
    """The signature is good but `exp` has passed."""


class JWKSClient:
    """Fetches a JWKS with Tornado's AsyncHTTPClient, caches it, and finds keys by `kid`.

    An unknown `kid` refetches the set at most once per `min_refetch` seconds, so a key rotated in at
    the issuer is picked up without a restart and a flood of bogus kids cannot hammer the issuer.
    """

    def __init__(self, url: str, cache_seconds: float, min_refetch: float):
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refetch = min_refetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")

    async def _fetch(self) -> None:
        response = await AsyncHTTPClient().fetch(self.url, request_timeout=5)
        jwks = PyJWKSet.from_dict(orjson.loads(response.body))
        self._keys = {key.key_id: key.key for key in jwks.keys}
        self._fetched_at = time.monotonic()

    async def key_for(self, kid: Optional[str]) -> Any:
        age = time.monotonic() - self._fetched_at
        if age > self.cache_seconds or (kid not in self._keys and age > self.min_refetch):
            try:
                await self._fetch()
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

    Clients present the same access token on every call, so the payloads of recently verified
    tokens are kept (LRU, keyed by the whole token string): a repeat skips the signature check, but
    `exp` is checked every time. Only successful verifications are kept, and nothing a check could
    newly reject over time (exp aside) is skipped: `nbf` and `iat` only ever become valid.
    """

    def __init__(self, settings: JWTSettings):
        self.algorithm = settings.ALGORITHM
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        self.signing_key = algorithm.prepare_key(settings.SIGNING_KEY)
        public = settings.SIGNING_KEY if self.algorithm in HMAC_ALGORITHMS else settings.VERIFYING_KEY
        extra = settings.EXTRA_VERIFYING_KEYS
        self.verifying_keys = [algorithm.prepare_key(key) for key in ([public] if public else []) + list(extra)]
        self.headers = {"kid": settings.SIGNING_KEY_ID} if settings.SIGNING_KEY_ID else None
        self.audience = settings.AUDIENCE
        self.issuer = settings.ISSUER
        self.leeway = settings.LEEWAY
        encoder = settings.JSON_ENCODER
        self.json_encoder = import_string(encoder) if isinstance(encoder, str) else encoder
        self._verified: OrderedDict[str, dict] = OrderedDict()
        self.jwks = None
        if settings.JWK_URL:
            self.jwks = JWKSClient(settings.JWK_URL, settings.JWKS_CACHE_SECONDS,
                                   settings.JWKS_REFETCH_INTERVAL)

    def encode(self, payload: dict) -> str:
        payload = dict(payload)
        if self.audience is not None:
            payload["aud"] = self.audience
        if self.issuer is not None:
            payload["iss"] = self.issuer
        return jwt.encode(payload, self.signing_key, algorithm=self.algorithm, headers=self.headers,
                          json_encoder=self.json_encoder)

    async def _candidate_keys(self, token: str) -> list:
        if self.jwks is None:
            return self.verifying_keys
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise TokenBackendError("Token is invalid") from None
        return [await self.jwks.key_for(kid)]

    async def decode(self, token: str, verify_exp: bool = True) -> dict:
        """The verified payload (a fresh copy); raises TokenBackendError. Only ALGORITHM is accepted."""
        payload = self._verified.get(token)
        if payload is None:
            payload = await self._verify(token)
            self._verified[token] = payload
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(token)
        if verify_exp and "exp" in payload and payload["exp"] <= time.time() - self.leeway:
            raise TokenBackendExpiredToken("Token is expired")
        return dict(payload)

    async def _verify(self, token: str) -> dict:
        options = {"verify_aud": self.audience is not None, "verify_exp": False}
        keys = await self._candidate_keys(token)
        for index, key in enumerate(keys):
            try:
                payload = jwt.decode(token, key, algorithms=[self.algorithm], audience=self.audience,
                                     issuer=self.issuer, leeway=self.leeway, options=options)
            except jwt.InvalidSignatureError:
                if index == len(keys) - 1:
                    raise TokenBackendError("Token is invalid") from None
                continue
            except jwt.InvalidAlgorithmError:
                raise TokenBackendError("Invalid algorithm specified") from None
            except jwt.InvalidTokenError:
                raise TokenBackendError("Token is invalid") from None
            if not isinstance(payload.get("exp", 0), (int, float)):
                raise TokenBackendError("Token is invalid")
            return payload
        raise TokenBackendError("Token is invalid")
