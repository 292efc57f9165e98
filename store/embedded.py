"""The embedded store: an in-process stand-in for MongoDB with the part of motor's API the store uses.

Used when MONGO_URL is unset. It keeps documents in dicts with hash indexes, so a lookup by an
indexed field costs the same with ten users or a million — mongomock scans every document on every
query and insert, on the IOLoop (see BENCHMARKS.md). Semantics follow MongoDB for what is used:
equality (arrays match any element, dotted paths reach into arrays of documents), `$ne`, `$lt`,
`$lte`, `$gt`, `$gte`, `$in`; updates `$set`, `$inc`, `$max`, `$unset` (dotted too), `$push` (with `$each`/`$slice`), `$pull`
(by equality); unique
indexes raising DuplicateKeyError; inclusion and exclusion projections of top-level fields; sort by
scalar fields and limit; datetimes kept at BSON's millisecond precision and tuples stored as arrays.
Anything else (partial, sparse, collation or unique compound indexes, `unique` added to an existing
index, dotted projections, sorting by an array) raises NotImplementedError naming it, rather than
silently differing. TTL indexes are accepted but not enforced: the server deletes expired records
itself (auth.flush).
"""

import asyncio
import shutil
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Optional

from pathlib import Path

from bson import ObjectId
from pymongo.errors import DuplicateKeyError, OperationFailure

from store.durable import DiskLog

_MISSING = object()
_COMPARISONS = {
    "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
    "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b,
}


_INDEX_OPTIONS = {"expireAfterSeconds", "name", "background"}  # accepted; others are not emulated
SCAN_SLICE = 1000  # documents a cursor examines between turns of the event loop


def _copy(value: Any) -> Any:
    """A deep copy of document data as BSON would give it back: callers never share our objects,
    datetimes lose what is finer than a millisecond, tuples become lists."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    if isinstance(value, datetime) and value.microsecond % 1000:
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _values(document: Any, path: str) -> list:
    """Every value `path` reaches in `document`, descending into arrays as MongoDB does."""
    head, _, rest = path.partition(".")
    if isinstance(document, list):
        return [value for item in document for value in _values(item, path)]
    if not isinstance(document, dict) or head not in document:
        return []
    value = document[head]
    if rest:
        return _values(value, rest)
    return [value, *value] if isinstance(value, list) else [value]


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)) or type(a) is type(b)


def _matches_condition(found: list, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(key.startswith("$") for key in condition):
        return all(_matches_operator(found, operator, operand) for operator, operand in condition.items())
    return any(value == condition for value in found) or (condition is None and not found)


def _matches_operator(found: list, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return _matches_condition(found, operand)
    if operator == "$ne":
        return not _matches_condition(found, operand)
    if operator == "$in":
        return any(_matches_condition(found, option) for option in operand)
    if operator in _COMPARISONS:
        compare = _COMPARISONS[operator]
        return any(_comparable(value, operand) and compare(value, operand) for value in found)
    raise NotImplementedError(f"the embedded store does not support {operator}")


def matches(document: dict, query: dict) -> bool:
    for path, condition in query.items():
        if path.startswith("$"):
            raise NotImplementedError(f"the embedded store does not support {path}")
        if not _matches_condition(_values(document, path), condition):
            return False
    return True


def _project(document: dict, projection: Optional[dict]) -> dict:
    """MongoDB's projection of top-level fields: inclusion (`_id` unless excluded) or exclusion."""
    if not projection:
        return _copy(document)
    dotted = [field for field in projection if "." in field]
    if dotted:
        raise NotImplementedError(f"the embedded store does not support dotted projections ({dotted[0]})")
    others = {bool(flag) for field, flag in projection.items() if field != "_id"}
    if others == {True, False}:
        raise OperationFailure("Cannot mix inclusion and exclusion in a projection", 31254)
    inclusion = others == {True} or (not others and bool(projection.get("_id")))
    if inclusion:
        return {field: _copy(value) for field, value in document.items()
                if (projection.get("_id", 1) if field == "_id" else field in projection)}
    return {field: _copy(value) for field, value in document.items() if projection.get(field, 1)}


def _unset(document: dict, path: str) -> None:
    """`$unset` of a (dotted) path: the field goes; a path that is not there is left as it is."""
    *parents, name = path.split(".")
    for parent in parents:
        document = document.get(parent)
        if not isinstance(document, dict):
            return
    document.pop(name, None)


