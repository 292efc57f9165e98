"""Settings come from the environment, with SimpleJWT's names and defaults, and bad ones stop the start."""

import dataclasses
from datetime import timedelta

import pytest

from arena import Arena
from handlers import routes
from handlers.tokens import TokenObtainPairHandler, TokenRefreshHandler
from settings import SettingsError, load_settings
from store.database import Store
from store.embedded import EmbeddedClient

SIMPLE_JWT_KEYS = {
    "ACCESS_TOKEN_LIFETIME", "REFRESH_TOKEN_LIFETIME", "ROTATE_REFRESH_TOKENS", "BLACKLIST_AFTER_ROTATION",
    "UPDATE_LAST_LOGIN", "ALGORITHM", "SIGNING_KEY", "VERIFYING_KEY", "AUDIENCE", "ISSUER", "JSON_ENCODER",
    "JWK_URL", "LEEWAY", "AUTH_HEADER_TYPES", "AUTH_HEADER_NAME", "USER_ID_FIELD", "USER_ID_CLAIM",
    "USER_AUTHENTICATION_RULE", "AUTH_TOKEN_CLASSES", "TOKEN_TYPE_CLAIM", "TOKEN_USER_CLASS", "JTI_CLAIM",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM", "SLIDING_TOKEN_LIFETIME", "SLIDING_TOKEN_REFRESH_LIFETIME",
    "TOKEN_OBTAIN_SERIALIZER", "TOKEN_REFRESH_SERIALIZER", "TOKEN_VERIFY_SERIALIZER",
    "TOKEN_BLACKLIST_SERIALIZER", "SLIDING_TOKEN_OBTAIN_SERIALIZER", "SLIDING_TOKEN_REFRESH_SERIALIZER",
    "CHECK_USER_IS_ACTIVE", "CHECK_REVOKE_TOKEN", "REVOKE_TOKEN_CLAIM",
}


def test_every_simplejwt_key_with_its_default():
    jwt = load_settings({"SECRET_KEY": "k" * 40}).jwt
    assert SIMPLE_JWT_KEYS <= {f.name for f in dataclasses.fields(jwt)}
    assert jwt.ACCESS_TOKEN_LIFETIME == timedelta(minutes=5)
    assert jwt.REFRESH_TOKEN_LIFETIME == timedelta(days=1)
    assert jwt.SLIDING_TOKEN_LIFETIME == timedelta(minutes=5)
    assert jwt.SLIDING_TOKEN_REFRESH_LIFETIME == timedelta(days=1)
    assert (jwt.ROTATE_REFRESH_TOKENS, jwt.BLACKLIST_AFTER_ROTATION, jwt.UPDATE_LAST_LOGIN) == (False, False, False)
    assert jwt.ALGORITHM == "HS256" and jwt.LEEWAY == 0
    assert jwt.AUTH_HEADER_TYPES == ("Bearer",) and jwt.AUTH_HEADER_NAME == "Authorization"
    assert (jwt.USER_ID_FIELD, jwt.USER_ID_CLAIM, jwt.TOKEN_TYPE_CLAIM, jwt.JTI_CLAIM) == (
        "id", "user_id", "token_type", "jti")
    assert jwt.SLIDING_TOKEN_REFRESH_EXP_CLAIM == "refresh_exp"
    assert jwt.CHECK_USER_IS_ACTIVE is True and jwt.CHECK_REVOKE_TOKEN is False
    assert jwt.REVOKE_TOKEN_CLAIM == "hash_password"
    assert jwt.SIGNING_KEY == "k" * 40


def test_environment_overrides_each_kind_of_setting():
    settings = load_settings({
        "SECRET_KEY": "k" * 40, "JWT_ROTATE_REFRESH_TOKENS": "true", "JWT_ACCESS_TOKEN_LIFETIME": "60",
        "JWT_AUTH_HEADER_TYPES": "Bearer, JWT", "ARENA_PORT": "9000", "ARENA_DB": "other",
        "MONGO_URL": "mongodb://u:p@db", "GAME_TICK_RATE": "30", "GAME_ROOM_CAPACITY": "4",
    })
    assert settings.jwt.ROTATE_REFRESH_TOKENS is True
    assert settings.jwt.ACCESS_TOKEN_LIFETIME == timedelta(seconds=60)
    assert settings.jwt.AUTH_HEADER_TYPES == ("Bearer", "JWT")
    assert (settings.PORT, settings.DB, settings.MONGO_URL) == (9000, "other", "mongodb://u:p@db")
    assert (settings.game.TICK_RATE, settings.game.ROOM_CAPACITY) == (30.0, 4)


def test_missing_secret_key_generates_a_random_one_per_run():
    first, second = load_settings({}), load_settings({})
    assert first.SECRET_KEY_GENERATED and first.jwt.SIGNING_KEY != second.jwt.SIGNING_KEY
    assert len(first.jwt.SIGNING_KEY) >= 32


