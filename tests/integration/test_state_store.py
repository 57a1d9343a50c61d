"""The state store's claim: read under a lock, write everything on letting go, nothing on a
failure or a lost lock; the same behaviour in-process and on a real Redis (127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import LockNotOwnedError

from tasdeed.state_store import MemoryStore, RedisStore, StateStore

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    made: StateStore = (
        MemoryStore()
        if request.param == "memory"
        else RedisStore(REDIS_URL, prefix=f"test-store:{uuid.uuid4().hex[:8]}:")
    )
    yield made
    await made.close()


async def test_claim_reads_and_writes_on_release(store: StateStore) -> None:
    await store.set("a", {"n": 1}, 60)
    await store.set("gone", {"n": 2}, 60)
    async with store.claim("L", ["a", "b", "gone"]) as held:
        assert held.get("a") == {"n": 1}
        assert held.get("b") is None
        held.put("b", {"n": 3}, 60)
        held.drop("gone")
        assert held.get("b") == {"n": 3}
        assert held.get("gone") is None
        assert await store.get("b") is None  # nothing lands before letting go
    assert await store.get("b") == {"n": 3}
    assert await store.get("gone") is None
    assert await store.get("a") == {"n": 1}


async def test_claim_writes_nothing_when_the_hop_fails(store: StateStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.claim("L", ["a"]) as held:
            held.put("a", {"n": 1}, 60)
            raise RuntimeError("billing fell over")
    assert await store.get("a") is None
    async with store.claim("L", ["a"], timeout_s=1) as held:  # and the lock was let go
        assert held.get("a") is None


async def test_claims_on_one_lock_take_turns(store: StateStore) -> None:
    order: list[str] = []

    async def hop(name: str) -> None:
        async with store.claim("L", ["count"]) as held:
            count = (held.get("count") or {"n": 0})["n"]
            order.append(f"{name} in")
            await asyncio.sleep(0.02)
            order.append(f"{name} out")
            held.put("count", {"n": count + 1}, 60)

    await asyncio.gather(*(hop(str(i)) for i in range(5)))
    assert await store.get("count") == {"n": 5}  # no lost update
    assert all(order[i].split()[0] == order[i + 1].split()[0] for i in range(0, 10, 2))


async def test_waiting_for_a_held_lock_times_out(store: StateStore) -> None:
    async with store.claim("L", []):
        with pytest.raises(TimeoutError):
            async with store.claim("L", [], timeout_s=0.1):
                pass


async def test_writes_never_land_after_the_lock_expired() -> None:
    store = RedisStore(REDIS_URL, prefix=f"test-store:{uuid.uuid4().hex[:8]}:")
    try:
        with pytest.raises(LockNotOwnedError):
            async with store.claim("L", ["a"], timeout_s=0.05) as held:
                held.put("a", {"n": 1}, 60)
                await asyncio.sleep(0.1)  # the lock expires; someone else may hold it now
        assert await store.get("a") is None
    finally:
        await store.close()
