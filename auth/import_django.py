"""`python -m auth.import_django FILE [--allow-skips]`, from the project's folder: users, scores and blacklisted tokens from a Django + SimpleJWT site.

FILE is `python manage.py dumpdata auth.user game.player token_blacklist` output (any subset, any
order). Users keep their Django ids, password hashes (replaced by ours at their first login here),
and the course's `game.player` score and photo; tokens blacklisted there stay refused here. The file is
read twice (users and tokens, then players and blacklist entries), streamed, so order does not matter
and memory does not grow with it.

Running it again changes nothing; running it with a newer dump updates what changed there, except
fields that changed here since the last import (a login, a game, a new password here win).
See docs/migrating-from-django.md.
"""

import argparse
import asyncio
import sys
from collections import Counter, defaultdict
from typing import Any, Callable, Optional, TextIO

from auth import legacy_hashes
from auth.django_dump import (BadRecord, DumpError, outstanding_token_fields, player_fields, primary_key,
                              read_records, split, user_fields)
from auth.lookalikes import skeleton
from settings import Settings, SettingsError, load_settings
from store.connection import connect_store
from store.database import INITIAL_SCORE, Store, StoreUnavailable, UserIdTaken, UsernameTaken, username_key
from store.documents import Rating, utcnow

USER, PLAYER = "auth.user", "game.player"
OUTSTANDING, BLACKLISTED = "token_blacklist.outstandingtoken", "token_blacklist.blacklistedtoken"
FIRST_PASS, SECOND_PASS = (USER, OUTSTANDING), (PLAYER, BLACKLISTED)
IMPORTED = "imported"  # on each imported user: the fields as the last import wrote them
DROPPED_WHEN_SET_HERE = ("password",)  # a new hash here drops the Django one from the snapshot (store.database)
PROGRESS_EVERY = 1000
SKIPPED = 3  # the exit status when records were skipped (without --allow-skips)


def record_id(django_pk: int) -> str:
    """The `_id` of an imported outstanding token record (ours use the jti)."""
    return f"django:{django_pk}"


class Report:
    """What happened to each record, by model: created, updated, unchanged, skipped with reasons."""

    def __init__(self, out: TextIO):
        self.out = out
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.reasons: dict[str, Counter] = defaultdict(Counter)
        self.passwords: Counter = Counter()
        self.highest_id = 0
        self.problems = 0  # records skipped for a reason the operator must see (not expired tokens, other models)

    def count(self, model: str, outcome: str) -> None:
        self.counts[model][outcome] += 1

    def skip(self, model: str, pk: Any, reason: str, *, show: bool = True) -> None:
        self.counts[model]["skipped"] += 1
        self.reasons[model][reason.split(":")[0]] += 1
        if show:
            self.problems += 1
            print(f"skipped {model} pk={pk!r}: {reason}", file=self.out)

    def summary(self, accept_weak: bool) -> str:
        lines = []
        for model in (USER, PLAYER, OUTSTANDING, BLACKLISTED, *sorted(set(self.counts) - {USER, PLAYER, OUTSTANDING, BLACKLISTED})):
            counts = self.counts.get(model)
            if not counts:
                continue
            lines.append(f"{model}: " + ", ".join(f"{counts[outcome]} {outcome}" for outcome in
                                                 ("created", "updated", "unchanged", "skipped") if counts[outcome]))
            lines += [f"  skipped {number}: {reason}" for reason, number in self.reasons[model].most_common()]
        if self.passwords:
            counts = self.passwords
            weak_fate = "accepted: ARENA_ACCEPT_WEAK_LEGACY_HASHES is on" if accept_weak else \
                "log in only after a password reset"
            parts = [f"{counts['strong']} log in as they are"]
            if counts["weak"]:
                parts.append(f"{counts['weak']} weak (MD5/SHA-1, or too few iterations) {weak_fate}")
            if counts["too_costly"]:
                parts.append(f"{counts['too_costly']} too costly to check (work factor above the ceiling): "
                             "log in only after a password reset")
            if counts["unusable"]:
                parts.append(f"{counts['unusable']} unusable (never log in)")
            lines.append("passwords: " + ", ".join(parts))
        if self.highest_id:
            lines.append(f"user ids: users registered from now on get ids above {self.highest_id}")
        return "\n".join(lines)


