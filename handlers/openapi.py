"""`GET /api/schema/`: the REST API as an OpenAPI 3.1 document (a test checks it against the routes)."""

from handlers.base import APIHandler

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
          "required": ["detail"]}
FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
TOKEN_PAIR = {"type": "object", "properties": {"refresh": {"type": "string"}, "access": {"type": "string"}},
              "required": ["refresh", "access"]}
USER = {"type": "object", "required": ["id", "username", "score", "rating", "rating_deviation", "date_joined",
                                       "last_login"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "score": {"type": "integer"},
    "rating": {"type": "integer"}, "rating_deviation": {"type": "integer"},
    "date_joined": {"type": "string", "format": "date-time"},
    "last_login": {"type": ["string", "null"], "format": "date-time"}}}
BEARER = [{"bearer": []}]


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: dict) -> dict:
    return {"description": description, **_json(schema)}


def _errors(*statuses: int) -> dict:
    """The error answers an endpoint may give, each DRF-shaped JSON."""
    described = {400: ("Invalid fields, or a body that is no JSON object", {"anyOf": [FIELD_ERRORS, DETAIL]}), 401: ("Not authenticated", DETAIL),
                 404: ("No such thing", DETAIL), 413: ("Body too large", DETAIL), 415: ("Unsupported media type", DETAIL),
                 429: ("Throttled", DETAIL), 503: ("Temporarily unavailable", DETAIL)}
    return {str(status): _answer(*described[status]) for status in statuses}


def _strings(*names: str) -> dict:
    return {"type": "object", "required": list(names), "properties": {name: {"type": "string"} for name in names}}


def _post(summary: str, fields: tuple, answer: dict, *errors: int, secured: bool = False, created: bool = False) -> dict:
    operation = {"summary": summary, "responses": {"201" if created else "200": _answer("Done", answer),
                                                   **_errors(400, 413, 415, 503, *errors)}}
    if fields:
        operation["requestBody"] = {"required": True, **_json(_strings(*fields))}
    if secured:
        operation["security"] = BEARER
    return {"post": operation}


def _get(summary: str, answer: dict, *errors: int, query: tuple = (), choices: tuple = (), path: tuple = (),
         secured: bool = False) -> dict:
    operation = {"summary": summary, "responses": {"200": _answer("Done", answer), **_errors(503, *errors)},
                 "parameters": [{"name": name, "in": "query", "required": False,
                                 "schema": {"type": "integer", "minimum": low, "maximum": high}}
                                for name, low, high in query] + [
                     {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": list(values)}}
                     for name, values in choices] + [
                     {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": pattern}}
                     for name, pattern in path]}
    if secured:
        operation["security"] = BEARER
    return {"get": operation}


def _results(item: dict) -> dict:
    return {"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": item}}}


PATHS = {
    "/api/register/": _post("Create an account", ("username", "password"), _strings("username"), 429, created=True),
    "/api/health/": _get("Whether MongoDB answers in time", {"type": "object"}),
    "/api/health/live": _get("Whether the process answers", {"type": "object"}),
    "/api/health/ready": _get("Whether to send new players here (MongoDB answers, not stopping)", {"type": "object"}),
    "/api/stats/": _get("Rooms, players, tick durations", {"type": "object"}, 400, query=(("ticks", 1, 3600),)),
    "/api/schema/": _get("This document", {"type": "object"}),
    "/api/token/": _post("Log in: a refresh and an access token", ("username", "password"), TOKEN_PAIR, 401, 429),
    "/api/token/refresh/": _post("A new access token (and refresh token when rotating)", ("refresh",),
                                 {"type": "object", "required": ["access"]}, 401),
    "/api/token/verify/": _post("Whether a token is valid", ("token",), {"type": "object"}, 401),
    "/api/token/blacklist/": _post("Log out: blacklist a refresh token", ("refresh",), {"type": "object"}, 401),
    "/api/token/sliding/": _post("Log in: a sliding token", ("username", "password"), _strings("token"), 401, 429),
    "/api/token/sliding/refresh/": _post("A sliding token with a later exp", ("token",), _strings("token"), 401),
    "/api/token/revoke-all/": _post("Log out everywhere", (), {"type": "object"}, 401, secured=True),
    "/api/me/": _get("Your account", USER, 401, secured=True),
    "/api/me/game/": _get("The game you are still alive in, and the seconds left to rejoin it", {
        "type": "object", "required": ["game"], "properties": {"game": {
            "type": ["object", "null"], "required": ["room", "rejoin_within"], "properties": {
                "room": {"type": "string"}, "rejoin_within": {"type": ["number", "null"]}}}}}, 401, secured=True),
    "/api/me/games/": _get("Your recent games", _results({"type": "object"}), 400, 401, query=(("limit", 1, 100),),
                           secured=True),
    "/api/password/change/": _post("Change your password; every other session ends",
                                   ("old_password", "new_password"), TOKEN_PAIR, 401, secured=True),
    "/api/leaderboard/": _get("The best players, by score (the default) or by skill rating (`order=rating`)",
                              _results(USER), 400, query=(("limit", 1, 100),), choices=(("order", ("score", "rating")),)),
    "/api/games/live/": _get("The games running now, newest first: who plays, since when, how many watch",
                             _results({"type": "object", "required": ["room", "players", "started_at", "spectators"]}),
                             400, query=(("limit", 1, 100),)),
    "/api/games/{id}/replay/": _get("A finished game's replay: its recording, result and frames to draw", {
        "type": "object", "required": ["id", "seed", "tick_rate", "settings", "players", "inputs", "result"]},
        401, 404, secured=True, path=(("id", "^[0-9a-f]{1,64}$"),)),
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Tornado Arena", "version": "1", "description":
             "SimpleJWT-compatible tokens and the game's REST API; the WebSocket is in docs/protocol.md."},
    "paths": PATHS,
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
}


class SchemaHandler(APIHandler):
    """`GET /api/schema/` → the OpenAPI 3.1 document of the REST API."""

    def get(self):
        self.write_json(DOCUMENT)
