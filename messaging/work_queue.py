"""The work queue between the relay and the workers: Redis Streams with a consumer group.

Two lanes: `immediate` (receipts, complaint updates: someone is waiting) and `bulk` (bill
notices, reminders, warnings: they wait out quiet hours and never hold a receipt up). Delivery
is at least once — an entry stays in the group's pending list until acked, and a worker that
dies leaves its entries there for another to reclaim (XAUTOCLAIM) — so the ledger's outbox
state, not the queue, is what stops a message going out twice.

Acked entries are deleted at once: on bill day the backlog, not the history, is what Redis
holds. Without REDIS_URL (`make run`'s embedded default) `MemoryWorkQueue` does the same
inside one process.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from tasdeed.notices.kinds import Channel

Lane = Literal["immediate", "bulk"]
LANES: tuple[Lane, ...] = ("immediate", "bulk")
GROUP = "senders"


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    outbox_id: int
    kind: str
    channel: Channel
    to: str
    sender: str
    body: str

    def fields(self) -> dict[str, str]:
        return {
            "id": str(self.outbox_id),
            "kind": self.kind,
            "channel": self.channel,
            "to": self.to,
            "from": self.sender,
            "body": self.body,
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> QueuedMessage:
        channel: Channel = "whatsapp" if fields["channel"] == "whatsapp" else "sms"
        return cls(
            outbox_id=int(fields["id"]),
            kind=fields["kind"],
            channel=channel,
            to=fields["to"],
            sender=fields["from"],
            body=fields["body"],
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One queue entry handed to one consumer."""

    lane: Lane
    entry_id: str
    message: QueuedMessage


class WorkQueue(Protocol):
    async def add(self, lane: Lane, messages: Sequence[QueuedMessage]) -> None: ...

    async def read(
        self, consumer: str, lanes: Sequence[Lane], count: int, block_ms: int
    ) -> list[Delivery]: ...

    async def reclaim(
        self, consumer: str, lane: Lane, min_idle_ms: int, count: int
    ) -> list[Delivery]: ...

    async def keep(self, consumer: str, delivery: Delivery) -> None:
        """Tell the group this consumer is still on it (resets the entry's idle time)."""

    async def ack(self, delivery: Delivery) -> None: ...

    async def backlog(self) -> int:
        """Entries not yet acked, over both lanes."""

    async def close(self) -> None: ...