class DjangoImport:
    """Imports one dump into the store, reporting as it goes."""

    def __init__(self, store: Store, report: Report, progress: Optional[Callable[[str, int], None]] = None):
        self.store = store
        self.report = report
        self.progress = progress or (lambda models, read: None)

    async def run(self, open_dump: Callable[[], TextIO]) -> None:
        """Both passes over the dump; `open_dump` opens it afresh for each."""
        handlers = {USER: self.user, OUTSTANDING: self.outstanding_token, PLAYER: self.player,
                    BLACKLISTED: self.blacklisted_token}
        for models in (FIRST_PASS, SECOND_PASS):
            with open_dump() as stream:
                for read, record in enumerate(read_records(stream), 1):
                    if read % PROGRESS_EVERY == 0:
                        self.progress(" and ".join(models), read)
                    await self._one(record, models, handlers)
            if models == FIRST_PASS and self.report.highest_id:
                await self.store.keep_user_ids_above(self.report.highest_id)

    async def _one(self, record: Any, models: tuple, handlers: dict) -> None:
        try:
            if isinstance(record, BadRecord):
                raise record
            model, pk, fields = split(record)
        except BadRecord as exc:
            if models == FIRST_PASS:  # reported once, not once per pass
                self.report.skip("(not a record)", None, str(exc))
            return
        if model in models:
            try:
                await handlers[model](primary_key(pk), fields)
            except BadRecord as exc:
                self.report.skip(model, pk, str(exc))
        elif models == FIRST_PASS and model not in SECOND_PASS:
            self.report.skip(model, pk, "not a model this server imports", show=False)

    async def user(self, pk: int, fields: dict) -> None:
        self.report.highest_id = max(self.report.highest_id, pk)  # skipped ids are not given away either
        incoming = {"id": pk, **user_fields(fields)}
        existing = await self.store.user_record(pk)
        if existing is None:
            await self._create(incoming)
        else:
            await self._merge(USER, existing, incoming)
        self.report.passwords[legacy_hashes.strength(incoming["password"])] += 1

    async def _refuse_lookalike(self, username: str) -> None:
        if await self.store.username_skeleton_taken(skeleton(username)):
            raise BadRecord(f"looks taken: {username!r} looks like another user's username")

    async def _create(self, incoming: dict) -> None:
        await self._refuse_lookalike(incoming["username"])
        user = {**incoming, "username_key": username_key(incoming["username"]),
                "username_skeleton": skeleton(incoming["username"]), "score": INITIAL_SCORE, "photo": "",
                **Rating().fields(),
                IMPORTED: incoming}
        try:
            await self.store.insert_user(user)
        except UsernameTaken:
            raise BadRecord(f"username taken: {incoming['username']!r} is another user's "
                            "(usernames are unique here whatever their case)") from None
        except UserIdTaken:
            raise BadRecord(f"id taken: user {incoming['id']} was created while importing; run again") from None
        self.report.count(USER, "created")

    async def player(self, pk: int, fields: dict) -> None:
        user_id, incoming = player_fields(fields)
        existing = await self.store.user_record(user_id)
        if existing is None:
            raise BadRecord(f"no user: user {user_id} is not in the dump or was skipped")
        await self._merge(PLAYER, existing, incoming)

    async def _merge(self, model: str, existing: dict, incoming: dict) -> None:
        """Update what changed in Django since the last import, unless it changed here too."""
        if IMPORTED not in existing:
            raise BadRecord(f"id taken: user {existing['id']} registered here, not imported")
        snapshot = existing[IMPORTED]

        def changed_here(name: str) -> bool:
            """Changed on this server since the last import: it differs from the snapshot, or (a password
            set here) its snapshot was dropped."""
            if name not in snapshot:
                return name in DROPPED_WHEN_SET_HERE
            return existing.get(name) != snapshot[name]

        changes = {name: value for name, value in incoming.items()
                   if value != existing.get(name) and not changed_here(name)}
        if "username" in changes:
            if skeleton(changes["username"]) != existing.get("username_skeleton"):
                await self._refuse_lookalike(changes["username"])
            changes.update(username_key=username_key(changes["username"]),
                           username_skeleton=skeleton(changes["username"]))
        merged = {**snapshot, **{name: value for name, value in incoming.items() if not changed_here(name)}}
        if not changes and merged == snapshot:
            self.report.count(model, "unchanged")
            return
        expected = {name: existing.get(name) for name in changes}
        try:
            updated = await self.store.update_user_if(existing["id"], expected, {**changes, IMPORTED: merged})
        except UsernameTaken:
            raise BadRecord(f"username taken: {incoming['username']!r} is another user's") from None
        if not updated:
            raise BadRecord(f"changed here while importing: user {existing['id']}; run again")
        self.report.count(model, "updated" if changes else "unchanged")

    async def outstanding_token(self, pk: int, fields: dict) -> None:
        token = outstanding_token_fields(fields)
        if token["expires_at"] <= utcnow():
            self.report.skip(OUTSTANDING, pk, "expired: nothing left to refuse", show=False)
            return
        outcome = await self.store.save_token_record({
            "_id": record_id(pk), "token_type": "refresh", "family": None, **token})
        self.report.count(OUTSTANDING, outcome)

    async def blacklisted_token(self, pk: int, fields: dict) -> None:
        token = await self.store.token_record(record_id(primary_key(fields.get("token"))))
        if token is None:
            self.report.skip(BLACKLISTED, pk, "expired or missing: its outstanding token is not in the dump "
                                              "or has expired", show=False)
            return
        created = await self.store.blacklist(token["jti"], token["user_id"], token["expires_at"], "imported")
        self.report.count(BLACKLISTED, "created" if created else "unchanged")


