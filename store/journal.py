"""Game results MongoDB has not taken yet, kept on local disk so that a restart retries them.

One JSON file per result in ARENA_RESULTS_JOURNAL, written (atomically, by rename) when a first
attempt to store it fails, deleted once MongoDB has it. It survives the process (SIGTERM, SIGKILL,
a crash); it is not fsynced, so a power loss can lose it. Writing a result twice is harmless:
`Store.record_game` applies a result once however often it is written.
"""

import base64
import logging
import os
from datetime import datetime
from pathlib import Path

import orjson

from store.documents import GameResult

log = logging.getLogger("arena.results")


def _dumps(result: GameResult) -> bytes:
    document = result.to_document()
    if result.replay is not None:  # bytes: kept as base64 in the JSON file
        document["replay"] = base64.b64encode(result.replay).decode()
    return orjson.dumps(document)


def _loads(data: bytes) -> GameResult:
    document = orjson.loads(data)
    for moment in ("started_at", "ended_at"):
        document[moment] = datetime.fromisoformat(document[moment])
    if "replay" in document:
        document["replay"] = base64.b64decode(document["replay"])
    return GameResult.from_document(document)


class ResultJournal:
    def __init__(self, directory: str):
        self.directory = Path(directory)

    def _path(self, result_id: str) -> Path:
        return self.directory / f"{result_id}.json"

    def save(self, result: GameResult) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(result.id)
        partial = path.with_suffix(".partial")
        partial.write_bytes(_dumps(result))
        os.replace(partial, path)  # a reader never sees half a file

    def discard(self, result_id: str) -> None:
        self._path(result_id).unlink(missing_ok=True)

    def load(self) -> list[GameResult]:
        """Every result kept; an unreadable file is logged and left where it is for a person to look at."""
        results = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                results.append(_loads(path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("cannot read pending game result %s: %s", path, exc)
        return results
