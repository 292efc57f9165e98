"""SimpleJWT's token endpoints, same paths, fields, statuses and error JSON; plus revoke-all."""

import tornado.web

from auth.errors import AuthFailure
from handlers.authenticated import AuthenticatedHandler, auth_failure
from handlers.base import APIHandler, read_fields
from store.database import username_key


class TokenEndpoint(APIHandler):
    """A POST that reads `fields`, calls `answer`, and turns token failures into SimpleJWT's 401s."""

    fields: tuple = ()

    async def answer(self, *values: str) -> dict:
        raise NotImplementedError

    async def post(self):
        values = read_fields(self.body_data(), *self.fields)
        try:
            body = await self.answer(*values)
        except AuthFailure as exc:
            raise auth_failure(self.arena.settings.jwt, exc) from None
        self.write_json(body)


class LoginEndpoint(TokenEndpoint):
    """A token endpoint that takes a username and password; failed guesses are throttled (429)
    per username and per client address, before any password is hashed."""

    fields = ("username", "password")

    async def login(self, username: str, password: str) -> dict:
        throttles = self.arena.throttles
        keys = (f"username:{username_key(username)}", f"address:{self.client_address()}")
        throttles.login_username.check(keys[0])
        throttles.login_address.check(keys[1])
        try:
            user = await self.arena.tokens.login(username, password)
        except AuthFailure:
            throttles.login_username.count(keys[0])
            throttles.login_address.count(keys[1])
            raise
        throttles.login_username.reset(keys[0])
        return user


class TokenObtainPairHandler(LoginEndpoint):
    """`POST /api/token/` `{"username", "password"}` → `{"refresh", "access"}`."""

    async def answer(self, username: str, password: str) -> dict:
        return await self.arena.tokens.tokens_for_user(await self.login(username, password))


class TokenRefreshHandler(TokenEndpoint):
    """`POST /api/token/refresh/` `{"refresh"}` → `{"access"}` (+ `"refresh"` when rotating)."""

    fields = ("refresh",)

    async def answer(self, refresh: str) -> dict:
        return await self.arena.tokens.refresh(refresh)


class TokenVerifyHandler(TokenEndpoint):
    """`POST /api/token/verify/` `{"token"}` → `{}` for any valid, not blacklisted token."""

    fields = ("token",)

    async def answer(self, token: str) -> dict:
        await self.arena.tokens.verify(token)
        return {}


class TokenBlacklistHandler(TokenEndpoint):
    """`POST /api/token/blacklist/` `{"refresh"}` → `{}`: logs this refresh token out."""

    fields = ("refresh",)

    async def answer(self, refresh: str) -> dict:
        await self.arena.tokens.blacklist(refresh)
        return {}


class TokenObtainSlidingHandler(LoginEndpoint):
    """`POST /api/token/sliding/` `{"username", "password"}` → `{"token"}`."""

    async def answer(self, username: str, password: str) -> dict:
        return {"token": await self.arena.tokens.sliding_token_for_user(await self.login(username, password))}


class TokenRefreshSlidingHandler(TokenEndpoint):
    """`POST /api/token/sliding/refresh/` `{"token"}` → `{"token"}` with a later exp."""

    fields = ("token",)

    async def answer(self, token: str) -> dict:
        return {"token": await self.arena.tokens.refresh_sliding(token)}


class RevokeAllHandler(AuthenticatedHandler):
    """`POST /api/token/revoke-all/` (Bearer) → `{}`: every token of the caller stops working."""

    @tornado.web.authenticated
    async def post(self):
        await self.arena.tokens.revoke_user_tokens(self.current_user["id"])
        self.write_json({})
