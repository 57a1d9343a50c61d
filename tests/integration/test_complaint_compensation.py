"""Saudi billing complaints under the guaranteed standard, on real SQLite and PostgreSQL
ledgers: the deadline is 10 working days (not 240 calendar hours), the follow-up answer says
that day, and a complaint still open after it (or answered after it) is credited 100 SAR once
by the notices sweep, however many sweeps run, concurrently or again, with one SMS notice.
A complaint answered in time earns nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from billing.app import create_app
from billing.models import Account, Credit, OutboxMessage, ServiceEvent
from billing.notices import NoticeOutbox
from tasdeed.billing_client import BillingClient, Timeouts
from tasdeed.money import Money
from tests.conftest import LedgerWorld, WorldFactory

# The tests' clock starts on Tuesday 24 November 2026, 09:00 UTC (12:00 in Riyadh). Ten
# working days (Sunday to Thursday) after it is Tuesday 8 December; the standard first counts
# the complaint late at the midnight that begins Wednesday 9 December in Riyadh (21:00 UTC).
DUE_DATE = "2026-12-08"
LATE_AT = datetime(2026, 12, 8, 21, 0)
BILLING_COMPLAINT = {
    "category": "billing",
    "description": "الفاتورة أعلى من المعتاد",
    "channel": "ussd",
}
STANDARD = {"name": "billing_complaint", "working_days": 10, "amount_minor": 10000}


def outbox_of(world: LedgerWorld) -> NoticeOutbox:
    return NoticeOutbox(world.sessions, world.profile, world.clock)


async def file_billing_complaint(world: LedgerWorld, index: int = 0, key: str = "c-1") -> str:
    ticket, _ = await world.ledger.file_complaint(
        **BILLING_COMPLAINT, idempotency_key=key, code=world.account(index).code
    )
    return str(ticket["ticket_number"])


async def credit_of(world: LedgerWorld, index: int = 0) -> int:
    return int((await world.ledger.balance(code=world.account(index).code))["credit_minor"])


async def credits_for(world: LedgerWorld, ticket: str) -> list[Credit]:
    async with world.sessions() as s:
        query = select(Credit).where(Credit.credit_key == f"billing_complaint|complaint:{ticket}")
        return list((await s.scalars(query)).all())


async def notices(world: LedgerWorld, kind: str) -> list[OutboxMessage]:
    async with world.sessions() as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list((await s.scalars(query.order_by(OutboxMessage.id))).all())


async def test_a_saudi_billing_complaint_is_due_in_ten_working_days(
    make_world: WorldFactory,
) -> None:
    world = await make_world("sa")
    ticket = await file_billing_complaint(world)
    view = await world.ledger.complaint(ticket)
    assert view["due_date"] == DUE_DATE
    assert view["sla_due_at"] == LATE_AT.isoformat() + "Z"
    assert view["standard"] == {**STANDARD, "currency": "SAR"}
    # The complaint is a service event of the standard, as outages are.
    async with world.sessions() as s:
        event = await s.scalar(
            select(ServiceEvent).where(ServiceEvent.event_id == f"complaint:{ticket}")
        )
    assert event is not None and event.kind == "billing_complaint" and event.ended_at is None
    # The weekend after the due date is not late yet (the standard counts working days).
    world.clock.current = LATE_AT - timedelta(seconds=1)
    assert (await world.ledger.complaint(ticket))["sla_breached"] is False
    world.clock.current = LATE_AT + timedelta(seconds=1)
    assert (await world.ledger.complaint(ticket))["sla_breached"] is True
    # Other categories keep the profile's hours; other profiles are not under the standard.
    outage, _ = await world.ledger.file_complaint(
        **{**BILLING_COMPLAINT, "category": "outage"},
        idempotency_key="c-2",
        code=world.account(1).code,
    )
    assert outage["standard"] is None
    assert outage["sla_due_at"] == (world.clock() + timedelta(hours=6)).isoformat() + "Z"
    egypt = await make_world("eg")
    egyptian, _ = await egypt.ledger.file_complaint(
        **BILLING_COMPLAINT, idempotency_key="c-3", code=egypt.account(0).code
    )
    assert egyptian["standard"] is None
    assert egyptian["sla_due_at"] == (egypt.clock() + timedelta(hours=240)).isoformat() + "Z"


async def test_a_late_billing_complaint_is_credited_once_with_one_notice(
    make_world: WorldFactory,
) -> None:
    world = await make_world("sa")
    before = await credit_of(world, 1)
    ticket = await file_billing_complaint(world, 1)
    sweeper = outbox_of(world)
    world.clock.current = LATE_AT - timedelta(seconds=1)
    assert (await sweeper.sweep())["created"]["complaint_compensation"] == 0
    assert await credits_for(world, ticket) == []

    world.clock.current = LATE_AT + timedelta(hours=1)
    # Workers sweeping at once, then again: one credit, one notice, whoever wins.
    swept = await asyncio.gather(*(outbox_of(world).sweep() for _ in range(4)))
    again = await sweeper.sweep()
    assert sorted(s["created"]["complaint_compensation"] for s in swept) == [0, 0, 0, 1]
    assert again["created"]["complaint_compensation"] == 0
    [credit] = await credits_for(world, ticket)
    assert credit.standard == "billing_complaint" and credit.amount_minor == 10000
    assert await credit_of(world, 1) == before + 10000
    [notice] = await notices(world, "complaint_compensation")
    assert notice.dedupe_key == f"credit:{credit.id}" and notice.campaign == "credits"
    assert notice.payload == {
        "amount_minor": 10000,
        "standard": "billing_complaint",
        "ticket_number": ticket,
        "due_date": DUE_DATE,
    }
    # The compensation notice says it is late: no second "your complaint is late" message.
    assert await notices(world, "complaint_sla_breach") == []
    # Asking about compensation names it, and credits nothing more.
    answer = await world.ledger.rule_answer("compensation", world.account(1).code)
    assert any(r["key"] == "rules.sa.billing_complaint" for r in answer["reasons"])
    assert await credit_of(world, 1) == before + 10000
    # Answered at last, reopened, answered again: still one credit.
    await world.ledger.set_complaint_status(ticket, "resolved")
    await world.ledger.set_complaint_status(ticket, "in_progress")
    await world.ledger.set_complaint_status(ticket, "closed")
    world.clock.advance(days=30)
    assert (await sweeper.sweep())["created"]["complaint_compensation"] == 0
    assert len(await credits_for(world, ticket)) == 1
    assert await credit_of(world, 1) == before + 10000


async def test_a_complaint_answered_in_time_earns_nothing(make_world: WorldFactory) -> None:
    world = await make_world("sa")
    before = await credit_of(world, 1)
    ticket = await file_billing_complaint(world, 1)
    world.clock.current = datetime(2026, 12, 8, 14, 0)  # the due date, 17:00 in Riyadh
    await world.ledger.set_complaint_status(ticket, "resolved")
    async with world.sessions() as s:
        event = await s.scalar(
            select(ServiceEvent).where(ServiceEvent.event_id == f"complaint:{ticket}")
        )
    assert event is not None and event.ended_at == world.clock()
    world.clock.advance(days=60)
    assert (await outbox_of(world).sweep())["created"]["complaint_compensation"] == 0
    await world.ledger.rule_answer("compensation", world.account(1).code)
    assert await credits_for(world, ticket) == []
    assert await credit_of(world, 1) == before
    assert await notices(world, "complaint_compensation") == []


async def test_a_complaint_answered_after_its_due_date_is_credited(
    make_world: WorldFactory,
) -> None:
    world = await make_world("sa")
    before = await credit_of(world, 1)
    ticket = await file_billing_complaint(world, 1)
    world.clock.current = LATE_AT + timedelta(days=2)  # no sweep ran in between
    await world.ledger.set_complaint_status(ticket, "resolved")
    swept = await outbox_of(world).sweep()
    assert swept["created"]["complaint_compensation"] == 1
    assert len(await credits_for(world, ticket)) == 1
    assert await credit_of(world, 1) == before + 10000
    async with world.sessions() as s:
        total = await s.scalar(
            select(func.sum(Account.credit_minor)).where(
                Account.account_number == world.account(1).account_number
            )
        )
    assert total == before + 10000


@pytest.fixture
async def saudi_backend(make_world: WorldFactory) -> AsyncIterator[tuple[LedgerWorld, str]]:
    world = await make_world("sa")
    server = TestServer(create_app(world.ledger), host="127.0.0.1")
    await server.start_server()
    yield world, str(server.make_url(""))
    await server.close()


async def test_the_follow_up_answer_states_the_standards_deadline(
    saudi_backend: tuple[LedgerWorld, str],
) -> None:
    world, url = saudi_backend
    ticket = await file_billing_complaint(world)
    async with BillingClient(url, timeouts=Timeouts(connect_s=0.5, total_s=2.0)) as client:
        status = await client.complaint_status(ticket)
    assert status.due_date == DUE_DATE
    assert status.standard_working_days == 10
    assert status.standard_compensation == Money(10000, "SAR")
