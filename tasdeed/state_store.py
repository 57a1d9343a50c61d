"""Short-lived conversation state: dialogue position, resume records, locks.

Redis in production; an in-process store as the embedded default. Nothing here is the only
copy of anything that matters for money: payments, keys and receipts live in the billing
ledger, so a lost key here costs a person a screen, never a double charge.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis


class StateStore(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires `ttl_s` after it was first counted; atomic."""
        ...

    def lock(self, key: str, timeout_s: float = 10.0) -> Any: ...

    async def close(self) -> None: ...


class MemoryStore:
    """Process-local store with expiry; for `make run` and one gateway process."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, raw = item
        if time.monotonic() >= expires:
            self._data.pop(key, None)
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        if len(self._data) > 50_000:
            self._sweep()
        self._data[key] = (time.monotonic() + ttl_s, json.dumps(value, ensure_ascii=False))

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_s: int) -> int:
        # One event loop, no await in between: atomic for this process.
        now = time.monotonic()
        expires, raw = self._data.get(key, (now + ttl_s, "0"))
        if now >= expires:
            expires, raw = now + ttl_s, "0"
        count = int(raw) + 1
        self._data[key] = (expires, str(count))
        return count

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._data.items() if expires <= now]:
            del self._data[key]
        for key in [k for k, lock in self._locks.items() if not lock.locked()]:
            del self._locks[key]

    @asynccontextmanager
    async def lock(self, key: str, timeout_s: float = 10.0) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with asyncio.timeout(timeout_s):
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def close(self) -> None:
        self._data.clear()


class RedisStore:
    """Redis-backed store; JSON values with TTLs, and Redis locks that expire by themselves."""

    def __init__(self, url: str, prefix: str = "tasdeed:", max_connections: int = 64):
        # A blocking pool: under a burst, hops wait briefly for a connection instead of
        # failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=5, decode_responses=True
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.prefix + key)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        await self.redis.set(self.prefix + key, json.dumps(value, ensure_ascii=False), ex=ttl_s)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def incr(self, key: str, ttl_s: int) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, ttl_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    def lock(self, key: str, timeout_s: float = 10.0) -> Any:
        return self.redis.lock(
            self.prefix + "lock:" + key, timeout=timeout_s, blocking_timeout=timeout_s, sleep=0.01
        )

    async def close(self) -> None:
        await self.redis.aclose()


def create_store(redis_url: str, prefix: str = "tasdeed:") -> StateStore:
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
