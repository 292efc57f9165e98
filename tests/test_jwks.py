"""Verification keys from a JWKS URL, picked by `kid`, cached, and rotated in without a restart."""

import json

import jwt
import orjson
import pytest
import tornado.web
from cryptography.hazmat.primitives.asymmetric import rsa

from server import make_app
from tests.test_token_algorithms import RSA, claims_now

gen_test = pytest.mark.gen_test


class JWKS:
    """A key set that a test changes while the server runs, served by the test app."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def document(self) -> bytes:
        self.fetches += 1
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