def _apply_update(document: dict, update: dict, inserting: bool) -> None:
    for operator, fields in _copy(update).items():
        for field, operand in fields.items():
            if operator == "$unset":
                _unset(document, field)
                continue
            if "." in field:
                raise NotImplementedError("the embedded store updates top-level fields only")
            if operator == "$set":
                document[field] = _copy(operand)
            elif operator == "$setOnInsert":
                if inserting:
                    document[field] = _copy(operand)
            elif operator == "$inc":
                document[field] = document.get(field, 0) + operand
            elif operator == "$max":
                current = document.get(field, _MISSING)
                if current is _MISSING or operand > current:
                    document[field] = _copy(operand)
            elif operator == "$pull":
                if isinstance(operand, dict):
                    raise NotImplementedError("the embedded store pulls by equality only")
                document[field] = [item for item in document.get(field, []) if item != operand]
            elif operator == "$push":
                items = document.setdefault(field, [])
                if isinstance(operand, dict) and "$each" in operand:
                    items.extend(_copy(operand["$each"]))
                    if "$slice" in operand:
                        cut = operand["$slice"]
                        document[field] = items[cut:] if cut < 0 else items[:cut]
                else:
                    items.append(_copy(operand))
            else:
                raise NotImplementedError(f"the embedded store does not support {operator}")


@dataclass
class InsertOneResult:
    inserted_id: Any


@dataclass
class UpdateResult:
    matched_count: int
    modified_count: int
    upserted_id: Any = None


@dataclass
class DeleteResult:
    deleted_count: int


class Index:
    """A hash index on one field: value → ids of the documents holding it (any element, for arrays)."""

    def __init__(self, field: str, unique: bool):
        self.field = field
        self.unique = unique
        self.entries: dict[Any, set] = {}

    def keys(self, document: dict) -> list:
        found = _values(document, self.field) or [None]
        return [key for key in found if not isinstance(key, (dict, list))]

    def check(self, document: dict, own_id: Any) -> None:
        if self.unique:
            for key in self.keys(document):
                if self.entries.get(key, set()) - {own_id}:
                    raise DuplicateKeyError(f"E11000 duplicate key error: {self.field} {key!r}", 11000)

    def add(self, document: dict) -> None:
        for key in self.keys(document):
            self.entries.setdefault(key, set()).add(document["_id"])

    def remove(self, document: dict) -> None:
        for key in self.keys(document):
            ids = self.entries.get(key)
            if ids is not None:
                ids.discard(document["_id"])
                if not ids:
                    del self.entries[key]


class Cursor:
    """`find()`'s result: chain `sort` and `limit`, then `async for` or `to_list`."""

    def __init__(self, collection: "Collection", query: dict, projection: Optional[dict]):
        self._collection = collection
        self._query = query
        self._projection = projection
        self._sort: list[tuple[str, int]] = []
        self._limit = 0
        self._results: Optional[Iterator[dict]] = None

    def sort(self, key: Any, direction: int = 1) -> "Cursor":
        self._sort = list(key) if isinstance(key, list) else [(key, direction)]
        return self

    def limit(self, count: int) -> "Cursor":
        self._limit = count
        return self

    async def _run(self) -> Iterator[dict]:
        """The results; a scan yields to the event loop every SCAN_SLICE documents, so a query that reads
        a whole collection (the flush of expired tokens, say) never stalls the game."""
        candidates, rest = self._collection._candidates(_copy(self._query))
        stop_at = self._limit if self._limit and not self._sort else None  # no sort: stop at the limit
        documents = []
        for examined, document in enumerate(candidates, 1):
            if matches(document, rest):
                documents.append(document)
                if stop_at is not None and len(documents) == stop_at:
                    break
            if examined % SCAN_SLICE == 0:
                await asyncio.sleep(0)
        for field, direction in reversed(self._sort):
            def sort_key(document, field=field):
                found = _values(document, field)
                if len(found) > 1 or (found and isinstance(found[0], list)):
                    raise NotImplementedError(f"the embedded store does not sort by an array ({field})")
                value = found[0] if found else None
                return (value is not None, value if value is not None else 0)
            documents.sort(key=sort_key, reverse=direction < 0)
        if self._limit:
            documents = documents[:self._limit]
        return iter([_project(document, self._projection) for document in documents])

    def __aiter__(self) -> "Cursor":
        return self

    async def __anext__(self) -> dict:
        if self._results is None:
            self._results = await self._run()
        try:
            return next(self._results)
        except StopIteration:
            raise StopAsyncIteration from None

    async def to_list(self, length: Optional[int] = None) -> list[dict]:
        return [document async for document in self][:length]


