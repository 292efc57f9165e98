"""Bearer-token authentication for any handler, the Tornado way.

`prepare()` resolves the Authorization header into `self.current_user`; `@tornado.web.authenticated`
then answers SimpleJWT's 401 JSON instead of redirecting to a login page.
"""

import tornado.web

from auth.errors import AuthenticationFailed, AuthFailure
from edge.auth_failures import refusal
from handlers.base import APIError, APIHandler, unauthorized
from settings import JWTSettings
from store.documents import User

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


def auth_failure(settings: JWTSettings, failure: AuthFailure) -> APIError:
    """The 401 SimpleJWT answers for a failed token or user check, with its exact body."""
    return unauthorized(settings, refusal(failure).body)


class AuthenticatedHandler(APIHandler):
    """An API handler whose `current_user` comes from a Bearer token (None when absent or invalid)."""

    auth_error: APIError

    async def prepare(self):
        super().prepare()
        jwt = self.arena.settings.jwt
        self.auth_error = unauthorized(jwt, NOT_PROVIDED)
        try:
            result = await self.arena.authenticator.authenticate(self.request.headers.get(jwt.AUTH_HEADER_NAME))
        except AuthFailure as exc:
            self.auth_error = auth_failure(jwt, exc)
        else:
            if result is not None:
                self.current_user, self.auth_token = result

    async def stored_user(self) -> User:
        """The caller's stored user; in stateless mode `current_user` holds claims only, so it is read."""
        user = self.current_user
        if isinstance(user, User):
            return user
        stored = await self.arena.store.find_user(user.id)
        if stored is None:
            raise auth_failure(self.arena.settings.jwt, AuthenticationFailed("User not found", "user_not_found"))
        return stored

    def get_login_url(self) -> str:
        """`@authenticated` on GET asks for a login URL to redirect to: answer the 401 instead."""
        raise self.auth_error

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        if status_code == 403 and type(exc) is tornado.web.HTTPError and self.current_user is None:
            # `@authenticated` on a non-GET method raises a bare 403: it means "not authenticated".
            kwargs["exc_info"] = (type(self.auth_error), self.auth_error, None)
            self.clear()
            self.set_status(401)
            status_code = 401
        super().write_error(status_code, **kwargs)
