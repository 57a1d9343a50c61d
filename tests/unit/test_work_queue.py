"""The in-process work queue (`make run`'s embedded default) keeps the Redis Streams contract
the workers rely on: entries stay pending until acked, a dead consumer's entries can be
reclaimed after they sat idle, and `keep` resets that idle time."""

from __future__ import annotations

import asyncio

from messaging.work_queue import MemoryWorkQueue, QueuedMessage


def _message(outbox_id: int, kind: str = "bill_issued") -> QueuedMessage:
    return QueuedMessage(outbox_id, kind, "sms", "+201000000000", "EEDC", f"body {outbox_id}")


async def test_entries_stay_pending_until_acked_and_are_reclaimed_when_idle() -> None:
    queue = MemoryWorkQueue()
    await queue.add("bulk", [_message(1), _message(2)])
    first = await queue.read("dead-worker", ["bulk"], 10, 0)
    assert [d.message.outbox_id for d in first] == [1, 2]
    assert await queue.read("other", ["bulk"], 10, 0) == []  # delivered once
    assert await queue.backlog() == 2
    assert await queue.reclaim("other", "bulk", 60_000, 10) == []  # not idle long enough
    await asyncio.sleep(0.02)
    taken = await queue.reclaim("other", "bulk", 10, 10)
    assert [d.message.outbox_id for d in taken] == [1, 2]
    await queue.ack(taken[0])
    assert await queue.backlog() == 1
    await queue.keep("other", taken[1])
    assert await queue.reclaim("third", "bulk", 10, 10) == []  # just kept: not idle
    await queue.ack(taken[1])
    assert await queue.backlog() == 0


async def test_lanes_are_read_immediate_first_and_separately() -> None:
    queue = MemoryWorkQueue()
    await queue.add("bulk", [_message(1)])
    await queue.add("immediate", [_message(2, "payment_receipt")])
    quiet = await queue.read("w", ["immediate"], 10, 0)
    assert [d.message.outbox_id for d in quiet] == [2]
    assert await queue.read("w", ["immediate"], 10, 0) == []
    day = await queue.read("w", ["immediate", "bulk"], 10, 0)
    assert [(d.lane, d.message.outbox_id) for d in day] == [("bulk", 1)]


async def test_a_blocked_read_wakes_when_a_message_arrives() -> None:
    queue = MemoryWorkQueue()
    reader = asyncio.create_task(queue.read("w", ["immediate"], 10, 2000))
    await asyncio.sleep(0.01)
    await queue.add("immediate", [_message(7, "payment_receipt")])
    got = await asyncio.wait_for(reader, 1)
    assert [d.message.outbox_id for d in got] == [7]
    assert await queue.read("w", ["immediate"], 10, 20) == []  # times out empty


def test_fields_round_trip() -> None:
    message = QueuedMessage(9, "due_reminder", "whatsapp", "+96650000000", "966920001100", "نص")
    assert QueuedMessage.from_fields(message.fields()) == message
