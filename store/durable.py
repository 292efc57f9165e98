"""The embedded store kept on disk (ARENA_DATA_DIR): a log of every change, and now and then a snapshot.

Every change to a document (store.embedded's Collection) becomes one record at the end of the current
log segment: its length, its CRC-32, and the BSON of `{"c": collection, "d": document}` (or `"x": _id`
for a deletion). Records wait in memory at most FLUSH_SECONDS before they are written to the file (a
kill -9 loses at most that much), and the file is fsynced every SYNC_SECONDS in a thread (a power cut
loses at most that much).

At start the newest snapshot is read, then each segment after it, in order; a record cut short or
corrupt (the crash came mid-write) ends the replay of its segment, and the segment is cut back there:
everything before it is intact, and new records go to a new segment. When the segments outgrow the
snapshot, a new snapshot is written in a thread (stored documents are never changed in place, so a
thread may read them), made durable, renamed into place, and the files it covers are deleted.
"""

import asyncio
import fcntl
import logging
import os
import struct
import time
import zlib
from datetime import timezone
from pathlib import Path
from typing import Any, Iterator, Optional

import bson
from bson.codec_options import CodecOptions

log = logging.getLogger("arena.store")
HEADER = struct.Struct("<II")  # the record's length, its CRC-32
CODEC = CodecOptions(tz_aware=True, tzinfo=timezone.utc)  # as the MongoDB clients read dates back
FLUSH_SECONDS = 0.2  # changes are written within this (a kill -9 loses at most this much)
SYNC_SECONDS = 1.0  # and made durable within this (a power cut loses at most this much)
SNAPSHOT_MIN_BYTES = 8 * 1024 * 1024  # the log is folded into a snapshot once it is this big and
SNAPSHOT_GROWTH = 2  # this many times the last snapshot


class DataDirInUse(RuntimeError):
    """Another process has the data folder open: two writers would interleave their logs."""


def _record(payload: dict) -> bytes:
    body = bson.encode(payload)
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    """Each intact record of a file and the offset just past it; stops at the first that is not."""
    with open(path, "rb") as handle:
        data = handle.read()
    offset = 0
    while offset + HEADER.size <= len(data):
        length, checksum = HEADER.unpack_from(data, offset)
        body = data[offset + HEADER.size:offset + HEADER.size + length]
        if len(body) < length or zlib.crc32(body) != checksum:
            return
        offset += HEADER.size + length
        yield offset, bson.decode(body, codec_options=CODEC)


def _apply(documents: dict[str, dict[Any, dict]], record: dict) -> None:
    """A record read back: a document stored (`d`) or deleted (`x`)."""
    collection = documents.setdefault(record["c"], {})
    if "d" in record:
        collection[record["d"]["_id"]] = record["d"]
    else:
        collection.pop(record["x"], None)


