"""What a browser front end on another origin sees: CORS for allowed origins only, and safe headers."""

import pytest
from tornado.httpclient import HTTPClientError

from tests.ws import GameClient

gen_test = pytest.mark.gen_test
FRONT_END = "https://game.example"
ALLOWED = pytest.mark.settings(ALLOWED_ORIGINS=(FRONT_END, "https://*.example.org:*"))


def preflight(api, path: str, origin: str):
    return api.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})


@ALLOWED
@gen_test
async def test_an_allowed_front_end_can_log_in_across_origins(api):
    response = await preflight(api, "/api/token/", FRONT_END)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    await api.register()
    login = await api.post("/api/token/", {"username": "alice", "password": "correct horse"},
                           headers={"Origin": FRONT_END})
    assert login.status == 200 and login.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "Access-Control-Allow-Credentials" not in login.headers
    failed = await api.get("/api/me/", headers={"Origin": "https://a.example.org:8443"})
    assert failed.status == 401 and failed.headers["Access-Control-Allow-Origin"] == "https://a.example.org:8443"


@ALLOWED
@pytest.mark.parametrize("origin", ["https://evil.example", "http://game.example", "https://example.org", "null"])
@gen_test
async def test_other_origins_get_no_cors_headers(api, origin):
    response = await preflight(api, "/api/token/", origin)
    assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers
    response = await api.post("/api/token/", {"username": "x", "password": "y"}, headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("origin, allowed", [
    ("http://[::1]:8888", True), ("http://1:8888", False), ("http://localhost:3000", True),
    ("https://a.example.org:1", True), ("https://example.org", False), ("ftp://game.example", False),
])
@pytest.mark.settings(ALLOWED_ORIGINS=(FRONT_END, "https://*.example.org:*", "http://localhost:*", "http://[::1]:*"))
@gen_test
async def test_the_socket_parses_origins_instead_of_globbing_them(api, base_url, origin, allowed):
    tokens = await api.login()
    if allowed:
        client = await GameClient.connect(base_url, tokens["access"], headers={"Origin": origin})
        assert (await client.wait_for("welcome"))["user"]["username"] == "alice"
    else:
        with pytest.raises(HTTPClientError) as refused:
            await GameClient.connect(base_url, tokens["access"], headers={"Origin": origin})
        assert refused.value.code == 403


@gen_test
async def test_token_answers_are_never_cached_and_nothing_is_sniffed_or_framed(api):
    await api.register()
    for response in (await api.post("/api/token/", {"username": "alice", "password": "correct horse"}),
                     await api.post("/api/token/", {"username": "alice", "password": "wrong guess"}),
                     await api.get("/api/nowhere/")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


@gen_test
async def test_the_page_allows_no_outside_origin_and_static_errors_are_json(api, http_client, base_url):
    page = await http_client.fetch(base_url + "/")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "http" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
    missing = await api.get("/static/js/nowhere.js")
    assert (missing.status, missing.json) == (404, {"detail": "Not found."})
    assert missing.headers["X-Content-Type-Options"] == "nosniff"
