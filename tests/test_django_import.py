"""Moving off Django + SimpleJWT: a real Django site's dump and tokens, imported and used here.

`tests/django_site/make_dump.py` builds the site with real Django and SimpleJWT (dev dependencies, in
a process of their own) and hands over `dumpdata` output, passwords and live tokens.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
import uuid

import jwt as pyjwt
import pytest
from pymongo import MongoClient

from auth import legacy_hashes
from auth.django_dump import read_records
from auth.import_django import DjangoImport, Report
from tests.conftest import TEST_ENV
from tests.mongo_server import MongoServer, require_server
from tests.ws import GameClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SITE_SCRIPT = os.path.join(ROOT, "tests", "django_site", "make_dump.py")
STRONG = ("pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt")
WEAK_USERS = ("md5_user", "sha1_user", "unsalted_md5_user")
NO_ACCOUNT = {"detail": "No active account found with the given credentials"}


@pytest.fixture(scope="session")
def django_site(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("django_site")
    subprocess.run([sys.executable, SITE_SCRIPT, str(directory), TEST_ENV["SECRET_KEY"]], check=True,
                   timeout=300, capture_output=True)
    with open(directory / "site.json", encoding="utf-8") as handle:
        site = json.load(handle)
    site["json"], site["jsonl"] = str(directory / "dump.json"), str(directory / "dump.jsonl")
    return site


async def import_dump(store, path: str) -> tuple[Report, str]:
    out = io.StringIO()
    report = Report(out)
    await DjangoImport(store, report).run(lambda: open(path, encoding="utf-8"))
    return report, out.getvalue() + report.summary(accept_weak=False)


def login(api, site: dict, username: str, password: str = ""):
    return api.post("/api/token/", {"username": username, "password": password or site["passwords"][username]})


@pytest.mark.parametrize("kind", STRONG)
@pytest.mark.gen_test(timeout=30)
async def test_each_django_hash_format_logs_in_and_is_replaced_by_ours(api, store, django_site, kind):
    await import_dump(store, django_site["json"])
    username = f"{kind}_user"
    assert (await store.user_record(django_site["ids"][username]))["password"].startswith(kind + "$")
    assert (await login(api, django_site, username)).status == 200
    record = await store.user_record(django_site["ids"][username])
    assert record["password"].startswith("$argon2id$")
    assert "password" not in record["imported"]  # the Django hash is not kept once ours replaces it
    assert (await login(api, django_site, username)).status == 200
    wrong = await login(api, django_site, username, "not the password")
    assert (wrong.status, wrong.json) == (401, NO_ACCOUNT)


@pytest.mark.gen_test(timeout=30)
async def test_a_password_changed_here_is_kept_and_no_django_hash_comes_back_on_a_new_import(api, store, django_site):
    await import_dump(store, django_site["json"])
    user_id = django_site["ids"]["argon2_user"]
    tokens = (await login(api, django_site, "argon2_user")).json
    changed = await api.post("/api/password/change/", {"old_password": django_site["passwords"]["argon2_user"],
                                                "new_password": "a brand new passphrase"}, token=tokens["access"])
    assert changed.status == 200, changed.json
    ours = (await store.user_record(user_id))["password"]
    report, _ = await import_dump(store, django_site["json"])  # the same dump, imported again
    record = await store.user_record(user_id)
    assert record["password"] == ours and "password" not in record["imported"]
    assert (await login(api, django_site, "argon2_user", "a brand new passphrase")).status == 200


@pytest.mark.parametrize("allowed", [False, pytest.param(True, marks=pytest.mark.settings(ACCEPT_WEAK_LEGACY_HASHES=True))])
@pytest.mark.gen_test(timeout=30)
async def test_weak_hashes_log_in_only_when_the_operator_allows_them(api, store, django_site, allowed):
    await import_dump(store, django_site["json"])
    for username in WEAK_USERS:
        answer = await login(api, django_site, username)
        assert (username, answer.status) == (username, 200 if allowed else 401)
        stored = (await store.user_record(django_site["ids"][username]))["password"]
        assert stored.startswith("$argon2id$") == allowed


@pytest.mark.gen_test(timeout=30)
async def test_inactive_users_and_unusable_passwords_never_log_in(api, store, django_site):
    await import_dump(store, django_site["json"])
    for username, password in (("sleeper", ""), ("nopass", "anything at all"), ("nopass", "!")):
        answer = await login(api, django_site, username, password)
        assert (answer.status, answer.json) == (401, NO_ACCOUNT)


@pytest.mark.gen_test(timeout=30)
async def test_ids_scores_and_photos_carry_over_and_new_ids_come_after(api, store, django_site):
    _, output = await import_dump(store, django_site["json"])
    for username, score in (("argon2_user", 1720), ("Zoë_Łukasz_名前", 1333), ("bcrypt_user", 1500)):
        tokens = (await login(api, django_site, username)).json
        me = (await api.get("/api/me/", token=tokens["access"])).json
        assert (me["id"], me["username"], me["score"]) == (django_site["ids"][username], username, score)
    stored = await store.user_record(django_site["ids"]["argon2_user"])
    assert (stored["photo"], stored["email"]) == ("https://cdn.example/a.png", "3@example.com")
    registered = await api.post("/api/register/", {"username": "newcomer", "password": "correct horse"})
    assert registered.json["id"] == 501
    assert "users registered from now on get ids above 500" in output


@pytest.mark.gen_test(timeout=30)
async def test_tokens_issued_by_simplejwt_keep_working_and_its_blacklist_holds(api, store, base_url, django_site):
    await import_dump(store, django_site["jsonl"])
    tokens = django_site["tokens"]
    for kind, username in (("string", "pbkdf2_sha256_user"), ("integer", "argon2_user")):
        user_id = django_site["ids"][username]
        refreshed = await api.post("/api/token/refresh/", {"refresh": tokens[f"{kind}_refresh"]})
        assert refreshed.status == 200, (kind, refreshed.json)
        for access in (tokens[f"{kind}_access"], refreshed.json["access"]):
            assert (await api.get("/api/me/", token=access)).json["id"] == user_id
        client = await GameClient.connect(base_url, tokens[f"{kind}_access"])
        assert (await client.wait_for("welcome"))["user"]["id"] == user_id
        client.close()
    refused = await api.post("/api/token/refresh/", {"refresh": tokens["blacklisted_refresh"]})
    assert (refused.status, refused.json) == (401, {"detail": "Token is blacklisted", "code": "token_not_valid"})


@pytest.mark.gen_test(timeout=30)
async def test_a_second_run_changes_nothing_and_changes_made_here_win(api, store, django_site, tmp_path):
    first, _ = await import_dump(store, django_site["json"])
    assert first.counts["auth.user"] == {"created": 12}
    assert first.counts["game.player"] == {"updated": 2, "unchanged": 1}  # bcrypt_user's player has the defaults
    before = [user async for user in store.users.find({}, {"_id": 0}).sort("id")]
    again, _ = await import_dump(store, django_site["json"])
    assert {model: dict(counts) for model, counts in again.counts.items()} == {
        "auth.user": {"unchanged": 12}, "game.player": {"unchanged": 3},
        "token_blacklist.outstandingtoken": {"unchanged": 3}, "token_blacklist.blacklistedtoken": {"unchanged": 1}}
    assert [user async for user in store.users.find({}, {"_id": 0}).sort("id")] == before

    # Here, argon2_user logs in (a new hash) and plays (a new score); there, their score and email change.
    assert (await login(api, django_site, "argon2_user")).status == 200
    await store.update_user(3, score=1600)
    newer = tmp_path / "newer.json"
    records = list(read_records(open(django_site["json"], encoding="utf-8")))
    for record in records:
        if record["model"] == "auth.user" and record["pk"] == 3:
            record["fields"]["email"] = "new@example.com"
        if record["model"] == "game.player" and record["fields"]["user"] == 3:
            record["fields"]["score"] = 1800
    newer.write_text(json.dumps(records), encoding="utf-8")
    await import_dump(store, str(newer))
    user = await store.user_record(3)
    assert (user["email"], user["score"], user["password"][:10]) == ("new@example.com", 1600, "$argon2id$")


BAD_DUMP = [
    {"model": "auth.user", "pk": 7, "fields": {"username": "alice", "password": "!x", "is_active": True,
                                               "date_joined": "2024-01-02T03:04:05.678Z", "last_login": None}},
    {"model": "auth.user", "pk": "x", "fields": {"username": "bob", "password": "!x",
                                                 "date_joined": "2024-01-02T03:04:05Z"}},
    {"model": "auth.user", "pk": 8, "fields": {"password": "!x", "date_joined": "2024-01-02T03:04:05Z"}},
    {"model": "auth.user", "pk": 9, "fields": {"username": "carol", "password": "!x", "date_joined": "yesterday"}},
    {"model": "auth.user", "pk": 10, "fields": {"username": "ALICE", "password": "!x",
                                                "date_joined": "2024-01-02T03:04:05Z"}},
    {"model": "game.player", "pk": 1, "fields": {"user": 99, "score": 1600, "photo": ""}},
    {"model": "game.player", "pk": 2, "fields": {"user": 7, "score": "lots", "photo": ""}},
    "hello",
    {"model": "contenttypes.contenttype", "pk": 1, "fields": {"app_label": "auth", "model": "user"}},
]


@pytest.mark.gen_test(timeout=30)
async def test_bad_records_are_reported_with_their_pk_and_skipped(store, tmp_path):
    dump = tmp_path / "bad.json"
    dump.write_text(json.dumps(BAD_DUMP), encoding="utf-8")
    report, output = await import_dump(store, str(dump))
    for line in ("skipped auth.user pk='x': pk 'x' is not a positive integer",
                 "skipped auth.user pk=8: username is not a string: None",
                 "skipped auth.user pk=9: date_joined is not a date and time: 'yesterday'",
                 "skipped auth.user pk=10: username taken: 'ALICE' is another user's",
                 "skipped game.player pk=1: no user: user 99 is not in the dump or was skipped",
                 "skipped game.player pk=2: score is not an integer: 'lots'",
                 "skipped (not a record) pk=None: not a dumpdata record",
                 "auth.user: 1 created, 4 skipped", "contenttypes.contenttype: 1 skipped"):
        assert line in output
    assert [user["id"] async for user in store.users.find({})] == [7]
    assert (await store.user_record(7))["score"] == 1500
    assert report.problems == 7  # the records shown (the other model's record is skipped quietly)


def user_record(pk: int, username: str, password: str = "!x") -> dict:
    return {"model": "auth.user", "pk": pk, "fields": {"username": username, "password": password,
                                                       "date_joined": "2024-01-02T03:04:05Z"}}


@pytest.mark.gen_test(timeout=30)
async def test_imported_names_meet_registrations_rules_and_odd_records_are_skipped_not_crashed_on(store, tmp_path):
    """Names with newlines, escapes, bidi controls, markup or spaces, look-alikes of another user, a
    record nested too deeply for the decoder and a score MongoDB cannot store: each skipped with its
    reason (they were imported, or the import died with a traceback)."""
    records = [user_record(1, "admin"), user_record(2, "ev\nil"), user_record(3, "red\x1b[31m"),
               user_record(4, "abc\u202egpj.exe"), user_record(5, "<b>bold</b>"), user_record(6, " spaced "),
               user_record(7, "\u0430dmin"),  # a Cyrillic а
               {"model": "game.player", "pk": 1, "fields": {"user": 1, "score": 2 ** 63, "photo": ""}}]
    dump = tmp_path / "odd.json"
    dump.write_text("[" + ",".join(json.dumps(record) for record in records[:2]) + "," + "{\"x\":" * 100_000 + "1"
                    + "}" * 100_000 + "," + ",".join(json.dumps(record) for record in records[2:]) + "]",
                    encoding="utf-8")
    report, output = await import_dump(store, str(dump))
    for pk in (2, 3, 4, 5, 6):
        assert f"skipped auth.user pk={pk}: username " in output and "Enter a valid username" in output
    assert "skipped auth.user pk=7: looks taken: 'аdmin' looks like another user's username" in output
    assert "skipped (not a record) pk=None: nested too deeply to be a dumpdata record" in output
    assert "skipped game.player pk=1: score is out of range: 9223372036854775808" in output
    assert [user["username"] async for user in store.users.find({})] == ["admin"]


def test_a_hash_whose_work_factor_is_out_of_bounds_is_never_computed():
    """A PBKDF2 hash of 100,000,000 iterations tied up the hashing threads for seconds a guess; bcrypt
    cost 31 for hours. Above the ceiling a hash is never checked; below the floor it is weak."""
    assert legacy_hashes.strength("pbkdf2_sha256$100000000$salt$AAAA") == "too_costly"
    assert legacy_hashes.strength("bcrypt$$2b$31$" + "a" * 53) == "too_costly"
    assert legacy_hashes.strength("scrypt$1048576$salt$8$1$AAAA") == "too_costly"  # 1 GiB of memory
    assert legacy_hashes.strength("argon2$argon2id$v=19$m=1048576,t=1,p=1$c2FsdA$aGFzaA") == "too_costly"
    assert legacy_hashes.strength("pbkdf2_sha256$1$salt$AAAA") == "weak"
    assert legacy_hashes.strength("pbkdf2_sha256$1000000$salt$AAAA") == "strong"  # Django 5.2's default
    started = time.perf_counter()
    assert not legacy_hashes.verify("pbkdf2_sha256$100000000$salt$AAAA", "guess", accept_weak=True)
    assert not legacy_hashes.verify("pbkdf2_sha256$1$salt$AAAA", "guess", accept_weak=False)
    assert time.perf_counter() - started < 0.1


def test_dumps_are_streamed_not_loaded():
    """A dump of 200,000 users is read with the memory of a few records, in both dumpdata formats."""
    record = ('{"model": "auth.user", "pk": %d, "fields": {"username": "user%d", "password": "!", '
              '"date_joined": "2024-01-02T03:04:05Z", "groups": [], "user_permissions": []}}')
    count = 200_000

    class Dump(io.TextIOBase):
        def __init__(self, separator: str, opening: str, closing: str):
            self.pieces = iter([opening, *(record % (n, n) + (separator if n < count else "")
                                           for n in range(1, count + 1)), closing])

        def read(self, size: int = -1) -> str:
            return "".join(next(self.pieces, "") for _ in range(200))

    for dump in (Dump(",\n", "[\n", "\n]\n"), Dump("\n", "", "\n")):
        tracemalloc.start()
        last = sum(1 for _ in read_records(dump))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert last == count and peak < 2_000_000


@pytest.fixture
def mongo_url():
    """MONGO_URL when the suite runs against a MongoDB; else a SecantusDB of the test's own."""
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    require_server()
    server = MongoServer()
    yield server.url
    server.stop()