class Collection:
    """A collection with motor's coroutine methods, backed by a dict of documents by `_id`; with a disk
    log (store.durable), every change is also written there."""

    def __init__(self, name: str, disk: Optional[DiskLog] = None, documents: Optional[dict[Any, dict]] = None):
        self.name = name
        self._disk = disk
        self._documents: dict[Any, dict] = documents or {}
        self._indexes: dict[str, Index] = {"_id": Index("_id", unique=True)}
        for document in self._documents.values():
            self._indexes["_id"].add(document)

    def documents(self) -> list[dict]:
        """Every document as stored (never changed in place: a change stores a new one)."""
        return list(self._documents.values())

    def _candidates(self, query: dict) -> tuple[list[dict], dict]:
        """Documents that may match, and what of the query they still have to be checked against.

        An equality on an indexed field is answered by the index alone; the rest is checked per document.
        """
        for field, condition in query.items():
            index = self._indexes.get(field)
            if index is None:
                continue
            rest = {key: value for key, value in query.items() if key != field}
            if not isinstance(condition, (dict, list)) and condition is not None:
                return [self._documents[_id] for _id in index.entries.get(condition, ())], rest
            if isinstance(condition, dict) and list(condition) == ["$in"] and None not in condition["$in"]:
                ids = dict.fromkeys(_id for value in condition["$in"] if not isinstance(value, (dict, list))
                                    for _id in index.entries.get(value, ()))
                return [self._documents[_id] for _id in ids], {**rest, field: condition}
        return list(self._documents.values()), query

    def _matching(self, query: Optional[dict]) -> Iterator[dict]:
        candidates, rest = self._candidates(_copy(query or {}))  # values as BSON would send them
        return (document for document in candidates if matches(document, rest))

    def _first(self, query: Optional[dict]) -> Optional[dict]:
        if query is not None and len(query) == 1:  # one indexed field equal to a scalar: the index alone answers
            for field, condition in query.items():
                index = self._indexes.get(field)
                if index is not None and isinstance(condition, (str, int, float)):
                    for _id in index.entries.get(condition, ()):
                        return self._documents[_id]
                    return None
        return next(self._matching(query), None)

    def _store(self, document: dict, previous: Optional[dict] = None) -> None:
        """Insert or replace `document`, keeping every index right; unique violations change nothing."""
        for index in self._indexes.values():
            index.check(document, document["_id"] if previous is not None else _MISSING)
        if previous is not None:
            for index in self._indexes.values():
                index.remove(previous)
        self._documents[document["_id"]] = document
        for index in self._indexes.values():
            index.add(document)
        if self._disk is not None:
            self._disk.put(self.name, document)

    def _delete(self, document: dict) -> None:
        for index in self._indexes.values():
            index.remove(document)
        del self._documents[document["_id"]]
        if self._disk is not None:
            self._disk.delete(self.name, document["_id"])

    async def create_index(self, keys: Any, unique: bool = False, **options: Any) -> str:
        fields = [keys] if isinstance(keys, str) else [field for field, _ in keys]
        name = "_".join(f"{field}_1" for field in fields)
        unsupported = sorted(set(options) - _INDEX_OPTIONS)
        if unsupported:
            raise NotImplementedError(f"the embedded store does not support {unsupported[0]} indexes")
        if unique and len(fields) > 1:
            raise NotImplementedError("the embedded store does not support unique compound indexes")
        existing = self._indexes.get(fields[0])
        if existing is not None and unique and not existing.unique:
            raise NotImplementedError(f"the embedded store cannot add unique to the existing index on {fields[0]}")
        # A compound index serves equality on its first field, as MongoDB's index prefixes do.
        if existing is None:
            index = Index(fields[0], unique)
            for document in self._documents.values():
                index.check(document, document["_id"])
                index.add(document)
            self._indexes[fields[0]] = index
        return name  # TTL is not enforced: the server deletes expired records itself

    async def find_one(self, query: Optional[dict] = None, projection: Optional[dict] = None) -> Optional[dict]:
        document = self._first(query)
        return None if document is None else _project(document, projection)

    def find(self, query: Optional[dict] = None, projection: Optional[dict] = None) -> Cursor:
        return Cursor(self, query or {}, projection)

    async def count_documents(self, query: dict) -> int:
        return sum(1 for _ in self._matching(query))

    async def insert_one(self, document: dict) -> InsertOneResult:
        document.setdefault("_id", ObjectId())
        self._store(_copy(document))
        return InsertOneResult(document["_id"])

    def _upsert(self, query: dict, update: dict) -> dict:
        document = {field: _copy(value) for field, value in query.items()
                    if not field.startswith("$") and not isinstance(value, dict) and "." not in field}
        _apply_update(document, update, inserting=True)
        document.setdefault("_id", ObjectId())
        self._store(document)
        return document

    def _update_first(self, query: dict, update: dict, upsert: bool) -> tuple[Optional[dict], Optional[dict], bool]:
        """(document before, document after, upserted) for the first match."""
        previous = self._first(query)
        if previous is None:
            return (None, self._upsert(query, update), True) if upsert else (None, None, False)
        document = _copy(previous)
        _apply_update(document, update, inserting=False)
        self._store(document, previous)
        return previous, document, False

    async def update_one(self, query: dict, update: dict, upsert: bool = False) -> UpdateResult:
        previous, document, upserted = self._update_first(query, update, upsert)
        if upserted:
            return UpdateResult(0, 0, document["_id"])
        if previous is None:
            return UpdateResult(0, 0)
        return UpdateResult(1, int(previous != document))

    async def update_many(self, query: dict, update: dict) -> UpdateResult:
        matched = list(self._matching(query))
        modified = 0
        for previous in matched:
            document = _copy(previous)
            _apply_update(document, update, inserting=False)
            self._store(document, previous)
            modified += previous != document
        return UpdateResult(len(matched), modified)

    async def find_one_and_update(self, query: dict, update: dict, projection: Optional[dict] = None,
                                  upsert: bool = False, return_document: bool = False) -> Optional[dict]:
        previous, document, _ = self._update_first(query, update, upsert)
        chosen = document if return_document else previous
        return None if chosen is None else _project(chosen, projection)

    async def delete_one(self, query: dict) -> DeleteResult:
        document = self._first(query)
        if document is not None:
            self._delete(document)
        return DeleteResult(int(document is not None))

    async def delete_many(self, query: dict) -> DeleteResult:
        doomed = list(self._matching(query))
        for document in doomed:
            self._delete(document)
        return DeleteResult(len(doomed))


