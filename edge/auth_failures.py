"""Where an authentication failure meets the client: one classification for HTTP and the socket.

The same `Refusal` gives the REST API SimpleJWT's 401 body and the game socket its close code and
reason (or the `error` frame's code, when a `refresh_token` frame is refused).
"""

from dataclasses import dataclass

from auth.errors import AuthFailure, BlacklistedToken, ExpiredTokenError, InvalidToken, TokenError
from game import protocol


@dataclass(frozen=True)
class Refusal:
    body: dict  # SimpleJWT's 401 JSON
    close_code: int
    close_reason: str


def _close_reason(failure: AuthFailure) -> str:
    if isinstance(failure, ExpiredTokenError):
        return "token_expired"
    if isinstance(failure, BlacklistedToken):
        return "token_revoked"
    if isinstance(failure, TokenError):
        return "token_not_valid"
    return failure.code or "token_not_valid"


def refusal(failure: AuthFailure) -> Refusal:
    body = {"detail": failure.detail}
    if failure.code:
        body["code"] = failure.code
    if isinstance(failure, InvalidToken):
        body["messages"] = failure.messages
    return Refusal(body, protocol.CLOSE_UNAUTHORIZED, _close_reason(failure))
