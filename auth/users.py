"""Users: registration rules (Django's), login by password, and the claims-only TokenUser."""

import dataclasses
import re
from typing import Any, Optional

from auth.lookalikes import skeleton
from auth.password_rules import MAX_BYTES, password_errors
from auth.passwords import PasswordHasher
from store.database import Store, UsernameTaken
from store.documents import PublicUser, User, UserId, utcnow

USERNAME_MAX_LENGTH = 150
USERNAME_PATTERN = re.compile(r"[\w.@+-]+\Z")


LOOKS_TAKEN = "A user with a username that looks the same already exists."


class InvalidFields(ValueError):
    """Field errors in DRF's shape: `{"field": ["message"]}`."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def username_errors(username: str) -> list[str]:
    errors = []
    if len(username) > USERNAME_MAX_LENGTH:
        errors.append(f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters.")
    if not USERNAME_PATTERN.match(username):
        errors.append("Enter a valid username. This value may contain only letters, numbers, "
                      "and @/./+/-/_ characters.")
    return errors


async def register_user(store: Store, hasher: PasswordHasher, username: str, password: str) -> User:
    """Validate and create a user; raises InvalidFields with every field's problems."""
    errors = {}
    if problems := username_errors(username):
        errors["username"] = problems
    if problems := password_errors(password, {"username": username}):
        errors["password"] = problems
    if errors:
        raise InvalidFields(errors)
    if await store.find_user_by_username(username):
        raise InvalidFields({"username": ["A user with that username already exists."]})
    lookalike = skeleton(username)
    if await store.username_skeleton_taken(lookalike):
        raise InvalidFields({"username": [LOOKS_TAKEN]})
    try:
        return await store.create_user(username, await hasher.hash(password), username_skeleton=lookalike)
    except UsernameTaken:
        raise InvalidFields({"username": ["A user with that username already exists."]}) from None


async def check_credentials(store: Store, hasher: PasswordHasher, username: str, password: str) -> Optional[User]:
    """The user whose password this is, or None; as slow for unknown users as for known ones.

    A hash made with outdated Argon2 parameters is replaced by a fresh one on success.
    """
    if len(password.encode("utf-8")) > MAX_BYTES:
        password = ""  # never hash unbounded input; such a password was never accepted
    user = await store.find_user_by_username(username)
    if not await hasher.verify(user and user.password, password) or not user:
        return None
    if hasher.needs_rehash(user.password):
        new_hash = await hasher.hash(password)
        await store.update_password_hash(user.id, user.password, new_hash)
        user = dataclasses.replace(user, password=new_hash)
    return user


async def change_password(store: Store, hasher: PasswordHasher, user: User, old_password: str,
                          new_password: str) -> User:
    """Replace the user's password after checking the old one; raises InvalidFields as Django's form words it.

    The new hash and the next token generation are written in one update, so every token issued
    before stops working at the same moment the old password does.
    """
    if not await hasher.verify(user.password, old_password[:MAX_BYTES]):
        raise InvalidFields({"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
    if problems := password_errors(new_password, {"username": user.username}):
        raise InvalidFields({"new_password": problems})
    new_hash = await hasher.hash(new_password)
    if not await store.change_password(user.id, user.password, new_hash):
        raise InvalidFields({"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
    return await store.find_user(user.id)


async def record_login(store: Store, user: User) -> User:
    user = dataclasses.replace(user, last_login=utcnow())
    await store.update_user(user.id, last_login=user.last_login)
    return user


def public_user(user: PublicUser) -> dict:
    """What `/api/me/` and the leaderboard show of a user."""
    return {
        "id": user.id,
        "username": user.username,
        "score": user.score,
        "rating": round(user.rating.shown),
        "rating_deviation": round(user.rating.deviation),
        "date_joined": isoformat(user.date_joined),
        "last_login": isoformat(user.last_login),
    }


def isoformat(moment: Any) -> Optional[str]:
    """A stored UTC datetime as the API shows it, DRF-style: `2026-11-27T00:34:35.471000Z`."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


class TokenUser:
    """A user made from a validated token's claims alone, for stateless authentication."""

    is_active = True

    def __init__(self, token: Any, user_id: Optional[UserId]):
        self.token = token
        self.id = user_id
        self.username = token.get("username", "")
