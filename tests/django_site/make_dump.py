"""Build what a Django + SimpleJWT + course-game site would hand over: `dumpdata` output and live tokens.

Run by the tests in a process of its own (Django's settings are process-wide):
`python tests/django_site/make_dump.py OUTDIR SECRET_KEY` writes OUTDIR/dump.json, OUTDIR/dump.jsonl
and OUTDIR/site.json (passwords, ids and tokens the tests use). Only Django and SimpleJWT make them.
"""

import hashlib
import json
import os
import sys

import django
from django.conf import settings

HASHERS = {
    "pbkdf2_sha256": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "pbkdf2_sha1": "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "argon2": "django.contrib.auth.hashers.Argon2PasswordHasher",
    "bcrypt_sha256": "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "bcrypt": "django.contrib.auth.hashers.BCryptPasswordHasher",
    "scrypt": "django.contrib.auth.hashers.ScryptPasswordHasher",
    "md5": "django.contrib.auth.hashers.MD5PasswordHasher",
}
STRONG = ("pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt")


def configure(directory: str, secret_key: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    settings.configure(
        SECRET_KEY=secret_key,
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "rest_framework_simplejwt.token_blacklist", "course_game"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": os.path.join(directory, "site.sqlite3")}},
        PASSWORD_HASHERS=list(HASHERS.values()),
        SIMPLE_JWT={"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True},
    )
    django.setup()


def build(directory: str) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from course_game.models import Player

    call_command("migrate", run_syncdb=True, verbosity=0)
    site = {"passwords": {}, "ids": {}, "tokens": {}}

    def user(username: str, password: str, hash_: str, pk: int, **fields) -> User:
        created = User.objects.create(id=pk, username=username, password=hash_, email=f"{pk}@example.com", **fields)
        site["passwords"][username], site["ids"][username] = password, pk
        return created

    # One user per strong format, with Django's own iteration counts.
    for number, name in enumerate(STRONG, 1):
        password = f"{name} horse battery"
        user(f"{name}_user", password, make_password(password, hasher=name), number)
    # Weak formats: Django's MD5 hasher, and SHA-1 / unsalted MD5 as Django 5.0 and earlier wrote them.
    user("md5_user", "md5 horse battery", make_password("md5 horse battery", hasher="md5"), 20)
    salt = "sAlTy"
    user("sha1_user", "sha1 horse battery",
         f"sha1${salt}${hashlib.sha1((salt + 'sha1 horse battery').encode()).hexdigest()}", 21)
    user("unsalted_md5_user", "plain horse battery", hashlib.md5(b"plain horse battery").hexdigest(), 22)
    user("sleeper", "sleepy horse battery", make_password("sleepy horse battery"), 30, is_active=False)
    nobody = user("nopass", "", "", 31)
    nobody.set_unusable_password()
    nobody.save()
    user("Zoë_Łukasz_名前", "ünïcode horse battery", make_password("ünïcode horse battery"), 500)
    for username, score, photo in (("argon2_user", 1720, "https://cdn.example/a.png"),
                                   ("Zoë_Łukasz_名前", 1333, "https://cdn.example/z.png"),
                                   ("bcrypt_user", 1500, "")):
        Player.objects.create(user=User.objects.get(username=username), score=score, photo=photo)

    # SimpleJWT 5.5.1 writes user_id as a string; before 5.5.1 it wrote the integer pk.
    as_string = RefreshToken.for_user(User.objects.get(username="pbkdf2_sha256_user"))
    old_style = User.objects.get(username="argon2_user")
    as_integer = RefreshToken.for_user(old_style)
    as_integer["user_id"] = old_style.pk
    logged_out = RefreshToken.for_user(User.objects.get(username="scrypt_user"))
    logged_out.blacklist()
    site["tokens"] = {"string_refresh": str(as_string), "string_access": str(as_string.access_token),
                      "integer_refresh": str(as_integer), "integer_access": str(as_integer.access_token),
                      "blacklisted_refresh": str(logged_out)}
    for extension, options in (("json", {"indent": 2}), ("jsonl", {"format": "jsonl"})):
        call_command("dumpdata", "auth.user", "game.player", "token_blacklist",
                     output=os.path.join(directory, f"dump.{extension}"), **options)
    return site


if __name__ == "__main__":
    out, key = sys.argv[1], sys.argv[2]
    configure(out, key)
    with open(os.path.join(out, "site.json"), "w", encoding="utf-8") as handle:
        json.dump(build(out), handle, ensure_ascii=False)
