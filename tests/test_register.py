"""A user registers over HTTP and sees DRF-shaped answers; the stored document holds a hash."""

import pytest

gen_test = pytest.mark.gen_test


@gen_test
async def test_register_creates_user_with_hashed_password(api, store):
    response = await api.post("/api/register/", {"username": "Alice", "password": "correct horse"})
    assert response.status == 201
    assert response.json == {"id": response.json["id"], "username": "Alice"}
    stored = await store.users.find_one({"id": response.json["id"]})
    assert stored["password"].startswith("$argon2id$")
    assert "correct horse" not in stored["password"]
    assert stored["score"] == 1500 and stored["is_active"] is True and stored["last_login"] is None
    assert stored["date_joined"] is not None


@gen_test
async def test_user_ids_are_distinct(api):
    first = await api.register("first")
    second = await api.register("second")
    assert first.json["id"] != second.json["id"]


@gen_test
async def test_username_in_another_case_is_taken(api, store):
    await api.register("Alice")
    response = await api.post("/api/register/", {"username": "aLICE", "password": "another pass"})
    assert response.status == 400
    assert response.json == {"username": ["A user with that username already exists."]}
    assert await store.users.count_documents({}) == 1


@gen_test
async def test_form_encoded_and_multipart_bodies_are_accepted(api, http_client, base_url):
    form = await api.post("/api/register/", form={"username": "former", "password": "form password"})
    assert form.status == 201 and form.json["username"] == "former"
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nmulti\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nmulti password\r\n"
            f"--{boundary}--\r\n").encode()
    multipart = await api.post("/api/register/", body=body,
                               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert multipart.status == 201 and multipart.json["username"] == "multi"


@pytest.mark.parametrize("body, errors", [
    ({"password": "long enough"}, {"username": ["This field is required."]}),
    ({"username": "bob"}, {"password": ["This field is required."]}),
    ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
    ({"username": "", "password": "long enough"}, {"username": ["This field may not be blank."]}),
    ({"username": None, "password": "long enough"}, {"username": ["This field may not be null."]}),
    ({"username": "bob", "password": ["x"]}, {"password": ["Not a valid string."]}),
    ({"username": True, "password": "long enough"}, {"username": ["Not a valid string."]}),
    ({"username": "b" * 151, "password": "long enough"},
     {"username": ["Ensure this field has no more than 150 characters."]}),
    ({"username": "bob smith", "password": "long enough"},
     {"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}),
    ({"username": "bob", "password": "short"},
     {"password": ["This password is too short. It must contain at least 8 characters."]}),
    ({"username": "bobbobbob", "password": "BOBBOBBOB"}, {"password": ["The password is too similar to the username."]}),
    ({"username": "bob", "password": "p" * 4097}, {"password": ["Ensure this field has no more than 4096 bytes."]}),
])
@gen_test
async def test_invalid_fields_are_400_with_exact_messages(api, store, body, errors):
    response = await api.post("/api/register/", body)
    assert response.status == 400
    assert response.json == errors
    assert await store.users.count_documents({}) == 0


@gen_test
async def test_numbers_are_taken_as_strings(api):
    response = await api.post("/api/register/", {"username": 12345, "password": 123456789})
    assert response.status == 400 and "This password is entirely numeric." in response.json["password"]
    response = await api.post("/api/register/", {"username": 12345, "password": 3.14159265358})
    assert response.status == 201 and response.json["username"] == "12345"


@pytest.mark.parametrize("password, errors", [
    ("password", ["This password is too common."]),
    ("12345678", ["This password is too common.", "This password is entirely numeric."]),
    ("31415926535", ["This password is entirely numeric."]),
    ("Qwerty123", ["This password is too common."]),
    ("alice2026", ["The password is too similar to the username."]),
    ("a1", ["This password is too short. It must contain at least 8 characters."]),
])
@gen_test
async def test_passwords_follow_djangos_default_validators(api, store, password, errors):
    response = await api.post("/api/register/", {"username": "alice", "password": password})
    assert (response.status, response.json) == (400, {"password": errors})
    assert await store.users.count_documents({}) == 0


@pytest.mark.parametrize("body", [
    {"username": {"$ne": ""}, "password": "long enough"},
    {"username": "bob", "password": {"$gt": ""}},
    {"username": {"$regex": ".*"}, "password": {"$ne": None}},
])
@gen_test
async def test_operator_injection_is_a_field_error(api, store, body):
    response = await api.post("/api/register/", body)
    assert response.status == 400
    assert response.json and all(messages == ["Not a valid string."] for messages in response.json.values())
    assert await store.users.count_documents({}) == 0


@pytest.mark.parametrize("first, second", [
    ("admin", "\u0430dmin"),  # Cyrillic а
    ("alice", "aIice"),  # capital I for l
    ("paypal", "p\u0430yp\u0430l"),
    ("\u0430dmin", "admin"),
])
@gen_test
async def test_a_username_that_looks_like_a_taken_one_is_refused(api, store, first, second):
    await api.register(first)
    response = await api.post("/api/register/", {"username": second, "password": "correct horse"})
    assert (response.status, response.json) == (
        400, {"username": ["A user with a username that looks the same already exists."]})
    assert await store.users.count_documents({}) == 1
    assert (await api.post("/api/register/", {"username": "bob", "password": "correct horse"})).status == 201
