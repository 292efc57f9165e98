"""Verification keys from a JWKS URL, picked by `kid`, cached, and rotated in without a restart."""

import asyncio
import json

import jwt
import orjson
import pytest
import tornado.web
from cryptography.hazmat.primitives.asymmetric import rsa

from server import make_app
from tests.test_token_algorithms import RSA, claims_now
from tests.ws import GameClient

gen_test = pytest.mark.gen_test


class JWKS:
    """A key set that a test changes while the server runs, served by the test app."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        self.failing = False

    def document(self) -> bytes:
        self.fetches += 1
        if self.failing:
            raise tornado.web.HTTPError(500)
        keys = []
        for kid, private in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return orjson.dumps({"keys": keys})

    def sign(self, kid: str, **extra) -> str:
        return jwt.encode(claims_now(**extra), self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def jwks():
    return JWKS()


@pytest.fixture
def jwt_overrides(http_port):
    private, _ = RSA
    return {"ALGORITHM": "RS256", "SIGNING_KEY": private, "VERIFYING_KEY": "",
            "JWK_URL": f"http://127.0.0.1:{http_port}/test/jwks.json", "JWKS_REFETCH_INTERVAL": 0}


@pytest.fixture
def app(arena, jwks):
    class JWKSHandler(tornado.web.RequestHandler):
        def get(self):
            self.finish(jwks.document())

    application = make_app(arena)
    application.wildcard_router.add_rules([(r"/test/jwks.json", JWKSHandler)])
    return application


@gen_test
async def test_jwks_keys_are_picked_by_kid_and_rotated_in(api, jwks):
    await api.register()
    jwks.keys["key-1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (await api.get("/api/me/", token=jwks.sign("key-1"))).status == 200
    assert (await api.get("/api/me/", token=jwks.sign("key-1"))).status == 200
    assert jwks.fetches == 1  # cached
    jwks.keys["key-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (await api.get("/api/me/", token=jwks.sign("key-2"))).status == 200  # unknown kid: refetched
    forged = jwt.encode(claims_now(), jwks.keys["key-2"], algorithm="RS256", headers={"kid": "key-1"})
    assert (await api.get("/api/me/", token=forged)).status == 401
    unknown = jwt.encode(claims_now(), rsa.generate_private_key(public_exponent=65537, key_size=2048),
                         algorithm="RS256", headers={"kid": "key-9"})
    response = await api.post("/api/token/verify/", {"token": unknown})
    assert response.status == 401 and response.json["detail"] == "Token is invalid"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.settings(jwt={"JWKS_CACHE_SECONDS": 0})
@gen_test
async def test_a_key_removed_from_the_jwks_takes_its_verified_tokens_along(api, jwks, base_url):
    await api.register()
    jwks.keys["old"] = new_key()
    long_lived = jwks.sign("old", exp=int(claims_now()["exp"]) + 10 * 365 * 86400)
    assert (await api.get("/api/me/", token=long_lived)).status == 200
    del jwks.keys["old"]
    jwks.keys["new"] = new_key()
    assert (await api.get("/api/me/", token=long_lived)).status == 401
    client = await GameClient.connect(base_url, long_lived)
    assert await client.wait_closed() == (4001, "token_not_valid")


@gen_test
async def test_concurrent_lookups_of_an_unknown_kid_share_one_fetch(api, jwks):
    await api.register()
    jwks.keys["key-1"] = new_key()
    responses = await asyncio.gather(*(api.get("/api/me/", token=jwks.sign("key-1")) for _ in range(20)))
    assert [response.status for response in responses] == [200] * 20
    assert jwks.fetches == 1


@gen_test
async def test_a_failing_jwks_endpoint_is_retried_with_backoff(api, jwks):
    await api.register()
    jwks.failing = True
    unknown = jwt.encode(claims_now(), new_key(), algorithm="RS256", headers={"kid": "key-9"})
    for _ in range(20):
        response = await api.post("/api/token/verify/", {"token": unknown})
        assert (response.status, response.json["detail"]) == (401, "Token is invalid")
    assert jwks.fetches == 1
