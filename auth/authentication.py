"""Request authentication: an `Authorization: Bearer <token>` header becomes a user (SimpleJWT's
JWTAuthentication, with its exact errors), statefully from the store or statelessly from claims."""

from typing import Any, Optional

from auth.errors import AuthenticationFailed, InvalidToken, TokenError
from auth.extensions import AuthExtensions
from auth.service import TokenService
from auth.tokens import AccessToken, Token
from settings import JWTSettings
from store.documents import User


class Authenticator:
    """Resolves an Authorization header value to `(user, token)`, or None when there is none."""

    def __init__(self, settings: JWTSettings, tokens: TokenService, extensions: AuthExtensions):
        self.settings = settings
        self.tokens = tokens
        self.header_types = tuple(settings.AUTH_HEADER_TYPES)
        self.token_classes = extensions.token_classes
        self.stateless = settings.STATELESS_AUTHENTICATION
        self.token_user_class = extensions.token_user_class

    def raw_token(self, header: Optional[str]) -> Optional[str]:
        if header is None:
            return None
        parts = header.split()
        if not parts or parts[0] not in self.header_types:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Authorization header must contain two space-delimited values",
                                       "bad_authorization_header")
        return parts[1]

    async def validated_token(self, raw: str) -> Token:
        messages = []
        for token_class in self.token_classes:
            try:
                token = await self.tokens.codec.read(raw, token_class)
                if token_class.blacklistable:
                    await self.tokens.check_blacklist(token)
                return token
            except TokenError as exc:
                messages.append({"token_class": token_class.__name__, "token_type": token_class.token_type,
                                 "message": exc.detail})
        raise InvalidToken(messages)

    async def authenticate(self, header: Optional[str]) -> Optional[tuple[Any, Token]]:
        raw = self.raw_token(header)
        if raw is None:
            return None
        token = await self.validated_token(raw)
        try:
            if self.stateless:
                await self.tokens.check_revoked_statelessly(token)
                return self.token_user_class(token, self.tokens.codec.user_id(token)), token
            return await self.tokens.user_for_token(token), token
        except TokenError as exc:
            raise InvalidToken([{"token_class": type(token).__name__, "token_type": token.token_type,
                                 "message": exc.detail}]) from None

    async def authenticate_access_token(self, raw: str) -> tuple[User, Token]:
        """An access token (never refresh or sliding) and its user, with every check of the REST API."""
        token = await self.tokens.codec.read(raw, AccessToken)
        return await self.tokens.user_for_token(token), token
