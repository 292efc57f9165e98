"""Token types, SimpleJWT's: which claims each carries, its lifetime, and the checks reading one makes.

`TokenCodec` makes and reads tokens of these types with the JWT settings and the backend; it knows
nothing of users or storage (that is auth.service).
"""

import time
import uuid
from datetime import timedelta
from typing import Any, Callable, Mapping, Optional

from settings import JWTSettings
from store.documents import UserId

from auth.backend import TokenBackend, TokenBackendError, TokenBackendExpiredToken
from auth.errors import ExpiredTokenError, TokenError


class Token:
    """A token's payload and its type's rules."""

    token_type: Optional[str] = None
    lifetime_setting: Optional[str] = None
    blacklistable = False  # recorded as outstanding when issued, and can be blacklisted

    def __init__(self, payload: dict, raw: Optional[str] = None):
        self.payload = payload
        self.raw = raw

    def __getitem__(self, claim: str) -> Any:
        return self.payload[claim]

    def __setitem__(self, claim: str, value: Any) -> None:
        self.payload[claim] = value

    def __contains__(self, claim: str) -> bool:
        return claim in self.payload

    def get(self, claim: str, default: Any = None) -> Any:
        return self.payload.get(claim, default)


class AccessToken(Token):
    token_type = "access"
    lifetime_setting = "ACCESS_TOKEN_LIFETIME"


class RefreshToken(Token):
    token_type = "refresh"
    lifetime_setting = "REFRESH_TOKEN_LIFETIME"
    blacklistable = True


class SlidingToken(Token):
    token_type = "sliding"
    lifetime_setting = "SLIDING_TOKEN_LIFETIME"
    blacklistable = True


class UntypedToken(Token):
    """Any token type: only signature, expiry and jti are checked (the verify endpoint)."""

    token_type = "untyped"


FAMILY_CLAIM = "fam"  # the login a token descends from: logout and reuse detection revoke a family
GENERATION_CLAIM = "gen"  # the user's token generation at issue; revoke-all moves the user to the next


class TokenCodec:
    """Makes tokens of a type for a user and reads raw tokens back into checked Token objects."""

    def __init__(self, settings: JWTSettings, backend: TokenBackend, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.backend = backend
        self.clock = clock
        self.type_claim = settings.TOKEN_TYPE_CLAIM
        self.jti_claim = settings.JTI_CLAIM
        self.user_id_claim = settings.USER_ID_CLAIM
        self.refresh_exp_claim = settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM

    def lifetime(self, setting: str) -> timedelta:
        return getattr(self.settings, setting)

    def stamp(self, token: Token, now: Optional[float] = None, new_id: bool = True) -> Token:
        """Give a token a fresh jti (unless not `new_id`), iat and exp, as SimpleJWT's set_jti/set_iat/set_exp:
        whole seconds since the epoch, as SimpleJWT writes them.
        """
        now = self.clock() if now is None else now
        if new_id:
            token[self.jti_claim] = uuid.uuid4().hex
        token["iat"] = int(now)
        token["exp"] = int(now + self.lifetime(token.lifetime_setting).total_seconds())
        return token

    def new(self, cls: type, user_id: Any, claims: Optional[Mapping[str, Any]] = None) -> Token:
        now = self.clock()
        token = cls({self.type_claim: cls.token_type, **(claims or {})})
        token[self.user_id_claim] = str(user_id)
        self.stamp(token, now)
        if cls is SlidingToken:
            token[self.refresh_exp_claim] = int(now + self.lifetime("SLIDING_TOKEN_REFRESH_LIFETIME").total_seconds())
        return token

    def access_for(self, refresh: Token) -> AccessToken:
        """An access token carrying every claim of `refresh` but its type, jti, iat and exp."""
        skipped = {self.type_claim, self.jti_claim, "jti", "exp", "iat", "aud", "iss"}
        claims = {name: value for name, value in refresh.payload.items() if name not in skipped}
        access = AccessToken({self.type_claim: AccessToken.token_type, **claims})
        return self.stamp(access)

    def user_id(self, token: Token) -> Optional[UserId]:
        """The user id claim as the store's type (SimpleJWT writes a string; before 5.5.1 an integer).

        None when the claim is missing or holds something that is no user id.
        """
        claim = token.get(self.user_id_claim)
        if isinstance(claim, int) and not isinstance(claim, bool):
            return claim
        if isinstance(claim, str) and claim.isascii() and claim.isdigit():
            return int(claim)
        return None

    def encode(self, token: Token) -> str:
        token.raw = self.backend.encode(token.payload)
        return token.raw

    async def read(self, raw: str, cls: type, verify_exp: bool = True) -> Token:
        """Decode and check a raw token as type `cls`; raises TokenError with SimpleJWT's message."""
        if not isinstance(raw, str) or not raw:
            raise TokenError()
        try:
            payload = await self.backend.decode(raw, verify_exp=verify_exp)
        except TokenBackendExpiredToken as exc:
            raise ExpiredTokenError(str(exc)) from None
        except TokenBackendError:
            raise TokenError() from None  # SimpleJWT's Token says "Token is invalid" for every backend failure
        token = cls(payload, raw)
        if verify_exp:
            self.check_exp(token, "exp")
        if self.jti_claim not in payload:
            raise TokenError("Token has no id")
        if cls is not UntypedToken:
            if self.type_claim not in payload:
                raise TokenError("Token has no type")
            if payload[self.type_claim] != cls.token_type:
                raise TokenError("Token has wrong type")
        return token

    def check_exp(self, token: Token, claim: str) -> None:
        if claim not in token:
            raise TokenError(f"Token has no '{claim}' claim")
        if token[claim] <= self.clock() - self.backend.leeway:
            raise ExpiredTokenError(f"Token '{claim}' claim has expired")
