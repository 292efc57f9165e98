"""`/api/health/` says whether MongoDB answers in time."""

import asyncio

import pytest

gen_test = pytest.mark.gen_test


def expected_driver(settings) -> str:
    return settings.MONGO_DRIVER if settings.MONGO_URL else "embedded"


@gen_test
async def test_health_ok(api, settings):
    response = await api.get("/api/health/")
    assert response.status == 200
    assert response.json == {"status": "ok", "store": settings.store_kind, "driver": expected_driver(settings)}


@pytest.mark.settings(MONGO_TIMEOUT=0.2)
@gen_test
async def test_health_degraded_when_mongodb_does_not_answer(api, store, settings, monkeypatch):
    never = asyncio.Event()

    async def hanging_command(*args, **kwargs):
        await never.wait()

    monkeypatch.setattr(store.db, "command", hanging_command)
    response = await api.get("/api/health/")
    assert response.status == 503
    assert response.json == {"status": "degraded", "store": "unavailable", "driver": expected_driver(settings)}
