"""The queries the store relies on behave as MongoDB's do: run against the embedded store by default
and against a real MongoDB with MONGO_URL, these tests keep the two in step."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

gen_test = pytest.mark.gen_test


@pytest.fixture
def scratch(store):
    return store.db["scratch"]


@gen_test
async def test_unique_index_refuses_duplicates_and_keeps_the_first(scratch):
    await scratch.create_index("key", unique=True)
    await scratch.insert_one({"key": "a", "n": 1})
    with pytest.raises(DuplicateKeyError):
        await scratch.insert_one({"key": "a", "n": 2})
    with pytest.raises(DuplicateKeyError):
        await scratch.insert_one({"_id": (await scratch.find_one({"key": "a"}))["_id"], "key": "b"})
    await scratch.insert_one({"key": "b", "n": 3})
    with pytest.raises(DuplicateKeyError):
        await scratch.update_one({"key": "b"}, {"$set": {"key": "a"}})
    assert [doc["n"] async for doc in scratch.find({}, {"_id": 0}).sort("n", 1)] == [1, 3]


@gen_test
async def test_equality_reaches_into_arrays_and_ne_excludes_them(scratch):
    await scratch.create_index([("players.id", 1), ("ended_at", DESCENDING)])
    await scratch.insert_one({"_id": "g1", "players": [{"id": 1}, {"id": 2}], "tags": ["x", "y"]})
    await scratch.insert_one({"_id": "g2", "players": [{"id": 3}], "tags": []})
    assert [doc["_id"] async for doc in scratch.find({"players.id": 2})] == ["g1"]
    assert await scratch.count_documents({"tags": "y"}) == 1
    assert await scratch.count_documents({"tags": {"$ne": "y"}}) == 1
    assert await scratch.count_documents({"missing": None}) == 2


@gen_test
async def test_update_operators(scratch):
    await scratch.insert_one({"_id": "u", "score": 1500, "games": ["a"], "until": 5})
    result = await scratch.update_one({"_id": "u", "games": {"$ne": "b"}},
                                      {"$inc": {"score": 10}, "$push": {"games": {"$each": ["b"], "$slice": -1}},
                                       "$max": {"until": 3}, "$set": {"active": True}})
    assert (result.matched_count, result.modified_count) == (1, 1)
    again = await scratch.update_one({"_id": "u", "games": {"$ne": "b"}}, {"$inc": {"score": 10}})
    assert again.matched_count == 0
    assert await scratch.find_one({"_id": "u"}) == {"_id": "u", "score": 1510, "games": ["b"], "until": 5, "active": True}


@gen_test
async def test_upsert_and_find_one_and_update(scratch):
    first = await scratch.find_one_and_update({"_id": "counter"}, {"$inc": {"value": 1}}, upsert=True,
                                              return_document=ReturnDocument.AFTER)
    second = await scratch.find_one_and_update({"_id": "counter"}, {"$inc": {"value": 1}},
                                               return_document=ReturnDocument.BEFORE)
    assert (first["value"], second["value"]) == (1, 1)
    assert (await scratch.find_one({"_id": "counter"}))["value"] == 2


@gen_test
async def test_projection_sort_limit_and_range_delete(scratch):
    now = datetime.now(timezone.utc)
    for n in range(5):
        await scratch.insert_one({"n": n, "score": n % 3, "expires_at": now + timedelta(seconds=n - 2)})
    top = [doc async for doc in scratch.find({}, {"_id": 0, "n": 1}).sort([("score", -1), ("n", 1)]).limit(3)]
    assert top == [{"n": 2}, {"n": 1}, {"n": 4}]
    assert (await scratch.delete_many({"expires_at": {"$lt": now}})).deleted_count == 2
    assert await scratch.count_documents({}) == 3
    returned = await scratch.find_one({"n": 4})
    returned["n"] = 99  # what a caller changes is its own copy
    assert await scratch.count_documents({"n": 4}) == 1


@gen_test
async def test_projections_return_what_mongodb_returns(scratch):
    await scratch.insert_one({"_id": "a", "x": 1, "y": 2})
    assert await scratch.find_one({"_id": "a"}, {"_id": 1}) == {"_id": "a"}
    assert await scratch.find_one({"_id": "a"}, {"_id": 0}) == {"x": 1, "y": 2}
    assert await scratch.find_one({"_id": "a"}, {"x": 1}) == {"_id": "a", "x": 1}
    assert await scratch.find_one({"_id": "a"}, {"x": 1, "_id": 0}) == {"x": 1}
    assert await scratch.find_one({"_id": "a"}, {"x": 0}) == {"_id": "a", "y": 2}


@gen_test
async def test_datetimes_come_back_at_millisecond_precision_in_utc(scratch):
    moment = datetime(2026, 11, 28, 3, 4, 5, 123456, tzinfo=timezone.utc)
    await scratch.insert_one({"_id": "t", "at": moment, "pair": (1, 2)})
    stored = await scratch.find_one({"_id": "t"})
    assert stored["at"] == moment.replace(microsecond=123000) and stored["at"].utcoffset() == timedelta(0)
    assert stored["pair"] == [1, 2]
    assert await scratch.count_documents({"at": moment}) == 1  # the query value is truncated the same way


async def honoured_or_refused(store, operation, named: str) -> None:
    """MongoDB does it; the embedded store, which does not emulate it, says so instead of differing."""
    if store.kind == "embedded":
        with pytest.raises(NotImplementedError, match=named):
            await operation()
    else:
        await operation()


@pytest.mark.parametrize("keys, options, named", [
    ("a", {"partialFilterExpression": {"a": {"$gt": 1}}}, "partialFilterExpression"),
    ("a", {"sparse": True}, "sparse"),
    ("a", {"collation": {"locale": "en", "strength": 2}}, "collation"),
    ([("a", 1), ("b", 1)], {"unique": True}, "unique compound"),
])
@gen_test
async def test_index_options_the_embedded_store_does_not_emulate(store, scratch, keys, options, named):
    await honoured_or_refused(store, lambda: scratch.create_index(keys, **options), named)


@gen_test
async def test_unique_added_to_an_existing_index_is_refused(store, scratch):
    await scratch.create_index("a")
    if store.kind == "embedded":
        with pytest.raises(NotImplementedError, match="unique"):
            await scratch.create_index("a", unique=True)
    else:
        with pytest.raises(OperationFailure):  # MongoDB: an index on these keys exists with other options
            await scratch.create_index("a", unique=True)


@gen_test
async def test_dotted_projections_and_sorting_by_arrays(store, scratch):
    await scratch.insert_one({"_id": "g", "players": [{"id": 2}, {"id": 1}], "meta": {"n": 1, "m": 2}})
    await scratch.insert_one({"_id": "h", "players": [{"id": 3}], "meta": {"n": 2, "m": 3}})

    async def dotted():
        assert await scratch.find_one({"_id": "g"}, {"meta.n": 1}) == {"_id": "g", "meta": {"n": 1}}

    async def by_array():
        assert [doc["_id"] async for doc in scratch.find({}).sort("players.id", 1)] == ["g", "h"]

    await honoured_or_refused(store, dotted, "dotted projections")
    await honoured_or_refused(store, by_array, "sort by an array")


@gen_test
async def test_the_first_registrations_at_once_each_get_their_own_id(store):
    """Concurrent first upserts of the id counter race (a server may answer a loser with no document):
    every registration still succeeds, with a distinct id (a rolling-restart test met a 500 here)."""
    users = await asyncio.gather(*(store.create_user(f"player{n}", "hash") for n in range(20)))
    assert len({user.id for user in users}) == 20
