"""Malformed requests get DRF's JSON errors with precise statuses, never an HTML page."""

import pytest

gen_test = pytest.mark.gen_test


@gen_test
async def test_malformed_json_is_400_parse_error(api):
    response = await api.post("/api/register/", body=b'{"username": ', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json["detail"].startswith("JSON parse error - ")
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("body, kind", [(b"[1, 2]", "list"), (b'"text"', "str"), (b"3", "int"), (b"null", "null")])
@gen_test
async def test_json_that_is_not_an_object_is_400(api, body, kind):
    response = await api.post("/api/register/", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json == {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}


@gen_test
async def test_unsupported_content_type_is_415(api):
    response = await api.post("/api/register/", body=b"username=x", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}


@gen_test
async def test_oversized_body_is_413(api, store):
    body = b'{"username": "big", "password": "' + b"x" * (64 * 1024) + b'"}'
    response = await api.post("/api/register/", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert "detail" in response.json
    assert await store.users.count_documents({}) == 0


@gen_test
async def test_unknown_path_is_404_json(api):
    for method in ("GET", "POST", "DELETE"):
        response = await api.request(method, "/no/such/path/")
        assert response.status == 404
        assert response.json == {"detail": "Not found."}


@gen_test
async def test_wrong_method_is_405_with_allow_header(api):
    response = await api.get("/api/register/")
    assert response.status == 405
    assert response.json == {"detail": 'Method "GET" not allowed.'}
    assert response.headers["Allow"] == "POST, OPTIONS"
    response = await api.request("DELETE", "/api/health/")
    assert response.json == {"detail": 'Method "DELETE" not allowed.'}
    assert response.headers["Allow"] == "GET, OPTIONS"


@gen_test
async def test_unexpected_failure_is_500_json_without_traceback(api, store, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "find_user_by_username", broken)
    response = await api.post("/api/register/", {"username": "bob", "password": "long enough"})
    assert response.status == 500
    assert response.json == {"detail": "A server error occurred."}


@pytest.mark.gen_test
async def test_multipart_without_a_boundary_is_400_not_500(api):
    response = await api.post("/api/register/", body=b"x", headers={"Content-Type": "multipart/form-data"})
    assert response.status == 400 and response.json["detail"].startswith("Multipart form parse error")
