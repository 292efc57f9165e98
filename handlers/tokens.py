"""SimpleJWT's token endpoints, same paths, fields, statuses and error JSON; plus revoke-all."""

import tornado.web

from auth.errors import AuthFailure
from auth.users import USERNAME_MAX_LENGTH
from edge.auth_failures import refusal
from edge.limits import login_account
from handlers.authenticated import AuthenticatedHandler, auth_failure
from handlers.base import APIHandler, FieldErrors, read_fields
from store.database import username_key
from store.documents import User

# What an answer that is neither a success nor a refused token means, for the metrics.
OUTCOMES_BY_STATUS = {400: "bad_request", 413: "bad_request", 415: "bad_request", 429: "throttled",
                      499: "client_gone", 503: "unavailable"}


class TokenEndpoint(APIHandler):
    """A POST that reads `fields`, calls `answer`, and turns token failures into SimpleJWT's 401s.

    Each answer is counted (`arena_token_operations_total`) under `endpoint` with its outcome: `success`
    (`issued`, `refreshed`…), the refusal's reason (`token_expired`, `token_revoked`, `no_active_account`…) or the kind of error.
    """

    fields: tuple = ()
    endpoint = ""
    success = ""
    refused = "error"

    async def answer(self, *values: str) -> dict:
        raise NotImplementedError

    async def post(self):
        values = read_fields(self.body_data(), *self.fields)
        try:
            body = await self.answer(*values)
        except AuthFailure as exc:
            self.refused = self.refused_reason(exc)
            raise auth_failure(self.arena.settings.jwt, exc) from None
        self.write_json(body)

    def refused_reason(self, failure: AuthFailure) -> str:
        return refusal(failure).close_reason

    def outcome(self) -> str:
        status = self.get_status()
        if status < 300:
            return self.success
        return self.refused if status == 401 else OUTCOMES_BY_STATUS.get(status, "error")

    def on_finish(self) -> None:
        super().on_finish()
        if self.request.method == "POST":
            self.arena.metrics.token_operations.inc(self.endpoint, self.outcome())


class LoginEndpoint(TokenEndpoint):
    """A token endpoint that takes a username and password. Each guess is counted (edge.limits) before
    any password is hashed, and its hashing counts against the account's share as well as the address's."""

    fields = ("username", "password")

    async def login(self, username: str, password: str) -> User:
        if len(username) > USERNAME_MAX_LENGTH:  # Django's limit: longer names are no user's
            raise FieldErrors({"username": [f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters."]})
        account, address = login_account(username_key(username)), self.client_address()
        await self.arena.throttles.logins.admit(account, address)
        self.hashing_for(account)
        user = await self.arena.tokens.login(username, password)
        await self.arena.throttles.logins.succeeded(account, address)
        return user

    def refused_reason(self, failure: AuthFailure) -> str:
        return "invalid_credentials"  # SimpleJWT's one answer for a wrong password, an unknown or inactive user

    def on_finish(self) -> None:
        super().on_finish()
        if self.request.method == "POST":
            self.arena.metrics.logins.inc("success" if self.get_status() < 300 else self.outcome())


class TokenObtainPairHandler(LoginEndpoint):
    """`POST /api/token/` `{"username", "password"}` → `{"refresh", "access"}`."""

    endpoint = "obtain"
    success = "issued"

    async def answer(self, username: str, password: str) -> dict:
        return await self.arena.tokens.tokens_for_user(await self.login(username, password))


class TokenRefreshHandler(TokenEndpoint):
    """`POST /api/token/refresh/` `{"refresh"}` → `{"access"}` (+ `"refresh"` when rotating)."""

    endpoint = "refresh"
    success = "refreshed"
    fields = ("refresh",)

    async def answer(self, refresh: str) -> dict:
        return await self.arena.tokens.refresh(refresh)


class TokenVerifyHandler(TokenEndpoint):
    """`POST /api/token/verify/` `{"token"}` → `{}` for any valid, not blacklisted token."""

    endpoint = "verify"
    success = "verified"
    fields = ("token",)

    async def answer(self, token: str) -> dict:
        await self.arena.tokens.verify(token)
        return {}


class TokenBlacklistHandler(TokenEndpoint):
    """`POST /api/token/blacklist/` `{"refresh"}` → `{}`: logs this refresh token out."""

    endpoint = "blacklist"
    success = "blacklisted"
    fields = ("refresh",)

    async def answer(self, refresh: str) -> dict:
        await self.arena.tokens.blacklist(refresh)
        return {}


class TokenObtainSlidingHandler(LoginEndpoint):
    """`POST /api/token/sliding/` `{"username", "password"}` → `{"token"}`."""

    endpoint = "sliding"
    success = "issued"

    async def answer(self, username: str, password: str) -> dict:
        return {"token": await self.arena.tokens.sliding_token_for_user(await self.login(username, password))}


class TokenRefreshSlidingHandler(TokenEndpoint):
    """`POST /api/token/sliding/refresh/` `{"token"}` → `{"token"}` with a later exp."""

    endpoint = "sliding_refresh"
    success = "refreshed"
    fields = ("token",)

    async def answer(self, token: str) -> dict:
        return {"token": await self.arena.tokens.refresh_sliding(token)}


class RevokeAllHandler(AuthenticatedHandler):
    """`POST /api/token/revoke-all/` (Bearer) → `{}`: every token of the caller stops working."""

    @tornado.web.authenticated
    async def post(self):
        await self.arena.tokens.revoke_user_tokens(self.current_user.id)
        self.write_json({})
