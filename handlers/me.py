"""The caller's own account."""

import tornado.web

from auth.users import public_user
from handlers.authenticated import AuthenticatedHandler


class MeHandler(AuthenticatedHandler):
    """`GET /api/me/` (Bearer) → `{"id", "username", "score", "date_joined", "last_login"}`."""

    @tornado.web.authenticated
    async def get(self):
        user = self.current_user
        if not isinstance(user, dict):  # stateless authentication: claims only, load for the profile
            user = await self.arena.store.find_user(user.id)
        self.write_json(public_user(user))
