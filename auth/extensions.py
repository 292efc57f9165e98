"""SimpleJWT's settings that name code, imported once at start-up and handed to the services that use them.

A Django user sets USER_AUTHENTICATION_RULE, TOKEN_CLAIMS_HOOK, AUTH_TOKEN_CLASSES, TOKEN_USER_CLASS and
JSON_ENCODER as import paths, as in SIMPLE_JWT (the *_SERIALIZER settings name the token endpoints'
handler classes: handlers.routes resolves those). Each is imported here, once; a path that does not
import stops the server at start with one line naming the setting.
"""

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from settings import JWTSettings, SettingsError


def import_named(setting: str, value: Any) -> Any:
    """`value` itself, or the object its import path ("package.module.attribute") names."""
    if not isinstance(value, str):
        return value
    module_name, _, attribute = value.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SettingsError(f"{setting}: cannot import {value!r}: {exc}") from None


@dataclass(frozen=True)
class AuthExtensions:
    user_rule: Callable[[Any, JWTSettings], bool]  # f(user, settings): may this user authenticate?
    claims_hook: Optional[Callable[[Any], Mapping[str, Any]]]  # f(user): extra claims for every token
    token_classes: tuple[type, ...]  # what Bearer authentication accepts
    token_user_class: type  # the user made from claims in stateless mode
    json_encoder: Optional[type]  # for custom claim types


def resolve(settings: JWTSettings) -> AuthExtensions:
    return AuthExtensions(
        user_rule=import_named("JWT_USER_AUTHENTICATION_RULE", settings.USER_AUTHENTICATION_RULE),
        claims_hook=import_named("JWT_TOKEN_CLAIMS_HOOK", settings.TOKEN_CLAIMS_HOOK),
        token_classes=tuple(import_named("JWT_AUTH_TOKEN_CLASSES", path) for path in settings.AUTH_TOKEN_CLASSES),
        token_user_class=import_named("JWT_TOKEN_USER_CLASS", settings.TOKEN_USER_CLASS),
        json_encoder=import_named("JWT_JSON_ENCODER", settings.JSON_ENCODER),
    )
