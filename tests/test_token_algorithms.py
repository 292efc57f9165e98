"""Every algorithm family with generated keys, aud/iss, leeway, key rotation, and the
classic forgeries (`alg: none`, HS256 signed with the public key) refused."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.conftest import TEST_ENV

gen_test = pytest.mark.gen_test


def pem_pair(private_key) -> tuple[str, str]:
    private = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


RSA = pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
KEYS = {
    "RS": RSA, "PS": RSA,
    "ES256": pem_pair(ec.generate_private_key(ec.SECP256R1())),
    "ES384": pem_pair(ec.generate_private_key(ec.SECP384R1())),
    "ES512": pem_pair(ec.generate_private_key(ec.SECP521R1())),
    "EdDSA": pem_pair(ed25519.Ed25519PrivateKey.generate()),
}


def keys_for(algorithm: str) -> dict:
    if algorithm.startswith("HS"):
        return {"ALGORITHM": algorithm}
    private, public = KEYS.get(algorithm) or KEYS[algorithm[:2]]
    return {"ALGORITHM": algorithm, "SIGNING_KEY": private, "VERIFYING_KEY": public}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_now(**extra) -> dict:
    now = time.time()
    return {"token_type": "access", "user_id": "1", "jti": "cross", "iat": int(now), "exp": int(now + 60), **extra}


ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
              "PS256", "PS384", "PS512", "EdDSA"]


@pytest.mark.parametrize("jwt_overrides", [keys_for(name) for name in ALGORITHMS], ids=ALGORITHMS)
@gen_test
async def test_every_algorithm_issues_and_verifies(api, jwt_overrides):
    tokens = await api.login()
    assert jwt.get_unverified_header(tokens["access"])["alg"] == jwt_overrides["ALGORITHM"]
    assert (await api.get("/api/me/", token=tokens["access"])).status == 200
    assert (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).status == 200
    # A token made by PyJWT alone from the same claims and key (e.g. by a SimpleJWT deployment) works.
    key = jwt_overrides.get("SIGNING_KEY", TEST_ENV["SECRET_KEY"])
    foreign = jwt.encode(claims_now(), key, algorithm=jwt_overrides["ALGORITHM"])
    assert (await api.get("/api/me/", token=foreign)).status == 200


@gen_test
async def test_alg_none_is_refused(api):
    await api.register()
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    forged = f"{header}.{b64(json.dumps(claims_now()).encode())}."
    response = await api.post("/api/token/verify/", {"token": forged})
    assert (response.status, response.json) == (401, {"detail": "Token is invalid", "code": "token_not_valid"})
    assert (await api.get("/api/me/", token=forged)).status == 401


@gen_test
async def test_another_hmac_algorithm_is_invalid_in_simplejwts_words(api):
    await api.register()
    forged = jwt.encode(claims_now(), TEST_ENV["SECRET_KEY"], algorithm="HS512")
    response = await api.post("/api/token/verify/", {"token": forged})
    assert (response.status, response.json) == (401, {"detail": "Token is invalid", "code": "token_not_valid"})


@pytest.mark.parametrize("jwt_overrides", [keys_for("RS256")])
@gen_test
async def test_hs256_signed_with_the_public_key_is_refused(api, jwt_overrides):
    await api.register()
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims_now()).encode())}"
    signature = hmac.new(jwt_overrides["VERIFYING_KEY"].encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(signature)}"
    response = await api.post("/api/token/verify/", {"token": forged})
    assert response.status == 401
    assert (await api.get("/api/me/", token=forged)).status == 401


@pytest.mark.parametrize("jwt_overrides", [{"AUDIENCE": "arena-clients", "ISSUER": "https://arena.example"}])
@gen_test
async def test_audience_and_issuer_are_written_and_checked(api, jwt_overrides):
    tokens = await api.login()
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert payload["aud"] == "arena-clients" and payload["iss"] == "https://arena.example"
    assert (await api.get("/api/me/", token=tokens["access"])).status == 200
    for wrong in ({"aud": "someone-else", "iss": "https://arena.example"},
                  {"aud": "arena-clients", "iss": "https://evil.example"},
                  {"iss": "https://arena.example"}):
        token = jwt.encode(claims_now(**wrong), TEST_ENV["SECRET_KEY"], algorithm="HS256")
        response = await api.post("/api/token/verify/", {"token": token})
        assert response.status == 401 and response.json == {"detail": "Token is invalid", "code": "token_not_valid"}


@pytest.mark.parametrize("jwt_overrides", [{"LEEWAY": 30}])
@gen_test
async def test_leeway_accepts_recently_expired_tokens(api, jwt_overrides):
    await api.register()
    recent = jwt.encode(claims_now(exp=int(time.time()) - 10), TEST_ENV["SECRET_KEY"], algorithm="HS256")
    assert (await api.post("/api/token/verify/", {"token": recent})).status == 200
    old = jwt.encode(claims_now(exp=int(time.time()) - 60), TEST_ENV["SECRET_KEY"], algorithm="HS256")
    assert (await api.post("/api/token/verify/", {"token": old})).status == 401


@pytest.mark.parametrize("jwt_overrides", [{"SIGNING_KEY": "the-new-signing-key-" * 3,
                                            "EXTRA_VERIFYING_KEYS": ("the-old-signing-key-" * 3,)}])
@gen_test
async def test_old_signing_key_still_verifies_during_rotation(api, jwt_overrides):
    await api.register()
    old = jwt.encode(claims_now(), "the-old-signing-key-" * 3, algorithm="HS256")
    assert (await api.get("/api/me/", token=old)).status == 200
    stranger = jwt.encode(claims_now(), "some-other-key-entirely-" * 3, algorithm="HS256")
    response = await api.post("/api/token/verify/", {"token": stranger})
    assert response.status == 401 and response.json["detail"] == "Token is invalid"
    tokens = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    new = tokens.json["access"]
    assert jwt.decode(new, "the-new-signing-key-" * 3, algorithms=["HS256"])["token_type"] == "access"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tokens_are_written_byte_for_byte_as_pyjwt_writes_them(algorithm):
    """The backend signs with its prepared key but writes what `jwt.encode` writes (the signature bytes
    too, where the algorithm is deterministic)."""
    from auth.backend import TokenBackend
    from settings import load_settings

    overrides = {**keys_for(algorithm), "SIGNING_KEY_ID": "key-1", "AUDIENCE": "game", "ISSUER": "arena"}
    settings = load_settings(TEST_ENV, jwt=overrides).jwt
    backend = TokenBackend(settings)
    payload = claims_now(username="Zoë 🎱", nested={"b": [1, 2.5, None], "a": True})
    ours = backend.encode(payload)
    theirs = jwt.encode({**payload, "aud": "game", "iss": "arena"}, settings.SIGNING_KEY, algorithm=algorithm,
                        headers={"kid": "key-1"})
    assert ours.rsplit(".", 1)[0] == theirs.rsplit(".", 1)[0]
    if algorithm.startswith(("HS", "RS")) or algorithm == "EdDSA":
        assert ours == theirs
    verifying = settings.SIGNING_KEY if algorithm.startswith("HS") else settings.VERIFYING_KEY
    assert jwt.decode(ours, verifying, algorithms=[algorithm], audience="game", issuer="arena") == \
        {**payload, "aud": "game", "iss": "arena"}