@pytest.mark.parametrize("env, named", [
    ({"JWT_ALGORITHM": "HS999"}, "JWT_ALGORITHM"),
    ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM"),
    ({"JWT_ACCESS_TOKEN_LIFETIME": "0"}, "JWT_ACCESS_TOKEN_LIFETIME"),
    ({"JWT_REFRESH_TOKEN_LIFETIME": "-5"}, "JWT_REFRESH_TOKEN_LIFETIME"),
    ({"JWT_ALGORITHM": "RS256"}, "JWT_SIGNING_KEY"),
    ({"JWT_ALGORITHM": "ES256", "JWT_SIGNING_KEY": "private"}, "JWT_VERIFYING_KEY"),
    ({"JWT_ROTATE_REFRESH_TOKENS": "maybe"}, "JWT_ROTATE_REFRESH_TOKENS"),
    ({"ARENA_PORT": "eighty"}, "ARENA_PORT"),
    ({"GAME_TICK_RATE": "0"}, "GAME_TICK_RATE"),
    ({"JWT_USER_ID_FIELD": "email"}, "JWT_USER_ID_FIELD"),
    ({"ARENA_PASSWORD_BUSY_SHARE": "0"}, "ARENA_PASSWORD_BUSY_SHARE"),
    ({"ARENA_EVENT_LOOP": "trio"}, "ARENA_EVENT_LOOP"),
])
def test_bad_settings_are_refused_naming_the_setting(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)



@pytest.mark.parametrize("raw, seconds", [("0.5", 0.5), ("2", 2.0)])
def test_leeway_takes_fractional_seconds_like_simplejwt(raw, seconds):
    assert load_settings({"SECRET_KEY": "k" * 40, "JWT_LEEWAY": raw}).jwt.LEEWAY == seconds


def test_leeway_may_be_given_as_a_timedelta_like_simplejwt():
    assert load_settings({"SECRET_KEY": "k" * 40}, jwt={"LEEWAY": timedelta(seconds=3)}).jwt.LEEWAY == 3.0


def test_validation_returns_new_settings_and_never_mutates_the_defaults():
    settings = load_settings({"SECRET_KEY": "k" * 40}, jwt={"ACCESS_TOKEN_LIFETIME": 60})
    assert settings.jwt.ACCESS_TOKEN_LIFETIME == timedelta(seconds=60)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.jwt.ALGORITHM = "HS512"


CLUSTER = {"ARENA_REDIS_URL": "redis://127.0.0.1:6379/0", "MONGO_URL": "mongodb://db:27017", "SECRET_KEY": "k" * 40}


@pytest.mark.parametrize("missing, message", [
    ("MONGO_URL", "ARENA_REDIS_URL: cluster mode needs MONGO_URL"),
    ("SECRET_KEY", "ARENA_REDIS_URL: cluster mode needs SECRET_KEY"),
])
def test_cluster_mode_refuses_a_per_process_store_or_key(missing, message):
    env = {name: value for name, value in CLUSTER.items() if name != missing}
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_cluster_mode_names_each_process_by_default():
    settings = load_settings({**CLUSTER, "ARENA_PORT": "8002"})
    assert (settings.INSTANCE, settings.PUBLIC_URL) == ("127.0.0.1:8002", "ws://127.0.0.1:8002/wss/multiplayer/")
    assert load_settings({}).INSTANCE == ""  # single process: no cluster names


class AddedClaimsHandler(TokenObtainPairHandler):
    """What a Django user's custom TOKEN_OBTAIN_SERIALIZER becomes here: a subclass of the default."""


@pytest.mark.parametrize("setting, value", [
    ("TOKEN_OBTAIN_SERIALIZER", "handlers.tokens.NoSuchHandler"),
    ("TOKEN_OBTAIN_SERIALIZER", "handlers.tokens.TokenRefreshHandler"),  # serves another path
    ("USER_AUTHENTICATION_RULE", "auth.service.no_such_rule"),
    ("AUTH_TOKEN_CLASSES", ("auth.tokens.AccessToken", "no.such.Token")),
])
def test_code_named_by_import_path_is_resolved_once_at_start_or_refused(setting, value):
    settings = load_settings({"SECRET_KEY": "k" * 40}, jwt={setting: value}, PASSWORD_TIME_COST=1,
                             PASSWORD_MEMORY_COST=1024)
    with pytest.raises(SettingsError, match=f"^JWT_{setting}: "):
        arena = Arena(settings, Store(EmbeddedClient(), "arena", "embedded", "embedded", 1.0))
        routes.paths(arena)


def test_a_serializer_setting_naming_a_subclass_serves_its_path():
    settings = load_settings({"SECRET_KEY": "k" * 40},
                             jwt={"TOKEN_OBTAIN_SERIALIZER": "tests.test_settings.AddedClaimsHandler"})
    arena = Arena(settings, Store(EmbeddedClient(), "arena", "embedded", "embedded", 1.0))
    table = routes.paths(arena)
    assert table["/api/token/"] is AddedClaimsHandler and table["/api/token/refresh/"] is TokenRefreshHandler


@pytest.mark.parametrize("env, named", [({"SECRET_KEY": "x"}, "SECRET_KEY"),
                                        ({"SECRET_KEY": "k" * 31}, "SECRET_KEY"),
                                        ({"SECRET_KEY": "k" * 40, "JWT_SIGNING_KEY": "short"}, "JWT_SIGNING_KEY")])
def test_a_signing_key_shorter_than_32_bytes_is_refused(env, named):
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(f"{named}: must be at least 32 bytes")
    assert "secrets.token_urlsafe" in str(refused.value)
    assert load_settings({"SECRET_KEY": "k" * 32}).jwt.SIGNING_KEY == "k" * 32
