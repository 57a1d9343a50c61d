"""Short-lived conversation state: dialogue position, resume records, locks.

Redis in production; an in-process store as the embedded default. Nothing here is the only
copy of anything that matters for money: payments, keys and receipts live in the billing
ledger, so a lost key here costs a person a screen, never a double charge.

Live sessions: the hop that opens a session calls `mark_live(channel, key)` once, which puts
the session record's key in that channel's index (a Redis sorted set scored by the time the
key joined, capped at LIVE_INDEX_MAX entries: one round trip). Later hops cost nothing more.
`live_records` reads the newest entries with their records (one MGET) and skips entries whose
record has expired or was deleted, so the operator view lists live sessions without scanning
the keyspace.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import redis.asyncio as aioredis
from redis.exceptions import LockNotOwnedError

CLAIM_POLL_S = 0.005
# Entries kept per live-session index: the newest sessions started. At a hundred new
# sessions a second that is well over a minute of them, far more than anyone reads.
LIVE_INDEX_MAX = 10_000
# An entry whose record is missing leaves the index once it is this old (a younger one may
# belong to a hop whose writes have not landed yet), or when it is older than the horizon.
LIVE_GRACE_S = 60.0
LIVE_HORIZON_S = 2 * 3600.0


@dataclass(frozen=True)
class LiveRecord:
    """A live session's record, with the wall-clock time (epoch seconds) its key joined the
    index: when the session started."""

    key: str
    started: float
    value: dict[str, Any]


@dataclass
class Held:
    """Records read under a lock, and the writes that land when the lock is let go.

    A hop reads everything it needs when it takes the lock and writes everything when it lets
    go, so a Redis store spends two round trips on a hop instead of one per record; the
    writes land together or (when the lock was lost) not at all."""

    values: dict[str, dict[str, Any] | None]
    writes: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)

    def get(self, key: str) -> dict[str, Any] | None:
        if key in self.deletes:
            return None
        if key in self.writes:
            return self.writes[key][0]
        return self.values.get(key)

    def put(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self.deletes.discard(key)
        self.writes[key] = (value, ttl_s)

    def drop(self, key: str) -> None:
        self.writes.pop(key, None)
        self.deletes.add(key)


class StateStore(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None: ...

    async def mark_live(self, index: str, key: str) -> None:
        """`key` (a session's record) joins a live-session index (a channel), stamped now
        unless it is already there. Once per session, on the hop that opens it."""
        ...

    async def live_records(self, index: str, limit: int) -> list[LiveRecord]:
        """Up to `limit` entries of a live-session index whose record still exists, the
        newest sessions first, with their records."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires `ttl_s` after it was first counted; atomic."""
        ...

    def lock(self, key: str, timeout_s: float = 10.0) -> Any: ...

    def claim(self, lock: str, keys: Sequence[str], timeout_s: float = 10.0) -> Any:
        """`async with store.claim(lock, keys) as held`: wait for the lock (TimeoutError after
        `timeout_s`), read `keys`; on a clean exit apply `held`'s writes and let go, in one
        step; on an exception let go and write nothing. Raises LockNotOwnedError (writing
        nothing) when the lock expired meanwhile."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """Process-local store with expiry; for `make run` and one gateway process."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Per index, key -> time it joined, oldest first (dicts keep insertion order).
        self._live: dict[str, dict[str, float]] = {}

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

    async def mark_live(self, index: str, key: str) -> None:
        entries = self._live.setdefault(index, {})
        entries.setdefault(key, time.time())
        if len(entries) > LIVE_INDEX_MAX:
            del entries[next(iter(entries))]

    async def live_records(self, index: str, limit: int) -> list[LiveRecord]:
        entries = self._live.get(index, {})
        now = time.time()
        found: list[LiveRecord] = []
        for key, started in reversed(list(entries.items())):
            value = await self.get(key)
            if value is None:
                if started < now - LIVE_GRACE_S:
                    del entries[key]
            elif len(found) < limit:
                found.append(LiveRecord(key, started, value))
        return found

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

    @asynccontextmanager
    async def claim(
        self, lock: str, keys: Sequence[str], timeout_s: float = 10.0
    ) -> AsyncIterator[Held]:
        async with self.lock(lock, timeout_s):
            held = Held({key: await self.get(key) for key in keys})
            yield held
            for key, (value, ttl_s) in held.writes.items():
                await self.set(key, value, ttl_s)
            for key in held.deletes:
                await self.delete(key)

    async def close(self) -> None:
        self._data.clear()
        self._live.clear()


# Take the lock and read the keys in one round trip. KEYS[1] the lock, KEYS[2..] to read;
# ARGV: token, lock lifetime in ms. Replies {0} while someone else holds the lock.
CLAIM_SCRIPT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local out = {1}
for i = 2, #KEYS do out[i] = redis.call('GET', KEYS[i]) end
return out
"""

# Write, delete and let go in one round trip, only while still holding the lock. KEYS[1] the
# lock, then ARGV[2] keys to set (values and TTLs in ARGV[3..]), then the keys to delete.
COMMIT_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local writes = tonumber(ARGV[2])
for i = 1, writes do
  redis.call('SET', KEYS[1 + i], ARGV[1 + 2 * i], 'EX', ARGV[2 + 2 * i])
end
for i = 2 + writes, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[1])
return 1
"""

RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    """Redis-backed store; JSON values with TTLs, and Redis locks that expire by themselves.

    `claim` uses its own short Lua scripts rather than redis-py's Lock so that taking the
    lock reads the hop's records and letting go writes them (two round trips a hop). The keys
    of one claim must live on one node (no Redis Cluster slots are assumed here)."""

    def __init__(self, url: str, prefix: str = "tasdeed:", max_connections: int = 64):
        # A blocking pool: under a burst, hops wait briefly for a connection instead of
        # failing with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=5, decode_responses=True
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = prefix
        self._claim = self.redis.register_script(CLAIM_SCRIPT)
        self._commit = self.redis.register_script(COMMIT_SCRIPT)
        self._release = self.redis.register_script(RELEASE_SCRIPT)

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.prefix + key)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        await self.redis.set(self.prefix + key, json.dumps(value, ensure_ascii=False), ex=ttl_s)

    def _live_index(self, index: str) -> str:
        return f"{self.prefix}live:{index}"

    async def mark_live(self, index: str, key: str) -> None:
        # One round trip: the entry (NX: a session keeps its start) and the cap, which drops
        # the oldest entries (amortised: about one per new entry).
        name = self._live_index(index)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(name, {key: time.time()}, nx=True)
            pipe.zremrangebyrank(name, 0, -LIVE_INDEX_MAX - 1)
            await pipe.execute()

    async def live_records(self, index: str, limit: int) -> list[LiveRecord]:
        name = self._live_index(index)
        now = time.time()
        # A few more than asked: some of the newest sessions may have ended already.
        entries = cast(
            list[tuple[str, float]],
            await self.redis.zrevrange(name, 0, limit * 2 + 19, withscores=True),
        )
        if not entries:
            return []
        raws = await self.redis.mget([self.prefix + key for key, _ in entries])
        found: list[LiveRecord] = []
        gone: list[str] = []
        for (key, started), raw in zip(entries, raws, strict=True):
            if raw is None:
                if started < now - LIVE_GRACE_S:
                    gone.append(key)
            elif len(found) < limit:
                found.append(LiveRecord(key, float(started), json.loads(raw)))
        async with self.redis.pipeline(transaction=False) as pipe:
            if gone:
                pipe.zrem(name, *gone)
            pipe.zremrangebyscore(name, "-inf", now - LIVE_HORIZON_S)
            await pipe.execute()
        return found

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

    @asynccontextmanager
    async def claim(
        self, lock: str, keys: Sequence[str], timeout_s: float = 10.0
    ) -> AsyncIterator[Held]:
        lock_key = self.prefix + "lock:" + lock
        token = uuid.uuid4().hex
        full_keys = [lock_key, *(self.prefix + key for key in keys)]
        deadline = time.monotonic() + timeout_s
        while True:
            reply = await self._claim(keys=full_keys, args=[token, int(timeout_s * 1000)])
            if reply[0] == 1:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(f"lock {lock} held for {timeout_s} s")
            await asyncio.sleep(CLAIM_POLL_S)
        raws = list(reply[1:]) + [None] * (len(keys) - len(reply) + 1)
        held = Held(
            {
                key: None if raw is None else json.loads(raw)
                for key, raw in zip(keys, raws, strict=True)
            }
        )
        try:
            yield held
        except BaseException:
            await self._release(keys=[lock_key], args=[token])
            raise
        writes = list(held.writes.items())
        commit_keys = [
            lock_key,
            *(self.prefix + key for key, _ in writes),
            *(self.prefix + key for key in held.deletes),
        ]
        args: list[Any] = [token, len(writes)]
        for _, (value, ttl_s) in writes:
            args += [json.dumps(value, ensure_ascii=False), ttl_s]
        if not await self._commit(keys=commit_keys, args=args):
            raise LockNotOwnedError(f"lock {lock} expired before its writes landed")

    async def close(self) -> None:
        await self.redis.aclose()


def create_store(redis_url: str, prefix: str = "tasdeed:") -> StateStore:
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
