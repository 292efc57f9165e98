"""Django's password hash formats, checked as Django checks them, for users imported from Django.

A user keeps their Django hash until their first login here, which replaces it with ours (Argon2id).
The checks block (PBKDF2 runs hundreds of thousands of iterations): callers run them off the IOLoop.
Unsalted and salted MD5/SHA-1 are accepted only when the operator allows weak hashes.

A hash carries its own cost, so an imported one could make each check take minutes (or hours: bcrypt
cost 31). Each format's work factor is bounded: above the ceiling (about twice Django's current
default) a hash is `too_costly` and never checked (its user needs a password reset); below the floor
it is `weak`, like MD5.
"""

import base64
import binascii
import hashlib
import hmac
import re

import bcrypt
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

STRONG = ("pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt")
WEAK = ("md5", "sha1", "unsalted_md5")
BCRYPT_MAX_BYTES = 72  # what bcrypt ever looked at; bcrypt 5 refuses longer input instead of cutting it
_UNSALTED_MD5 = re.compile(r"[0-9a-f]{32}")
_argon2 = Argon2Hasher()


# Work factors: (floor, ceiling) of the number each format's cost is read as (see `work`).
WORK_BOUNDS = {
    "pbkdf2_sha256": (10_000, 2_000_000),  # iterations; Django 5.2 writes 1,000,000 (0.4 s here)
    "pbkdf2_sha1": (10_000, 2_000_000),
    "bcrypt": (10, 13),  # log2 rounds; Django writes 12 (0.3 s)
    "bcrypt_sha256": (10, 13),
    "scrypt": (2 ** 15, 2 ** 21),  # N·r·p; Django writes 2^14·8·1 (0.06 s)
    "argon2": (8 * 1024, 1024 * 1024),  # time cost × memory KiB; Django writes 2 × 102,400 (0.13 s)
}
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024  # bytes: 128 · N · r
MAX_ARGON2_MEMORY = 256 * 1024 * 1024  # bytes: m KiB


def algorithm(encoded: str) -> str:
    """The Django hasher that made `encoded`: `pbkdf2_sha256`, …, `unusable` (`!…`), or `unknown`."""
    if not encoded or encoded.startswith("!"):
        return "unusable"
    if _UNSALTED_MD5.fullmatch(encoded):
        return "unsalted_md5"
    name = encoded.split("$", 1)[0]
    return name if name in STRONG or name in WEAK else "unknown"


def work(encoded: str) -> int:
    """The work factor a strong hash states (WORK_BOUNDS says in what unit); ValueError if unreadable."""
    name, _, rest = encoded.partition("$")
    fields = rest.split("$")
    if name.startswith("pbkdf2_"):
        return int(fields[0])
    if name.startswith("bcrypt"):
        return int(fields[2])  # after the name, "$2b$12$…" splits into '', '2b', '12', …
    if name == "scrypt":
        n, r, p = int(fields[0]), int(fields[2]), int(fields[3])
        if 128 * n * r > MAX_SCRYPT_MEMORY:
            return WORK_BOUNDS["scrypt"][1] + 1
        return n * r * p
    parameters = dict(part.split("=") for part in fields[2].split(","))  # argon2$argon2id$v=19$m=…,t=…,p=…$…
    if int(parameters["m"]) * 1024 > MAX_ARGON2_MEMORY:
        return WORK_BOUNDS["argon2"][1] + 1
    return int(parameters["t"]) * int(parameters["m"])


def strength(encoded: str) -> str:
    """`strong`, `weak` (a weak format, or a strong one below its floor), `too_costly` (above its
    ceiling: never checked) or `unusable` (`!…`, unknown formats, unreadable costs)."""
    name = algorithm(encoded)
    if name in WEAK:
        return "weak"
    if name not in STRONG:
        return "unusable"
    try:
        cost = work(encoded)
    except (ValueError, IndexError, KeyError):
        return "unusable"
    floor, ceiling = WORK_BOUNDS[name]
    return "too_costly" if cost > ceiling else "weak" if cost < floor else "strong"


def can_log_in(encoded: str, accept_weak: bool) -> bool:
    """Whether a user with this hash can log in here (otherwise only after a password reset)."""
    kind = strength(encoded)
    return kind == "strong" or (accept_weak and kind == "weak")


def verify(encoded: str, password: str, accept_weak: bool) -> bool:
    """Does `password` match the Django hash `encoded`? Blocking; False for any malformed hash."""
    if not can_log_in(encoded, accept_weak):
        return False  # nothing is computed for a hash that is out of bounds
    try:
        return _CHECKS[algorithm(encoded)](encoded, password.encode("utf-8"))
    except (ValueError, TypeError, IndexError, binascii.Error, InvalidHashError, VerificationError):
        return False


def _same(expected: str, actual: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii", "replace"), actual.encode("ascii", "replace"))


def _pbkdf2(encoded: str, password: bytes) -> bool:
    name, iterations, salt, expected = encoded.split("$", 3)
    digest = hashlib.pbkdf2_hmac(name.removeprefix("pbkdf2_"), password, salt.encode(), int(iterations))
    return _same(expected, base64.b64encode(digest).decode("ascii"))


def _scrypt(encoded: str, password: bytes) -> bool:
    _, work_factor, salt, block_size, parallelism, expected = encoded.split("$", 5)
    n, r, p = int(work_factor), int(block_size), int(parallelism)
    digest = hashlib.scrypt(password, salt=salt.encode(), n=n, r=r, p=p, maxmem=128 * n * r * 2, dklen=64)
    return _same(expected, base64.b64encode(digest).decode("ascii"))


def _argon2_check(encoded: str, password: bytes) -> bool:
    return _argon2.verify(encoded.removeprefix("argon2"), password)  # Django writes "argon2" + "$argon2id$…"


def _bcrypt(encoded: str, password: bytes) -> bool:
    name, data = encoded.split("$", 1)
    if name == "bcrypt_sha256":
        password = binascii.hexlify(hashlib.sha256(password).digest())
    return bcrypt.checkpw(password[:BCRYPT_MAX_BYTES], data.encode("ascii"))


def _salted(encoded: str, password: bytes) -> bool:
    """`md5$salt$hex` and `sha1$salt$hex`; with an empty salt, Django's unsalted `md5$$` and `sha1$$`."""
    name, salt, expected = encoded.split("$", 2)
    return _same(expected, hashlib.new(name, salt.encode() + password).hexdigest())


def _unsalted_md5(encoded: str, password: bytes) -> bool:
    return _same(encoded, hashlib.md5(password).hexdigest())


_CHECKS = {"pbkdf2_sha256": _pbkdf2, "pbkdf2_sha1": _pbkdf2, "scrypt": _scrypt, "argon2": _argon2_check,
           "bcrypt_sha256": _bcrypt, "bcrypt": _bcrypt, "md5": _salted, "sha1": _salted,
           "unsalted_md5": _unsalted_md5}