def test_the_command_imports_into_mongodb_and_refuses_the_embedded_store(django_site, mongo_url):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARENA_", "JWT_"))}
    environment.pop("MONGO_URL", None)
    command = [sys.executable, "-m", "auth.import_django", django_site["jsonl"]]
    refused = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "MONGO_URL is not set" in refused.stderr

    database = f"arena_import_{uuid.uuid4().hex[:8]}"
    environment.update(MONGO_URL=mongo_url, ARENA_DB=database)
    try:
        runs = [subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
                for _ in range(2)]
        with MongoClient(mongo_url) as client:
            ids = sorted(user["id"] for user in client[database]["users"].find())
            client.drop_database(database)
    finally:
        with MongoClient(mongo_url) as client:
            client.drop_database(database)
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "skipped auth.user" not in runs[0].stdout
    assert "auth.user: 12 created" in runs[0].stdout and "auth.user: 12 unchanged" in runs[1].stdout
    assert "passwords: 8 log in as they are, 3 weak (MD5/SHA-1, or too few iterations) log in only after a " \
           "password reset, 1 unusable (never log in)" in runs[0].stdout
    assert ids == sorted(django_site["ids"].values())


@pytest.mark.settings(jwt={"CHECK_REVOKE_TOKEN": True})
@pytest.mark.gen_test(timeout=30)
async def test_with_check_revoke_token_simplejwts_password_fingerprint_is_accepted(api, store, django_site):
    await import_dump(store, django_site["json"])
    stored_hash = (await store.user_record(1))["password"]
    claims = {**pyjwt.decode(django_site["tokens"]["string_refresh"], options={"verify_signature": False}),
              "hash_password": hashlib.md5(stored_hash.encode()).hexdigest()}  # SimpleJWT's get_md5_hash_password
    refresh = pyjwt.encode(claims, TEST_ENV["SECRET_KEY"], algorithm="HS256")
    assert (await api.post("/api/token/refresh/", {"refresh": refresh})).status == 200


def test_the_command_exits_non_zero_when_it_skipped_records_unless_told_to_allow_them(mongo_url, tmp_path):
    dump = tmp_path / "bad.json"
    dump.write_text(json.dumps(BAD_DUMP), encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARENA_", "JWT_"))}
    database = f"arena_import_{uuid.uuid4().hex[:8]}"
    environment.update(MONGO_URL=mongo_url, ARENA_DB=database)
    command = [sys.executable, "-m", "auth.import_django", str(dump)]
    try:
        runs = [subprocess.run(command + extra, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
                for extra in ([], ["--allow-skips"])]
    finally:
        with MongoClient(mongo_url) as client:
            client.drop_database(database)
    assert [run.returncode for run in runs] == [3, 0]
    assert "error: 7 records were skipped (listed above)" in runs[0].stderr and "error" not in runs[1].stderr
