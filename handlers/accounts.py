"""Account endpoints and health checks: registration, health for people, liveness and readiness for machines."""

from store.database import StoreUnavailable
from auth.users import InvalidFields, register_user
from handlers.base import APIHandler, FieldErrors, read_fields


class RegisterHandler(APIHandler):
    """`POST /api/register/` `{"username", "password"}` → 201 `{"id", "username"}`."""

    async def post(self):
        await self.arena.throttles.register(self.client_address())
        self.hashing_for()
        username, password = read_fields(self.body_data(), "username", "password")
        try:
            user = await register_user(self.arena.store, self.arena.hasher, username, password)
        except InvalidFields as exc:
            raise FieldErrors(exc.errors) from None
        self.write_json({"id": user.id, "username": user.username}, status=201)


class HealthHandler(APIHandler):
    """`GET /api/health/`: 200 when MongoDB answers in time, else 503 "degraded" with the store "unavailable"."""

    async def get(self):
        store = self.arena.store
        try:
            await store.ping()
        except StoreUnavailable:
            self.write_json({"status": "degraded", "store": "unavailable", "driver": store.driver}, status=503)
        else:
            self.write_json({"status": "ok", "store": store.kind, "driver": store.driver})


class LiveHandler(APIHandler):
    """`GET /api/health/live`: 200 while the process answers at all (for an orchestrator's liveness probe)."""

    def get(self):
        self.write_json({"status": "ok"})


class ReadyHandler(APIHandler):
    """`GET /api/health/ready`: 200 when MongoDB (and Redis, in cluster mode) answers and the server is not
    stopping; 503 `draining` from the first moment of a SIGTERM, so a load balancer sends no new players
    before sockets close."""

    async def get(self):
        answer = await self.arena.readiness()
        self.write_json(answer, status=200 if answer["status"] == "ready" else 503)
