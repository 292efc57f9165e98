"""`/api/health/` says whether MongoDB answers in time."""

import asyncio

import pytest

gen_test = pytest.mark.gen_test


@gen_test
async def test_health_ok(api, settings):
    response = await api.get("/api/health/")
    assert response.status == 200
    assert response.json == {"status": "ok", "store": settings.store_kind}


@pytest.mark.settings(MONGO_TIMEOUT=0.2)
@gen_test
async def test_health_degraded_when_mongodb_does_not_answer(api, store, settings, monkeypatch):
    never = asyncio.Event()

    async def hanging_command(*args, **kwargs):
        await never.wait()

    monkeypatch.setattr(store.db, "command", hanging_command)
    response = await api.get("/api/health/")
    assert response.status == 503
    assert response.json == {"status": "degraded", "store": settings.store_kind}
