"""The provider's rate limit, shared by every worker: a token bucket in Redis (one Lua call
per message, Redis's own clock, so workers on several machines agree), or in memory."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import redis.asyncio as aioredis

# KEYS[1] bucket; ARGV rate per second, burst. Returns 0 when a token was taken, else the
# milliseconds until one will be there.
_TAKE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now_ms
tokens = math.min(burst, tokens + (now_ms - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now_ms)
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
"""


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


class RedisRateLimiter:
    def __init__(self, redis: aioredis.Redis, key: str, rate_per_s: float):
        self.redis, self.key, self.rate = redis, key, rate_per_s
        self.burst = max(1.0, rate_per_s / 10)  # a tenth of a second's worth at once
        self._take = redis.register_script(_TAKE)
        # One caller per process at a time: a batch's sends queue here, not on Redis.
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                wait_ms = int(await self._take(keys=[self.key], args=[self.rate, self.burst]))
                if wait_ms <= 0:
                    return
                await asyncio.sleep(wait_ms / 1000)


class MemoryRateLimiter:
    def __init__(self, rate_per_s: float):
        self.rate = rate_per_s
        self.burst = max(1.0, rate_per_s / 10)
        self.tokens = self.burst
        self.at = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)