def _numbered(folder: Path, kind: str) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob(f"{kind}-*.bson"):
        try:
            found.append((int(path.stem.split("-")[1]), path))
        except ValueError:
            continue
    return sorted(found)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DiskLog:
    """One database's folder: `load` what it holds, then `put` and `delete` each change as it happens."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(folder / "LOCK", "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise DataDirInUse(f"{folder} is in use by another server process") from None
        self._pending = bytearray()
        self._flush_scheduled = False
        self._synced_at = time.monotonic()
        self._syncing: Optional[asyncio.Future] = None
        self._snapshotting = False
        self._snapshot_bytes = 0
        self._segment_bytes = 0
        self._segment = 0
        self._file: Optional[int] = None
        self.collections: dict[str, Any] = {}  # name -> store.embedded.Collection, set by the database

    # Start

    def load(self) -> dict[str, dict[Any, dict]]:
        """Every collection's documents by `_id`, as the last run left them; then new records go to a new
        segment."""
        documents: dict[str, dict[Any, dict]] = {}
        snapshots = _numbered(self.folder, "snapshot")
        first_segment = 0
        if snapshots:
            first_segment, path = snapshots[-1]
            for _, record in _records(path):
                _apply(documents, record)
            self._snapshot_bytes = path.stat().st_size
        segments = [(number, path) for number, path in _numbered(self.folder, "log") if number >= first_segment]
        for number, path in segments:
            intact = 0
            for intact, record in _records(path):
                _apply(documents, record)
            if intact < path.stat().st_size:
                log.warning("%s ends in a record cut short (a crash mid-write): cut back to %d bytes", path, intact)
                os.truncate(path, intact)
            self._segment_bytes += intact
        self._segment = max([first_segment, *(number for number, _ in segments)]) + 1
        self._open_segment()
        return documents

    def _open_segment(self) -> None:
        path = self.folder / f"log-{self._segment:08d}.bson"
        self._file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _sync_folder(self.folder)

    # Changes

    def put(self, collection: str, document: dict) -> None:
        self._append(_record({"c": collection, "d": document}))

    def delete(self, collection: str, document_id: Any) -> None:
        self._append(_record({"c": collection, "x": document_id}))

    def _append(self, record: bytes) -> None:
        self._pending += record
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write what waits (to the page cache: a write of a few KiB), fsync now and then in a thread,
        and fold the log into a snapshot when it has grown enough."""
        self._flush_scheduled = False
        if self._file is None or not self._pending:
            return
        self._write_pending()
        loop = asyncio.get_running_loop()
        if self._syncing is None and time.monotonic() - self._synced_at >= SYNC_SECONDS:
            self._synced_at = time.monotonic()
            self._syncing = loop.run_in_executor(None, os.fsync, self._file)
            self._syncing.add_done_callback(self._synced)
        if not self._snapshotting and self._segment_bytes > max(SNAPSHOT_MIN_BYTES,
                                                                 SNAPSHOT_GROWTH * self._snapshot_bytes):
            self._start_snapshot(loop)

    def _write_pending(self) -> None:
        os.write(self._file, self._pending)
        self._segment_bytes += len(self._pending)
        self._pending.clear()

    def _synced(self, future: asyncio.Future) -> None:
        self._syncing = None
        if future.exception() is not None:
            log.error("cannot make the data folder durable: %s", future.exception())

    # Snapshots

    def _start_snapshot(self, loop: asyncio.AbstractEventLoop) -> None:
        """Changes from now on go to a new segment; the documents as they are now (never changed in place)
        are written in a thread. Replaying the new segment over them gives the latest state, whichever
        of its changes the snapshot already holds."""
        self._snapshotting = True
        old = self._file
        self._segment += 1
        self._open_segment()
        self._segment_bytes = 0
        contents = [(name, list(collection.documents())) for name, collection in self.collections.items()]
        done = loop.run_in_executor(None, self._write_snapshot, self._segment, contents, old)
        done.add_done_callback(self._snapshot_written)

    def _write_snapshot(self, number: int, contents: list, old: int) -> int:
        os.fsync(old)
        os.close(old)
        final = self.folder / f"snapshot-{number:08d}.bson"
        temporary = final.with_suffix(".tmp")
        with open(temporary, "wb") as handle:
            for name, documents in contents:
                for document in documents:
                    handle.write(_record({"c": name, "d": document}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _sync_folder(self.folder)
        for kind in ("snapshot", "log"):
            for older, path in _numbered(self.folder, kind):
                if older < number:
                    path.unlink()
        return final.stat().st_size

    def _snapshot_written(self, future: asyncio.Future) -> None:
        self._snapshotting = False
        if future.exception() is not None:
            log.error("cannot write a snapshot of the data folder: %s", future.exception())
        else:
            self._snapshot_bytes = future.result()

    # Stop

    async def close(self) -> None:
        """Write and fsync what waits; the folder is free for the next run."""
        if self._syncing is not None:
            await asyncio.wait([self._syncing])
        if self._file is not None:
            if self._pending:
                self._write_pending()
            os.fsync(self._file)
            os.close(self._file)
            self._file = None
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()