def terminal_progress(stream: TextIO) -> Callable[[str, int], None]:
    def show(models: str, read: int) -> None:
        print(f"\rreading {models}: {read:,} records", end="", file=stream, flush=True)
    return show


async def import_file(settings: Settings, path: str, out: TextIO, err: TextIO, allow_skips: bool = False) -> int:
    """Import the dump; the exit status: 0, 1 (the dump or MongoDB failed), or SKIPPED when records were
    skipped (listed on `out`) unless `allow_skips`."""
    store = await connect_store(settings)
    report = Report(out)
    progress = terminal_progress(err) if err.isatty() else None
    try:
        await DjangoImport(store, report, progress).run(lambda: open(path, encoding="utf-8"))
    except DumpError as exc:
        print(f"\nerror: {path} is not dumpdata JSON: {exc}", file=err)
        return 1
    except StoreUnavailable as exc:
        print(f"\nerror: {exc}; nothing is half-written, run the import again", file=err)
        return 1
    finally:
        if progress:
            print(file=err)
        print(report.summary(settings.ACCEPT_WEAK_LEGACY_HASHES), file=out)
        await store.close()
    if report.problems and not allow_skips:
        print(f"error: {report.problems} records were skipped (listed above): fix them in Django and import "
              "again (what was imported stays), or pass --allow-skips to accept leaving them out", file=err)
        return SKIPPED
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m auth.import_django", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="dumpdata JSON (or JSON lines) of auth.user, game.player, token_blacklist")
    parser.add_argument("--allow-skips", action="store_true",
                        help=f"exit 0 even when records were skipped (else exit status {SKIPPED})")
    options = parser.parse_args(argv)
    path = options.file
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.MONGO_URL:
        print("error: MONGO_URL is not set: import into the MongoDB the server will use "
              "(the embedded store lives only inside a server process)", file=sys.stderr)
        return 2
    try:
        open(path, encoding="utf-8").close()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(import_file(settings, path, sys.stdout, sys.stderr, options.allow_skips))
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
