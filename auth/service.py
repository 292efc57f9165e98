"""What the token endpoints do: issue, refresh (with race-free rotation and reuse detection), verify,
blacklist and revoke — and the user checks made wherever a token's user is loaded."""

import hashlib
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional

from auth.errors import (
    NO_ACTIVE_ACCOUNT, NO_ACTIVE_ACCOUNT_FOR_TOKEN, AuthenticationFailed, AuthFailure, BlacklistedToken,
    PasswordChanged,
)
from auth.extensions import AuthExtensions
from auth.passwords import PasswordHasher
from auth.revocations import Revocation, RevocationCache
from auth.tokens import (
    FAMILY_CLAIM, GENERATION_CLAIM, RefreshToken, SlidingToken, Token, TokenCodec, UntypedToken,
)
from auth.users import change_password, check_credentials, record_login
from settings import JWTSettings
from store.database import Store, TokenStanding
from store.documents import User, UserId


def default_user_authentication_rule(user: Optional[User], settings: JWTSettings) -> bool:
    """SimpleJWT's rule: the user exists and, when CHECK_USER_IS_ACTIVE, is active."""
    return user is not None and (not settings.CHECK_USER_IS_ACTIVE or user.is_active)


def password_digest(password_hash: str) -> str:
    """The REVOKE_TOKEN_CLAIM value, as SimpleJWT computes it (`get_md5_hash_password`): a fingerprint
    of the stored hash (not of the password), so a password change voids tokens."""
    return hashlib.md5(password_hash.encode()).hexdigest()


def password_digests(password_hash: str) -> tuple[str, str]:
    """The digests a valid token may carry: SimpleJWT's, and the SHA-256 earlier versions of this server wrote."""
    return password_digest(password_hash), hashlib.sha256(password_hash.encode()).hexdigest()


def issued_generation(token: Token) -> int:
    """The user's token generation the token was issued in; 0 without the claim, -1 (always revoked) if bad."""
    generation = token.get(GENERATION_CLAIM, 0)
    return generation if isinstance(generation, int) and not isinstance(generation, bool) else -1


def expires_at(token: Token) -> datetime:
    return datetime.fromtimestamp(token["exp"], timezone.utc)


