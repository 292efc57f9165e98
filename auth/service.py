"""What the token endpoints do: issue, refresh (with race-free rotation and reuse detection), verify,
blacklist and revoke — and the user checks made wherever a token's user is loaded."""

import hashlib
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional

from auth.imports import import_string
from auth.passwords import PasswordHasher
from auth.store import Store
from auth.tokens import FAMILY_CLAIM, RefreshToken, SlidingToken, Token, TokenCodec, TokenError, UntypedToken
from auth.users import check_credentials, record_login
from settings import JWTSettings


class AuthenticationFailed(Exception):
    """A 401 in SimpleJWT's words: `detail`, and `code` when SimpleJWT's body carries one."""

    def __init__(self, detail: str, code: Optional[str] = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code


NO_ACTIVE_ACCOUNT = "No active account found with the given credentials"
NO_ACTIVE_ACCOUNT_FOR_TOKEN = "No active account found for the given token."
BLACKLISTED = "Token is blacklisted"
PASSWORD_CHANGED = "The user's password has been changed."


def default_user_authentication_rule(user: Optional[dict], settings: JWTSettings) -> bool:
    """SimpleJWT's rule: the user exists and, when CHECK_USER_IS_ACTIVE, is active."""
    return user is not None and (not settings.CHECK_USER_IS_ACTIVE or user.get("is_active", False))


def password_digest(password_hash: str) -> str:
    """The REVOKE_TOKEN_CLAIM value: SHA-256 of the stored hash, so a password change voids tokens."""
    return hashlib.sha256(password_hash.encode()).hexdigest()


def store_user_id(claim: Any) -> Any:
    """Token claims carry the user id as a string; the store keeps Django-style integer ids."""
    return int(claim) if isinstance(claim, str) and claim.isdigit() else claim


def expires_at(token: Token) -> datetime:
    return datetime.fromtimestamp(token["exp"], timezone.utc)


class TokenService:
    """Issues and checks tokens for users in the store; notifies listeners when a user is revoked."""

    def __init__(self, settings: JWTSettings, store: Store, hasher: PasswordHasher, codec: TokenCodec,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self.store = store
        self.hasher = hasher
        self.codec = codec
        self.clock = clock
        self.user_rule = import_string(settings.USER_AUTHENTICATION_RULE)
        hook = settings.TOKEN_CLAIMS_HOOK
        self.claims_hook = import_string(hook) if isinstance(hook, str) else hook
        self.blacklist_enabled = settings.BLACKLIST_ENABLED
        reuse = settings.REUSE_DETECTION
        if reuse is None:
            reuse = settings.ROTATE_REFRESH_TOKENS and settings.BLACKLIST_AFTER_ROTATION
        self.reuse_detection = bool(reuse) and self.blacklist_enabled
        self.revocation_listeners: list[Callable[[Any], None]] = []

    # Issuing

    def _user_claims(self, user: dict, extra_claims: Mapping[str, Any]) -> dict:
        claims = dict(self.claims_hook(user)) if self.claims_hook else {}
        if self.settings.CHECK_REVOKE_TOKEN:
            claims[self.settings.REVOKE_TOKEN_CLAIM] = password_digest(user["password"])
        claims.update(extra_claims)
        return claims

    async def _outstand(self, token: Token) -> None:
        await self.store.add_outstanding_token({
            "_id": token[self.codec.jti_claim],
            "user_id": store_user_id(token[self.codec.user_id_claim]),
            "token_type": token.token_type,
            "family": token.get(FAMILY_CLAIM),
            "created_at": datetime.fromtimestamp(token["iat"], timezone.utc),
            "expires_at": expires_at(token),
        })

    async def tokens_for_user(self, user: dict, **extra_claims: Any) -> dict:
        """`{"refresh", "access"}` for `user`, the refresh token recorded as outstanding.

        The one call that issues a pair: the login endpoint uses it, and so can e.g. an OAuth login.
        Each call starts a new token family for reuse detection.
        """
        claims = {**self._user_claims(user, extra_claims), FAMILY_CLAIM: uuid.uuid4().hex}
        refresh = self.codec.new(RefreshToken, user[self.settings.USER_ID_FIELD], claims)
        await self._outstand(refresh)
        return {"refresh": self.codec.encode(refresh), "access": self.codec.encode(self.codec.access_for(refresh))}

    async def sliding_token_for_user(self, user: dict, **extra_claims: Any) -> str:
        token = self.codec.new(SlidingToken, user[self.settings.USER_ID_FIELD],
                               self._user_claims(user, extra_claims))
        await self._outstand(token)
        return self.codec.encode(token)

    async def login(self, username: str, password: str) -> dict:
        """The user these credentials belong to, if the authentication rule admits them."""
        user = await check_credentials(self.store, self.hasher, username, password)
        if user is None or not user.get("is_active", False) or not self.user_rule(user, self.settings):
            raise AuthenticationFailed(NO_ACTIVE_ACCOUNT)
        if self.settings.UPDATE_LAST_LOGIN:
            await record_login(self.store, user)
        return user

    # Checking

    async def check_blacklist(self, token: Token) -> None:
        """Raise "Token is blacklisted" for a blacklisted jti or a revoked family.

        Presenting a token that was blacklisted by rotation means it was used twice: with reuse
        detection on, its whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
        """
        if not self.blacklist_enabled:
            return
        reason = await self.store.blacklist_reason(token.get(self.codec.jti_claim))
        if reason == "rotated" and self.reuse_detection:
            await self.revoke_family(token)
        family = token.get(FAMILY_CLAIM)
        if reason or (family and self.reuse_detection and await self.store.is_family_revoked(family)):
            raise TokenError(BLACKLISTED)

    async def revoke_family(self, token: Token) -> None:
        family = token.get(FAMILY_CLAIM)
        if family:
            user_id = store_user_id(token.get(self.codec.user_id_claim))
            expiry = datetime.fromtimestamp(self.clock() + self.settings.REFRESH_TOKEN_LIFETIME.total_seconds(),
                                            timezone.utc)
            await self.store.revoke_family(family, user_id, expiry)

    def is_revoked(self, user: dict, token: Token) -> bool:
        """Issued before the user's last revoke-all (deactivation or "log out everywhere")."""
        valid_after = user.get("tokens_valid_after")
        return valid_after is not None and token.get("iat", 0) < valid_after

    def password_changed(self, user: dict, token: Token) -> bool:
        return (self.settings.CHECK_REVOKE_TOKEN
                and token.get(self.settings.REVOKE_TOKEN_CLAIM) != password_digest(user["password"]))

    async def user_for_token(self, token: Token) -> dict:
        """The token's user, checked as SimpleJWT's JWTAuthentication.get_user does, plus revocation."""
        try:
            user_id = token[self.settings.USER_ID_CLAIM]
        except KeyError:
            raise AuthenticationFailed("Token contained no recognizable user identification", "token_not_valid")
        user = await self.store.find_user(store_user_id(user_id))
        if user is None:
            raise AuthenticationFailed("User not found", "user_not_found")
        if self.settings.CHECK_USER_IS_ACTIVE and not user.get("is_active", False):
            raise AuthenticationFailed("User is inactive", "user_inactive")
        if self.password_changed(user, token):
            raise AuthenticationFailed(PASSWORD_CHANGED, "password_changed")
        if self.is_revoked(user, token):
            raise TokenError(BLACKLISTED)
        return user

    # The token endpoints

    async def refresh(self, raw: str) -> dict:
        """A new access token (and, with rotation, a new refresh token) from a refresh token."""
        token = await self.codec.read(raw, RefreshToken)
        await self.check_blacklist(token)
        user = await self.store.find_user(store_user_id(token.get(self.codec.user_id_claim)))
        if not self.user_rule(user, self.settings):
            raise AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN)
        if self.password_changed(user, token):
            raise AuthenticationFailed(PASSWORD_CHANGED, "password_changed")
        if self.is_revoked(user, token):
            raise TokenError(BLACKLISTED)
        data = {"access": self.codec.encode(self.codec.access_for(token))}
        if self.settings.ROTATE_REFRESH_TOKENS:
            if self.settings.BLACKLIST_AFTER_ROTATION and self.blacklist_enabled:
                # The atomic insert decides between concurrent refreshes of one token: one wins.
                won = await self.store.blacklist(token[self.codec.jti_claim], user["id"], expires_at(token), "rotated")
                if not won:
                    if self.reuse_detection:
                        await self.revoke_family(token)
                    raise TokenError(BLACKLISTED)
            rotated = self.codec.stamp(RefreshToken(dict(token.payload)))
            await self._outstand(rotated)
            data["refresh"] = self.codec.encode(rotated)
        return data

    async def refresh_sliding(self, raw: str) -> str:
        """The sliding token with a new exp, while its refresh_exp has not passed.

        Unlike SimpleJWT, an already expired `exp` may be slid: that is what refresh_exp is for.
        """
        token = await self.codec.read(raw, SlidingToken, verify_exp=False)
        self.codec.check_exp(token, self.codec.refresh_exp_claim)
        await self.check_blacklist(token)
        user = await self.store.find_user(store_user_id(token.get(self.codec.user_id_claim)))
        if not self.user_rule(user, self.settings) or self.is_revoked(user, token):
            raise AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN)
        return self.codec.encode(self.codec.stamp(token, self.clock(), new_id=False))

    async def verify(self, raw: str) -> None:
        """Signature, expiry and jti of a token of any type, and the blacklist when it is on."""
        token = await self.codec.read(raw, UntypedToken)
        await self.check_blacklist(token)

    async def blacklist(self, raw: str) -> None:
        token = await self.codec.read(raw, RefreshToken)
        await self.check_blacklist(token)
        user_id = store_user_id(token.get(self.codec.user_id_claim))
        if not await self.store.blacklist(token[self.codec.jti_claim], user_id, expires_at(token), "blacklisted"):
            raise TokenError(BLACKLISTED)

    async def revoke_user_tokens(self, user_id: Any) -> None:
        """Invalidate every token issued to the user before now, and tell live sessions."""
        await self.store.revoke_user_tokens(user_id, self.clock())
        self._notify_revoked(user_id)

    async def deactivate_user(self, user_id: Any) -> None:
        """Set the user inactive; their live sessions end as after a revoke-all."""
        await self.store.update_user(user_id, is_active=False)
        self._notify_revoked(user_id)

    def _notify_revoked(self, user_id: Any) -> None:
        for listener in list(self.revocation_listeners):
            listener(user_id)
