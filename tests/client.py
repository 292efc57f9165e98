"""A small HTTP client for tests: JSON or form bodies in, status, JSON and headers out."""

from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlencode

import jwt
import orjson


@dataclass
class Response:
    status: int
    json: Any
    headers: Any


class ApiClient:
    def __init__(self, http_client, base_url: str):
        self.http_client = http_client
        self.base_url = base_url

    async def request(self, method: str, path: str, *, json: Any = None, form: Optional[dict] = None,
                      body: Optional[bytes] = None, headers: Optional[dict] = None,
                      token: Optional[str] = None) -> Response:
        headers = dict(headers or {})
        if json is not None:
            body = orjson.dumps(json)
            headers.setdefault("Content-Type", "application/json")
        elif form is not None:
            body = urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        response = await self.http_client.fetch(
            self.base_url + path, method=method, body=body, headers=headers, raise_error=False,
            allow_nonstandard_methods=True)
        payload = orjson.loads(response.body) if response.body else None
        return Response(response.code, payload, response.headers)

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def register(self, username: str = "alice", password: str = "correct horse") -> Response:
        response = await self.post("/api/register/", {"username": username, "password": password})
        assert response.status == 201, response.json
        return response

    async def login(self, username: str = "alice", password: str = "correct horse") -> dict:
        """Register `username` and obtain a token pair for it."""
        await self.register(username, password)
        return await self.tokens(username, password)

    async def tokens(self, username: str = "alice", password: str = "correct horse") -> dict:
        """A token pair for an existing user."""
        response = await self.post("/api/token/", {"username": username, "password": password})
        assert response.status == 200, response.json
        return response.json


def claims(token: str) -> dict:
    """A token's payload, read without verification (what any client can see)."""
    return jwt.decode(token, options={"verify_signature": False})