class TokenService:
    """Issues and checks tokens for users in the store; notifies listeners when a user is revoked."""

    def __init__(self, settings: JWTSettings, store: Store, hasher: PasswordHasher, codec: TokenCodec,
                 extensions: AuthExtensions, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.store = store
        self.hasher = hasher
        self.codec = codec
        self.clock = clock
        self.user_rule = extensions.user_rule
        self.claims_hook = extensions.claims_hook
        self.blacklist_enabled = settings.BLACKLIST_ENABLED
        reuse = settings.REUSE_DETECTION
        if reuse is None:
            reuse = settings.ROTATE_REFRESH_TOKENS and settings.BLACKLIST_AFTER_ROTATION
        self.reuse_detection = bool(reuse) and self.blacklist_enabled
        # Rotation that retires the old token: each login's family record names its current token.
        self.tracks_rotation = (settings.ROTATE_REFRESH_TOKENS and settings.BLACKLIST_AFTER_ROTATION
                                and self.blacklist_enabled)
        # Told (user id, family) when tokens are revoked; family None means every token of the user.
        self.revocation_listeners: list[Callable[[Revocation], None]] = []
        self.revocations = RevocationCache(store)

    # Issuing

    def _user_claims(self, user: User, extra_claims: Mapping[str, Any]) -> dict:
        claims = dict(self.claims_hook(user)) if self.claims_hook else {}
        claims[GENERATION_CLAIM] = user.token_generation
        if self.settings.CHECK_REVOKE_TOKEN:
            claims[self.settings.REVOKE_TOKEN_CLAIM] = password_digest(user.password)
        claims.update(extra_claims)
        return claims

    async def _outstand(self, token: Token) -> None:
        await self.store.add_outstanding_token({
            "_id": token[self.codec.jti_claim],
            "user_id": self.codec.user_id(token),
            "token_type": token.token_type,
            "family": token.get(FAMILY_CLAIM),
            "created_at": datetime.fromtimestamp(token["iat"], timezone.utc),
            "expires_at": expires_at(token),
        })

    async def tokens_for_user(self, user: User, **extra_claims: Any) -> dict:
        """`{"refresh", "access"}` for `user`, the refresh token recorded as outstanding.

        The one call that issues a pair: the login endpoint uses it, and so can e.g. an OAuth login.
        Each call starts a new token family for reuse detection.
        """
        family = uuid.uuid4().hex
        claims = {**self._user_claims(user, extra_claims), FAMILY_CLAIM: family}
        refresh = self.codec.new(RefreshToken, user.id, claims)
        await self._outstand(refresh)
        if self.tracks_rotation:
            await self.store.start_family(family, user.id, refresh[self.codec.jti_claim], expires_at(refresh))
        return {"refresh": self.codec.encode(refresh), "access": self.codec.encode(self.codec.access_for(refresh))}

    async def sliding_token_for_user(self, user: User, **extra_claims: Any) -> str:
        token = self.codec.new(SlidingToken, user.id, self._user_claims(user, extra_claims))
        await self._outstand(token)
        return self.codec.encode(token)

    async def login(self, username: str, password: str) -> User:
        """The user these credentials belong to, if active (as Django's authenticate) and admitted."""
        user = await check_credentials(self.store, self.hasher, username, password)
        refused = AuthenticationFailed(NO_ACTIVE_ACCOUNT)
        if user is not None and not user.is_active:
            raise refused
        self.admit(user, None, not_found=refused, inactive=refused)
        if self.settings.UPDATE_LAST_LOGIN:
            user = await record_login(self.store, user)
        return user

    # Checking

    async def check_blacklist(self, token: Token) -> None:
        """Raise "Token is blacklisted" for a blacklisted jti, a revoked family, or a refresh token that
        rotation has retired (no longer its family's current one).

        Presenting a retired token means it was used twice: with reuse detection on, its whole family
        is revoked (OAuth 2.0 Security BCP, refresh token rotation).
        """
        if self.blacklist_enabled:
            await self._refuse_blacklisted(token, await self._standing(token, jti=True, user=False))

    async def _standing(self, token: Token, *, jti: bool, user: bool, whole_user: bool = True) -> TokenStanding:
        """What the store holds against the token, in one query: its blacklist entry (with `jti`), its
        family's record, and (with `user`) its user, or only the user's generation (not `whole_user`)."""
        jti_value = token.get(self.codec.jti_claim) if jti and self.blacklist_enabled else None
        family = token.get(FAMILY_CLAIM) if self.blacklist_enabled else None
        user_id = self.codec.user_id(token) if user else None
        return await self.store.token_standing(jti_value, family, user_id, whole_user)

    async def _refuse_blacklisted(self, token: Token, standing: TokenStanding) -> None:
        reason, record = standing.blacklist_reason, standing.family
        is_refresh = token.get(self.codec.type_claim) == RefreshToken.token_type
        jti = token.get(self.codec.jti_claim)
        if is_refresh and record is not None and not record["revoked"] and record.get("current") not in (None, jti):
            reason = "rotated"
        if reason == "rotated" and self.reuse_detection:
            await self.revoke_family(token)
        if reason or (record is not None and record["revoked"]):
            raise BlacklistedToken()

    async def revoke_family(self, token: Token) -> None:
        """Revoke the token's family, and tell the listeners (live sockets of that login close)."""
        family = token.get(FAMILY_CLAIM)
        if family:
            user_id = self.codec.user_id(token)
            expiry = datetime.fromtimestamp(self.clock() + self.settings.REFRESH_TOKEN_LIFETIME.total_seconds(),
                                            timezone.utc)
            await self.store.revoke_family(family, user_id, expiry)
            self._notify_revoked(Revocation(user_id, family))

    @staticmethod
    def is_revoked(generation: int, token: Token) -> bool:
        """Issued before the user's last revoke-all ("log out everywhere", a password change), the user
        now being of token `generation`.

        Compared by generation, not by time: a refresh that read the user before a revoke-all issues
        tokens of the old generation, so nothing issued before or during a revoke-all outlives it.
        A token without the claim (issued elsewhere, e.g. by SimpleJWT) is of generation 0.
        """
        return issued_generation(token) < generation

    def password_changed(self, user: User, token: Token) -> bool:
        return (self.settings.CHECK_REVOKE_TOKEN
                and token.get(self.settings.REVOKE_TOKEN_CLAIM) not in password_digests(user.password))

    def admit(self, user: Optional[User], token: Optional[Token], *,
              not_found: AuthFailure, inactive: AuthFailure) -> User:
        """The one user-validity policy, for every path that loads a user (login, refresh, sliding
        refresh, Bearer, socket): the user exists, passes USER_AUTHENTICATION_RULE, and the token
        predates neither a password change nor a revoke-all. Each path words the first two its own way.
        """
        if user is None:
            raise not_found
        if not self.user_rule(user, self.settings):
            raise inactive
        if token is not None:
            if self.password_changed(user, token):
                raise PasswordChanged()
            if self.is_revoked(user.token_generation, token):
                raise BlacklistedToken()
        return user

    async def check_revoked_statelessly(self, token: Token) -> None:
        """Stateless authentication's revocation checks: family and revoke-all, from the RevocationCache."""
        family = token.get(FAMILY_CLAIM)
        if self.blacklist_enabled and family and await self.revocations.is_family_revoked(family):
            raise BlacklistedToken()
        user_id = self.codec.user_id(token)
        if user_id is not None and self.is_revoked(await self.revocations.generation(user_id), token):
            raise BlacklistedToken()

    async def user_for_token(self, token: Token) -> User:
        """The token's user, checked as SimpleJWT's JWTAuthentication.get_user does, plus revocation: the
        token's family (its login) must not have been logged out or reused, so access tokens die with it."""
        if self.codec.user_id_claim not in token:
            raise AuthenticationFailed("Token contained no recognizable user identification", "token_not_valid")
        standing = await self._standing(token, jti=False, user=True)
        if standing.family is not None and standing.family["revoked"]:
            raise BlacklistedToken()
        return self.admit(standing.user, token, not_found=AuthenticationFailed("User not found", "user_not_found"),
                          inactive=AuthenticationFailed("User is inactive", "user_inactive"))

    async def _refreshing_user(self, token: Token) -> User:
        """The user a refresh or sliding token is refreshed for, after the blacklist checks, in one query;
        SimpleJWT's refresh serializers' wording."""
        standing = await self._standing(token, jti=True, user=True)
        if self.blacklist_enabled:
            await self._refuse_blacklisted(token, standing)
        refused = AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN)
        return self.admit(standing.user, token, not_found=refused, inactive=refused)

    # The token endpoints

    async def refresh(self, raw: str) -> dict:
        """A new access token (and, with rotation, a new refresh token) from a refresh token."""
        token = await self.codec.read(raw, RefreshToken)
        user = await self._refreshing_user(token)
        data = {"access": self.codec.encode(self.codec.access_for(token))}
        if self.settings.ROTATE_REFRESH_TOKENS:
            rotated = self.codec.stamp(RefreshToken(dict(token.payload)))
            if self.tracks_rotation and not await self._retire(token, rotated, user.id):
                if self.reuse_detection:
                    await self.revoke_family(token)
                raise BlacklistedToken()
            await self._outstand(rotated)
            data["refresh"] = self.codec.encode(rotated)
        return data

    async def _retire(self, token: Token, successor: Token, user_id: UserId) -> bool:
        """Retire a rotated refresh token atomically: of concurrent refreshes of one token, one wins.

        A login's family record names its current token, so a family keeps one record however often
        it rotates; a token from elsewhere (no family, e.g. issued by SimpleJWT) is blacklisted instead.
        """
        jti, family = token[self.codec.jti_claim], token.get(FAMILY_CLAIM)
        if family:
            if await self.store.rotate_family(family, jti, successor[self.codec.jti_claim], expires_at(successor)):
                return True
            if await self.store.family(family) is not None:
                return False  # the family's current token is another one: this one was already retired
        return await self.store.blacklist(jti, user_id, expires_at(token), "rotated")

    async def refresh_sliding(self, raw: str) -> str:
        """The sliding token with a new exp, while its refresh_exp has not passed.

        Unlike SimpleJWT, an already expired `exp` may be slid: that is what refresh_exp is for.
        """
        token = await self.codec.read(raw, SlidingToken, verify_exp=False)
        self.codec.check_exp(token, self.codec.refresh_exp_claim)
        await self._refreshing_user(token)
        return self.codec.encode(self.codec.stamp(token, self.clock(), new_id=False))

    async def verify(self, raw: str) -> None:
        """Signature, expiry and jti of a token of any type, the blacklist when it is on, and revoke-all."""
        token = await self.codec.read(raw, UntypedToken)
        standing = await self._standing(token, jti=True, user=True, whole_user=False)
        if self.blacklist_enabled:
            await self._refuse_blacklisted(token, standing)
        if standing.generation is not None and self.is_revoked(standing.generation, token):
            raise BlacklistedToken()

    async def blacklist(self, raw: str) -> None:
        token = await self.codec.read(raw, RefreshToken)
        await self.check_blacklist(token)
        user_id = self.codec.user_id(token)
        if not await self.store.blacklist(token[self.codec.jti_claim], user_id, expires_at(token), "blacklisted"):
            raise BlacklistedToken()
        await self.revoke_family(token)  # logout ends the login: its access tokens and sockets too

    async def revoke_user_tokens(self, user_id: UserId) -> None:
        """Invalidate every token issued to the user so far (one atomic update), and tell live sessions."""
        await self.store.next_token_generation(user_id)
        self._notify_revoked(Revocation(user_id))

    async def change_password(self, user: User, old_password: str, new_password: str,
                              keep: Optional[str] = None) -> dict:
        """Change the password: every other session ends (tokens refused, sockets closed); the caller
        gets a fresh pair to carry on with, and the socket of its login (`keep`) stays open for it."""
        user = await change_password(self.store, self.hasher, user, old_password, new_password)
        self._notify_revoked(Revocation(user.id, keep=keep))
        return await self.tokens_for_user(user)

    async def deactivate_user(self, user_id: UserId) -> None:
        """Set the user inactive and revoke every token in the same update: their live sessions end, and
        stateless checks refuse their tokens at once (the generation moved), not at expiry."""
        await self.store.deactivate_user(user_id)
        self._notify_revoked(Revocation(user_id))

    def _notify_revoked(self, revocation: Revocation) -> None:
        self.note_revocation(revocation)
        for listener in list(self.revocation_listeners):
            listener(revocation)

    def note_revocation(self, revocation: Revocation) -> None:
        """A revocation made here or, in cluster mode, by another process: stateless checks see it."""
        if revocation.family is None:
            self.revocations.user_revoked(revocation.user_id)
        else:
            self.revocations.family_revoked(revocation.family)
