"""The caller's own account: their profile and changing their password."""

import tornado.web

from auth.tokens import FAMILY_CLAIM
from auth.users import InvalidFields, public_user
from edge.limits import user_account
from handlers.authenticated import AuthenticatedHandler
from handlers.base import FieldErrors, read_fields

PASSWORD_SAVED = "New password has been saved."


class MeHandler(AuthenticatedHandler):
    """`GET /api/me/` (Bearer) → `{"id", "username", "score", "date_joined", "last_login"}`."""

    @tornado.web.authenticated
    async def get(self):
        self.write_json(public_user(await self.stored_user()))


class MyGameHandler(AuthenticatedHandler):
    """`GET /api/me/game/` (Bearer) → `{"game": null}` or `{"game": {"room", "rejoin_within"}}`: the game
    the caller is still alive in, and the seconds left to rejoin it (null while connected to it)."""

    @tornado.web.authenticated
    async def get(self):
        self.write_json({"game": self.arena.game.running_game(self.current_user.id)})


class PasswordChangeHandler(AuthenticatedHandler):
    """`POST /api/password/change/` (Bearer) `{"old_password", "new_password"}` → `{"detail", "refresh", "access"}`.

    Every other session of the user ends (its tokens are refused, its socket closes with 4001); the
    answer carries a fresh token pair for this one.
    """

    @tornado.web.authenticated
    async def post(self):
        old_password, new_password = read_fields(self.body_data(), "old_password", "new_password")
        account, address = user_account(self.current_user.id), self.client_address()
        await self.arena.throttles.password_changes.admit(account, address)  # a guess of the old password
        self.hashing_for(account)
        try:
            tokens = await self.arena.tokens.change_password(await self.stored_user(), old_password, new_password,
                                                             keep=self.auth_token.get(FAMILY_CLAIM))
        except InvalidFields as exc:
            raise FieldErrors(exc.errors) from None
        await self.arena.throttles.password_changes.succeeded(account, address)
        self.write_json({"detail": PASSWORD_SAVED, **tokens})
