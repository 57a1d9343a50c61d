"""One complaint's history in the ledger (billing/ledger.py `complaint_history`), on SQLite and
PostgreSQL: every status it reached in order, with when and from where, and the notice that
told the person once per status; and migration 0005, which gives complaints filed before it
their history back from the ledger's own records."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from billing.ledger import Refusal
from billing.migrate import alembic_config
from tasdeed.contract import RefusalReason
from tests.conftest import LedgerWorld, WorldFactory


async def filed_and_moved(world: LedgerWorld, moves: tuple[str, ...]) -> str:
    ticket, _ = await world.ledger.file_complaint(
        category="billing", description="the meter was read wrong", channel="ivr",
        idempotency_key=None, code=world.account(0).code,
    )  # fmt: skip
    for status in moves:
        world.clock.advance(hours=1)
        await world.ledger.set_complaint_status(ticket["ticket_number"], status)
    return str(ticket["ticket_number"])


def timeline(history: dict[str, object]) -> list[tuple[str, str, str, bool]]:
    events = history["events"]
    assert isinstance(events, list)
    return [(e["status"], e["source"], e["at"], e["notice"] is not None) for e in events]


async def test_history_in_order_with_each_status_told_once(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    number = await filed_and_moved(world, ("in_progress", "resolved", "in_progress", "closed"))
    await world.ledger.set_complaint_status(number, "closed")  # no change, no event
    history = await world.ledger.complaint_history(number)
    assert history["ticket_number"] == number and history["status"] == "closed"
    assert history["channel"] == "ivr" and history["sla_seconds_left"] is None
    assert history["payee_masked"] != world.account(0).payee_name
    assert timeline(history) == [
        ("open", "ivr", "2026-11-24T09:00:00Z", True),
        ("in_progress", "operator", "2026-11-24T10:00:00Z", True),
        ("resolved", "operator", "2026-11-24T11:00:00Z", True),
        ("in_progress", "operator", "2026-11-24T12:00:00Z", False),  # reopened: not told again
        ("closed", "operator", "2026-11-24T13:00:00Z", True),
    ]
    with pytest.raises(Refusal) as refused:
        await world.ledger.complaint_history("00000000")
    assert refused.value.reason is RefusalReason.COMPLAINT_UNKNOWN


async def test_migration_gives_older_complaints_their_history(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    moved = await filed_and_moved(world, ("in_progress", "resolved"))
    still_open = await filed_and_moved(world, ())
    before = {n: timeline(await world.ledger.complaint_history(n)) for n in (moved, still_open)}
    config = alembic_config(world.database.url)
    await asyncio.to_thread(command.downgrade, config, "0004")  # no history table
    await asyncio.to_thread(command.upgrade, config, "head")
    after = {n: timeline(await world.ledger.complaint_history(n)) for n in (moved, still_open)}
    assert after == before
    assert [status for status, *_ in after[moved]] == ["open", "in_progress", "resolved"]