class RedisWorkQueue:
    def __init__(self, redis: aioredis.Redis, prefix: str):
        self.redis = redis
        self.streams: dict[Lane, str] = {lane: f"{prefix}notices:{lane}" for lane in LANES}
        self._lane_of = {name: lane for lane, name in self.streams.items()}
        self.groups_ready = False

    @classmethod
    def from_url(cls, url: str, prefix: str, max_connections: int = 64) -> RedisWorkQueue:
        # A blocking pool: a worker's batch of concurrent sends waits for a connection
        # instead of failing with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=30, decode_responses=True
        )
        return cls(aioredis.Redis(connection_pool=pool), prefix)

    async def ensure_groups(self) -> None:
        if self.groups_ready:
            return
        for stream in self.streams.values():
            try:
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        self.groups_ready = True

    async def add(self, lane: Lane, messages: Sequence[QueuedMessage]) -> None:
        await self.ensure_groups()
        stream = self.streams[lane]
        async with self.redis.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.xadd(stream, message.fields())  # type: ignore[arg-type]
            await pipe.execute()

    def _deliveries(
        self, lane: Lane, entries: Sequence[tuple[str, dict[str, str]]]
    ) -> list[Delivery]:
        return [
            Delivery(lane, entry_id, QueuedMessage.from_fields(fields))
            for entry_id, fields in entries
            if fields  # an entry deleted while pending comes back empty
        ]

    async def read(
        self, consumer: str, lanes: Sequence[Lane], count: int, block_ms: int
    ) -> list[Delivery]:
        await self.ensure_groups()
        streams = {self.streams[lane]: ">" for lane in lanes}
        answer = await self.redis.xreadgroup(
            GROUP,
            consumer,
            streams,  # type: ignore[arg-type]
            count=count,
            block=block_ms or None,
        )
        # RESP2 (redis-py's default): [[stream, [(id, fields), ...]], ...]
        read = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], answer or [])
        deliveries: list[Delivery] = []
        for stream, entries in read:
            deliveries += self._deliveries(self._lane_of[stream], entries)
        return deliveries

    async def reclaim(
        self, consumer: str, lane: Lane, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        await self.ensure_groups()
        stream = self.streams[lane]
        answer = await self.redis.xautoclaim(
            stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        claimed, deleted = answer[1], (answer[2] if len(answer) > 2 else [])
        if deleted:  # entries deleted while pending: nothing left to do for them
            await self.redis.xack(stream, GROUP, *deleted)
        return self._deliveries(lane, claimed)

    async def keep(self, consumer: str, delivery: Delivery) -> None:
        await self.redis.xclaim(
            self.streams[delivery.lane],
            GROUP,
            consumer,
            min_idle_time=0,
            message_ids=[delivery.entry_id],
            justid=True,
        )

    async def ack(self, delivery: Delivery) -> None:
        stream = self.streams[delivery.lane]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, delivery.entry_id)
            pipe.xdel(stream, delivery.entry_id)
            await pipe.execute()

    async def backlog(self) -> int:
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self.streams.values():
                pipe.xlen(stream)
            lengths = await pipe.execute()
        return int(sum(lengths))

    async def close(self) -> None:
        await self.redis.aclose()


@dataclass
class _Pending:
    consumer: str
    since: float
    delivery: Delivery


class MemoryWorkQueue:
    """The same contract inside one process (embedded default; nothing survives a restart,
    which the outbox covers: rows still 'new' or 'queued' are relayed again)."""

    def __init__(self) -> None:
        self._waiting: dict[Lane, OrderedDict[str, QueuedMessage]] = {
            lane: OrderedDict() for lane in LANES
        }
        self._pending: dict[Lane, dict[str, _Pending]] = {lane: {} for lane in LANES}
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    async def add(self, lane: Lane, messages: Sequence[QueuedMessage]) -> None:
        for message in messages:
            self._waiting[lane][f"{next(self._ids)}-0"] = message
        self._arrived.set()

    def _take(self, consumer: str, lanes: Sequence[Lane], count: int) -> list[Delivery]:
        taken: list[Delivery] = []
        for lane in lanes:
            waiting = self._waiting[lane]
            while waiting and len(taken) < count:
                entry_id, message = waiting.popitem(last=False)
                delivery = Delivery(lane, entry_id, message)
                self._pending[lane][entry_id] = _Pending(consumer, time.monotonic(), delivery)
                taken.append(delivery)
        return taken

    async def read(
        self, consumer: str, lanes: Sequence[Lane], count: int, block_ms: int
    ) -> list[Delivery]:
        taken = self._take(consumer, lanes, count)
        if taken or not block_ms:
            return taken
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), block_ms / 1000)
        except TimeoutError:
            return []
        return self._take(consumer, lanes, count)

    async def reclaim(
        self, consumer: str, lane: Lane, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        now = time.monotonic()
        claimed: list[Delivery] = []
        for pending in self._pending[lane].values():
            if len(claimed) >= count:
                break
            if (now - pending.since) * 1000 >= min_idle_ms:
                pending.consumer, pending.since = consumer, now
                claimed.append(pending.delivery)
        return claimed

    async def keep(self, consumer: str, delivery: Delivery) -> None:
        pending = self._pending[delivery.lane].get(delivery.entry_id)
        if pending is not None:
            pending.consumer, pending.since = consumer, time.monotonic()

    async def ack(self, delivery: Delivery) -> None:
        self._pending[delivery.lane].pop(delivery.entry_id, None)

    async def backlog(self) -> int:
        return sum(len(self._waiting[lane]) + len(self._pending[lane]) for lane in LANES)

    async def close(self) -> None:
        return None


def create_work_queue(redis_url: str, prefix: str) -> WorkQueue:
    if redis_url:
        return RedisWorkQueue.from_url(redis_url, prefix)
    return MemoryWorkQueue()
