"""The one family of authentication failures; each carries SimpleJWT's wording for the client.

Raised anywhere in auth/; only the edge (edge.auth_failures) turns one into a 401 body or a
socket close, and it decides by type, never by message text.
"""

from typing import Optional

NO_ACTIVE_ACCOUNT = "No active account found with the given credentials"
NO_ACTIVE_ACCOUNT_FOR_TOKEN = "No active account found for the given token."
BLACKLISTED = "Token is blacklisted"
PASSWORD_CHANGED = "The user's password has been changed."


class AuthFailure(Exception):
    """A request's credentials were refused: `detail` in SimpleJWT's words, `code` when its body has one."""

    def __init__(self, detail: str, code: Optional[str] = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code


class TokenError(AuthFailure):
    """A token failed a check (SimpleJWT's TokenError): its body always says `token_not_valid`."""

    def __init__(self, detail: str = "Token is invalid"):
        super().__init__(detail, "token_not_valid")


class ExpiredTokenError(TokenError):
    """The token's `exp` (or sliding `refresh_exp`) has passed."""


class BlacklistedToken(TokenError):
    """The token, its family or every token of its user was revoked."""

    def __init__(self):
        super().__init__(BLACKLISTED)


class AuthenticationFailed(AuthFailure):
    """The token is sound but its user may not authenticate, or the request carries no usable token."""


class PasswordChanged(AuthenticationFailed):
    """With CHECK_REVOKE_TOKEN: the token was issued before the user's password changed."""

    def __init__(self):
        super().__init__(PASSWORD_CHANGED, "password_changed")


class InvalidToken(AuthenticationFailed):
    """No configured token class accepted the token; `messages` says why for each."""

    def __init__(self, messages: list[dict]):
        super().__init__("Given token not valid for any token type", "token_not_valid")
        self.messages = messages