class Database:
    def __init__(self, name: str, disk: Optional[DiskLog] = None):
        self.name = name
        self._disk = disk
        self._collections: dict[str, Collection] = {}
        if disk is not None:
            for collection, documents in disk.load().items():
                self._collections[collection] = Collection(collection, disk, documents)
            disk.collections = self._collections

    def __getitem__(self, name: str) -> Collection:
        if name not in self._collections:
            self._collections[name] = Collection(name, self._disk)
        return self._collections[name]

    async def command(self, name: str) -> dict:
        if name != "ping":
            raise OperationFailure(f"the embedded store does not support the {name} command")
        return {"ok": 1.0}


class EmbeddedClient:
    """What `AsyncIOMotorClient(...)` is to a real server, for the in-process store: in memory, or kept in
    `data_dir` (a folder per database; store.durable)."""

    def __init__(self, data_dir: Optional[str] = None):
        self.data_dir = data_dir
        self._databases: dict[str, Database] = {}
        self._disks: list[DiskLog] = []

    def __getitem__(self, name: str) -> Database:
        if name not in self._databases:
            disk = None
            if self.data_dir:
                disk = DiskLog(Path(self.data_dir) / name)
                self._disks.append(disk)
            self._databases[name] = Database(name, disk)
        return self._databases[name]

    async def drop_database(self, name: str) -> None:
        database = self._databases.pop(name, None)
        if database is not None and database._disk is not None:
            await database._disk.close()
            self._disks.remove(database._disk)
            shutil.rmtree(database._disk.folder, ignore_errors=True)

    async def close(self) -> None:
        for disk in self._disks:
            await disk.close()
        self._disks.clear()
        self._databases.clear()
