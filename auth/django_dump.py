"""Reading `manage.py dumpdata` output: records streamed one at a time, and their fields checked.

`dumpdata` writes a JSON array (`--format json`, indented or not) or one object per line
(`--format jsonl`); both are read in chunks, so a dump of a million users is never held in memory.
"""

import json
from datetime import datetime, timezone
from typing import Any, Iterator, Optional, TextIO

from auth.users import username_errors

CHUNK = 1 << 16
MAX_RECORD = 1 << 20  # one record larger than this is not a dumpdata record
_BETWEEN_RECORDS = " \t\r\n,[]"


class DumpError(ValueError):
    """The file is not dumpdata JSON: the import stops (nothing past this point was read)."""


class BadRecord(ValueError):
    """One record cannot be imported; the message says why, and the import goes on."""


def _end_of_value(buffer: str, position: int) -> Optional[int]:
    """Where the array or object starting at `position` ends (None: not within the buffer), without
    decoding it: a record nested too deeply for the decoder is skipped this way."""
    depth, in_string, escaped = 0, False, False
    for index in range(position, len(buffer)):
        char = buffer[index]
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def read_records(stream: TextIO) -> Iterator[Any]:
    """Every top-level value of a JSON array or of JSON lines, in order, reading CHUNK at a time; a
    value nested too deeply to decode comes as a BadRecord, and reading goes on after it."""
    decoder = json.JSONDecoder()
    buffer, position, ended = "", 0, False
    while True:
        while position < len(buffer) and buffer[position] in _BETWEEN_RECORDS:
            position += 1
        if position < len(buffer):
            try:
                record, position = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as exc:
                if ended:
                    raise DumpError(f"not JSON near {buffer[position:position + 40]!r}: {exc.msg}") from None
            except RecursionError:
                end = _end_of_value(buffer, position)
                if end is not None:
                    position = end
                    yield BadRecord("nested too deeply to be a dumpdata record")
                    continue
            else:
                yield record
                continue
        elif ended:
            return
        if len(buffer) - position > MAX_RECORD:
            raise DumpError(f"a record longer than {MAX_RECORD} characters near {buffer[position:position + 40]!r}")
        more = stream.read(CHUNK)
        ended = not more
        buffer, position = buffer[position:] + more, 0


def split(record: Any) -> tuple[str, Any, dict]:
    """`(model, pk, fields)` of a dumpdata record; BadRecord when it has no such shape."""
    if not isinstance(record, dict) or not isinstance(record.get("model"), str):
        raise BadRecord("not a dumpdata record (no \"model\")")
    fields = record.get("fields")
    if not isinstance(fields, dict):
        raise BadRecord("no \"fields\" object")
    return record["model"], record.get("pk"), fields


def primary_key(pk: Any) -> int:
    if isinstance(pk, bool) or not isinstance(pk, int) or pk < 1:
        raise BadRecord(f"pk {pk!r} is not a positive integer (dumped with --natural-primary?)")
    return pk


def timestamp(fields: dict, name: str, *, required: bool = True) -> Optional[datetime]:
    """A DjangoJSONEncoder datetime (ISO 8601, millisecond precision), in UTC; naive ones are read as UTC."""
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not a date and time: {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"{name} is not a date and time: {value!r}") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # MongoDB keeps milliseconds


def text(fields: dict, name: str, *, default: Optional[str] = None) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not a string: {value!r}")
    return value


def integer(fields: dict, name: str) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{name} is not an integer: {value!r}")
    if not -2 ** 63 <= value < 2 ** 63:  # what MongoDB stores as an integer
        raise BadRecord(f"{name} is out of range: {value}")
    return value


def user_fields(fields: dict) -> dict:
    """The `auth.user` fields a user keeps here, checked."""
    username = text(fields, "username")
    if problems := username_errors(username):  # registration's rules: no spaces, controls or markup
        raise BadRecord(f"username {username[:200]!r}: {problems[0]}")
    is_active = fields.get("is_active", True)
    if not isinstance(is_active, bool):
        raise BadRecord(f"is_active is not a boolean: {is_active!r}")
    return {"username": username, "email": text(fields, "email", default=""), "is_active": is_active,
            "password": text(fields, "password"), "date_joined": timestamp(fields, "date_joined"),
            "last_login": timestamp(fields, "last_login", required=False)}


def player_fields(fields: dict) -> tuple[int, dict]:
    """The user a `game.player` belongs to, and the `score` and `photo` it gives them."""
    return primary_key(fields.get("user")), {"score": integer(fields, "score"),
                                             "photo": text(fields, "photo", default="")}


def outstanding_token_fields(fields: dict) -> dict:
    """A `token_blacklist.outstandingtoken`: its jti, user (None when deleted) and times."""
    jti = text(fields, "jti")
    if not jti:
        raise BadRecord("jti is empty")
    user = fields.get("user")
    return {"jti": jti, "user_id": None if user is None else primary_key(user),
            "created_at": timestamp(fields, "created_at", required=False),
            "expires_at": timestamp(fields, "expires_at")}
