"""Outbound notices on the ledger's side (billing/notices.py), against real SQLite and
PostgreSQL ledgers: rows written once by events, campaigns and sweeps; the relay's pending
pages and bulk marks; the workers' claims, sends, failures and the provider's callbacks; and
the core's billing client over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, text, update

from billing.app import create_app
from billing.bulk_seed import BulkMix, seed_bulk_accounts
from billing.ledger import Refusal
from billing.models import Account, Bill, Complaint, Credit, OutboxMessage, PaymentCode
from billing.notices import NoticeOutbox, normalise_phone
from tasdeed.billing_client import (
    BillingClient,
    BillingRefused,
    QueuedNotice,
    SuppressedNotice,
    Timeouts,
)
from tasdeed.contract import RefusalReason
from tests.conftest import LedgerWorld, WorldFactory

ONE_UNPAID, ARREARS, ALL_PAID, ENGLISH = 0, 1, 2, 3
CYCLE = "2026-10"  # the newest month of demo bills (the clock starts on 2026-11-24)
FAST = Timeouts(connect_s=0.5, total_s=2.0)


# ---- helpers ---------------------------------------------------------------------------


def outbox_of(world: LedgerWorld) -> NoticeOutbox:
    return NoticeOutbox(world.sessions, world.profile, world.clock)


async def refused(coro: Awaitable[Any]) -> Refusal:
    with pytest.raises(Refusal) as info:
        await coro
    return info.value


async def rows(world: LedgerWorld, **where: Any) -> list[OutboxMessage]:
    async with world.sessions() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list((await s.scalars(query)).all())


async def row(world: LedgerWorld, outbox_id: int) -> OutboxMessage:
    async with world.sessions() as s:
        found = await s.get(OutboxMessage, outbox_id)
        assert found is not None
        return found


async def account_id(world: LedgerWorld, index: int) -> int:
    async with world.sessions() as s:
        found = await s.scalar(
            select(Account.id).where(Account.account_number == world.account(index).account_number)
        )
        assert found is not None
        return int(found)


async def phone_of(world: LedgerWorld, index: int) -> str:
    async with world.sessions() as s:
        phone = await s.scalar(
            select(Account.phone).where(Account.id == await account_id(world, index))
        )
        assert phone is not None
        return str(phone)


async def set_phone(world: LedgerWorld, index: int, phone: str | None) -> None:
    target = await account_id(world, index)
    async with world.sessions() as s, s.begin():
        await s.execute(update(Account).where(Account.id == target).values(phone=phone))


async def receipt_row(world: LedgerWorld, index: int = ARREARS) -> tuple[OutboxMessage, str]:
    """Pay an account's bills: its receipt notice (new, campaign receipts) and the phone."""
    quote = await world.ledger.quote(world.account(index).code, channel="ussd")
    receipt, _ = await world.ledger.confirm(quote["quote_id"], f"pay-{index}")
    [notice] = await rows(world, dedupe_key=f"receipt:{receipt['receipt_number']}")
    return notice, await phone_of(world, index)


async def queued_row(
    world: LedgerWorld, notices: NoticeOutbox, channel: str = "sms", index: int = ARREARS
) -> int:
    notice, _phone = await receipt_row(world, index)
    marked = await notices.mark_queued([(notice.id, channel, 1)], [])
    assert marked == {"queued": 1, "suppressed": 0}
    return notice.id


async def sent_row(
    world: LedgerWorld, notices: NoticeOutbox, sid: str, index: int = ARREARS
) -> int:
    outbox_id = await queued_row(world, notices, index=index)
    assert (await notices.claim(outbox_id, worker="w1"))["decision"] == "send"
    assert await notices.sent(outbox_id, sid, "queued") == {"state": "sent", "changed": True}
    return outbox_id


@pytest.fixture
async def backend(make_world: WorldFactory) -> AsyncIterator[tuple[LedgerWorld, str]]:
    world = await make_world("eg")
    server = TestServer(create_app(world.ledger), host="127.0.0.1")
    await server.start_server()
    yield world, str(server.make_url(""))
    await server.close()


# ---- rows written by events --------------------------------------------------------------


async def test_payment_receipt_row_has_its_dedupe_key(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notice, _phone = await receipt_row(world)
    assert notice.kind == "payment_receipt" and notice.campaign == "receipts"
    assert notice.state == "new" and notice.attempts == 0
    assert notice.dedupe_key == f"receipt:{notice.payload['receipt_number']}"
    # A confirm replayed under the same key returns the receipt and writes nothing more.
    await world.ledger.confirm(str(notice.payload["quote_id"]), f"pay-{ARREARS}")
    assert len(await rows(world, kind="payment_receipt")) == 1


async def test_complaint_filed_and_moved_on_notify_once_per_status(
    make_world: WorldFactory,
) -> None:
    world = await make_world("sa")
    filing = {
        "category": "billing",
        "description": "الفاتورة أعلى من المعتاد",
        "channel": "whatsapp",
        "idempotency_key": "msg-SM1",
        "code": world.account(ONE_UNPAID).code,
    }
    ticket, _ = await world.ledger.file_complaint(**filing)
    await world.ledger.file_complaint(**filing)  # a retried message: the same ticket
    number = ticket["ticket_number"]
    [opened] = await rows(world, kind="complaint_update")
    assert opened.dedupe_key == f"complaint:{number}:open" and opened.campaign == "complaints"
    assert opened.payload == {"ticket_number": number, "status": "open", "category": "billing"}

    first = await world.ledger.set_complaint_status(number, "in_progress")
    again = await world.ledger.set_complaint_status(number, "in_progress")
    assert first["status"] == "in_progress" and first["changed"] is True
    assert again["changed"] is False
    world.clock.advance(hours=1)
    resolved = await world.ledger.set_complaint_status(number, "resolved")
    assert resolved["changed"] is True
    world.clock.advance(hours=1)
    await world.ledger.set_complaint_status(number, "closed")
    updates = await rows(world, kind="complaint_update")
    assert [(u.payload["status"], u.dedupe_key) for u in updates] == [
        ("open", f"complaint:{number}:open"),
        ("in_progress", f"complaint:{number}:in_progress"),
        ("resolved", f"complaint:{number}:resolved"),
        ("closed", f"complaint:{number}:closed"),
    ]
    async with world.sessions() as s:
        complaint = await s.scalar(select(Complaint).where(Complaint.ticket_number == number))
    assert complaint is not None and complaint.status == "closed"
    # Resolved one hour after filing; closing later keeps the time it was resolved.
    assert complaint.resolved_at == complaint.created_at + timedelta(hours=1)
    # A closed complaint's SLA clock has stopped (a Saudi billing complaint's is 10 working
    # days: a month is well past it).
    world.clock.advance(days=30)
    assert (await world.ledger.complaint(number))["sla_breached"] is False

    unknown = await refused(world.ledger.set_complaint_status("99999999", "resolved"))
    assert unknown.reason is RefusalReason.COMPLAINT_UNKNOWN and unknown.status == 404
    bad = await refused(world.ledger.set_complaint_status(number, "open"))
    assert bad.reason is RefusalReason.INVALID_REQUEST and bad.status == 422


async def test_compensation_credit_notifies_once(make_world: WorldFactory) -> None:
    world = await make_world("sa")
    special_needs = world.account(3)
    await world.ledger.record_event(
        account_number=special_needs.account_number,
        event_id="DISC-1",
        kind="disconnection",
        started_at=datetime(2026, 11, 10, 7, 0),
        ended_at=None,
        details={"for_non_payment": True},
    )
    # Asking about compensation afterwards recomputes it but credits (and notifies) nothing new.
    await world.ledger.rule_answer("compensation", special_needs.code)
    async with world.sessions() as s:
        credits = (
            await s.scalars(select(Credit).where(Credit.account_id == await account_id(world, 3)))
        ).all()
    [credit] = credits
    [notice] = await rows(world, kind="compensation_credited")
    assert notice.dedupe_key == f"credit:{credit.id}" and notice.campaign == "credits"
    assert notice.payload == {"amount_minor": 50000, "standard": credit.standard}
    assert notice.account_id == credit.account_id


# ---- campaigns and sweeps ------------------------------------------------------------------


async def test_bill_cycle_writes_once_skipping_paid_bills_and_phoneless_accounts(
    backend: tuple[LedgerWorld, str],
) -> None:
    world, url = backend
    await set_phone(world, ENGLISH, None)
    expected = {
        await account_id(world, index)
        for index, demo in enumerate(world.accounts)
        if demo.unpaid_bills > 0 and index != ENGLISH
    }
    assert await account_id(world, ALL_PAID) not in expected  # nothing unpaid: no notice
    async with BillingClient(url, timeouts=FAST) as client:
        first = await client.issue_bill_cycle(CYCLE)
        second = await client.issue_bill_cycle(CYCLE)
    assert first.campaign == f"bill:{CYCLE}"
    assert first.created == first.total == len(expected)
    assert second.created == 0 and second.total == len(expected)
    written = await rows(world, campaign=f"bill:{CYCLE}")
    assert {r.account_id for r in written} == expected
    assert all(r.kind == "bill_issued" and r.state == "new" for r in written)
    assert all(r.dedupe_key == f"bill:{CYCLE}:{r.account_id}" for r in written)
    assert all(r.payload == {"cycle": CYCLE} and r.created_at == world.clock() for r in written)
    async with world.sessions() as s:
        for notice in written:
            bill = await s.get(Bill, notice.bill_id)
            assert bill is not None and bill.month == CYCLE and bill.status != "paid"
            assert bill.account_id == notice.account_id
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/v1/notices/bill-cycle", json={"cycle": "2026-13"}) as response,
    ):
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_request"


async def test_sweep_reminds_exactly_n_days_ahead_in_local_time(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    days = world.profile.notices.reminder_days_before
    async with world.sessions() as s:
        upcoming = (
            await s.execute(
                select(Bill.id, Bill.due_date).where(Bill.month == CYCLE, Bill.status != "paid")
            )
        ).all()
    [due] = {due_date for _, due_date in upcoming}  # every demo bill of a month is due alike
    at_nine = datetime.combine(due, datetime.min.time()) + timedelta(hours=9)
    # N + 1 days before the due date: not yet.
    early = await notices.sweep(at_nine - timedelta(days=days + 1))
    assert early["created"]["due_reminder"] == 0
    # 22:30 UTC the day before is 00:30 in Cairo, exactly N days before: remind.
    midnight_cairo = at_nine - timedelta(days=days + 1) + timedelta(hours=13, minutes=30)
    on_time = await notices.sweep(midnight_cairo)
    assert on_time["created"]["due_reminder"] == len(upcoming)
    again = await notices.sweep(at_nine - timedelta(days=days))
    assert again["created"]["due_reminder"] == 0
    reminders = await rows(world, kind="due_reminder")
    assert {r.bill_id for r in reminders} == {bill_id for bill_id, _ in upcoming}
    assert all(r.dedupe_key == f"reminder:{r.bill_id}" for r in reminders)
    assert all(r.campaign == "reminders" for r in reminders)
    # Older bills (due weeks ago) are never reminded of.
    assert len(reminders) == len(upcoming)


async def test_sweep_writes_an_sla_breach_once_and_only_for_open_complaints(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    late, _ = await world.ledger.file_complaint(
        category="outage",
        description="الكهرباء مقطوعة",
        channel="ussd",
        idempotency_key="c-late",
        code=world.account(ONE_UNPAID).code,
    )
    handled, _ = await world.ledger.file_complaint(
        category="outage",
        description="الكهرباء مقطوعة",
        channel="ussd",
        idempotency_key="c-handled",
        code=world.account(ARREARS).code,
    )
    await world.ledger.set_complaint_status(handled["ticket_number"], "resolved")
    before = await notices.sweep()
    assert before["created"]["complaint_sla_breach"] == 0
    world.clock.advance(hours=world.profile.complaints.sla_hours["outage"], seconds=1)
    first = await notices.sweep()
    second = await notices.sweep()
    assert first["created"]["complaint_sla_breach"] == 1
    assert second["created"]["complaint_sla_breach"] == 0
    [breach] = await rows(world, kind="complaint_sla_breach")
    number = late["ticket_number"]
    assert breach.dedupe_key == f"sla:{number}" and breach.campaign == "complaints"
    assert breach.payload == {"ticket_number": number, "category": "outage"}
    assert breach.account_id == await account_id(world, ONE_UNPAID)


async def test_sweep_warns_of_prepaid_meters_once_where_the_rule_applies(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    minimum = int(world.profile.rules["prepaid_conversion"]["min_unpaid_bills"])
    expected = {
        await account_id(world, index): demo.unpaid_bills
        for index, demo in enumerate(world.accounts)
        if demo.unpaid_bills >= minimum
    }
    assert await account_id(world, ARREARS) in expected  # the demo's flagged account
    notices = outbox_of(world)
    first = await notices.sweep()
    second = await notices.sweep()
    assert first["created"]["prepaid_warning"] == len(expected) > 0
    assert second["created"]["prepaid_warning"] == 0
    warnings = await rows(world, kind="prepaid_warning")
    assert {w.account_id: w.payload["unpaid_bills"] for w in warnings} == expected
    assert all(w.dedupe_key == f"prepaid:{w.account_id}:{CYCLE}" for w in warnings)
    assert all(w.campaign == "warnings" for w in warnings)
    kuwait = await make_world("kw")  # no prepaid rule in Kuwait
    assert (await outbox_of(kuwait).sweep())["created"]["prepaid_warning"] == 0


# ---- the relay -------------------------------------------------------------------------------


async def test_pending_pages_carry_the_joined_fields(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    arrears = await account_id(world, ARREARS)
    async with world.sessions() as s, s.begin():
        await s.execute(
            update(Bill)
            .where(Bill.account_id == arrears, Bill.month == CYCLE)
            .values(paid_minor=100, status="partial")
        )
    issued = await notices.issue_bill_cycle(CYCLE)
    campaign = f"bill:{CYCLE}"
    seen: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        page = await notices.pending(after, 3, campaign)
        if not page["items"]:
            assert page["next_after"] is None
            break
        assert len(page["items"]) <= 3
        seen += page["items"]
        after, pages = page["next_after"], pages + 1
        assert after == page["items"][-1]["id"]
    assert len(seen) == issued["created"] and pages == -(-len(seen) // 3)
    ids = [item["id"] for item in seen]
    assert ids == sorted(set(ids))
    by_account = {item["account_id"]: item for item in seen}
    first = by_account[await account_id(world, ONE_UNPAID)]
    assert first["phone"] == await phone_of(world, ONE_UNPAID)
    assert first["payment_code"] == world.account(ONE_UNPAID).code
    assert first["language"] == "ar" and first["kind"] == "bill_issued"
    assert first["sms_opt_in"] is True and first["whatsapp_opt_in"] is True  # demo opt-in
    assert first["payload"] == {"cycle": CYCLE} and first["campaign"] == campaign
    assert first["dedupe_key"] == f"bill:{CYCLE}:{first['account_id']}"
    english = by_account[await account_id(world, ENGLISH)]
    assert english["language"] == "en" and english["whatsapp_opt_in"] is False
    async with world.sessions() as s:
        bill = await s.scalar(select(Bill).where(Bill.account_id == arrears, Bill.month == CYCLE))
    assert bill is not None
    assert by_account[arrears]["bill"] == {
        "month": CYCLE,
        "amount_due_minor": bill.amount_minor - 100,
        "due_date": bill.due_date.isoformat(),
    }
    # Without a campaign filter other new rows come too; rows that are not new never do.
    receipt, _ = await receipt_row(world, ONE_UNPAID)
    everything = await notices.pending(0, 5000)
    assert receipt.id in {item["id"] for item in everything["items"]}
    assert next(i for i in everything["items"] if i["id"] == receipt.id)["bill"] is None
    await notices.mark_queued([(ids[0], "sms", 1)], [])
    assert ids[0] not in {item["id"] for item in (await notices.pending(0, 5000))["items"]}
    bad = await refused(notices.pending(0, 5001))
    assert bad.status == 422


async def test_queued_and_suppressed_marks_move_only_new_rows(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    await notices.issue_bill_cycle(CYCLE)
    ids = [r.id for r in await rows(world, campaign=f"bill:{CYCLE}")]
    assert len(ids) >= 6
    queued = [(ids[0], "sms", 2), (ids[1], "whatsapp", 1), (ids[2], "sms", 1)]
    suppressed = [(ids[3], "opted_out")]
    assert await notices.mark_queued(queued, suppressed) == {"queued": 3, "suppressed": 1}
    # A repeat (the relay retried) and a late verdict on a suppressed row move nothing.
    assert await notices.mark_queued(queued, [(ids[3], "no_phone")]) == {
        "queued": 0,
        "suppressed": 0,
    }
    assert await notices.mark_queued([(ids[3], "sms", 1)], []) == {"queued": 0, "suppressed": 0}
    states = {r.id: (r.state, r.channel, r.segments, r.error_code) for r in await rows(world)}
    assert states[ids[0]] == ("queued", "sms", 2, None)
    assert states[ids[1]] == ("queued", "whatsapp", 1, None)
    assert states[ids[3]] == ("suppressed", None, None, "opted_out")
    assert all(states[i][0] == "new" for i in ids[4:5] + ids[6:])
    unrenderable = await notices.mark_queued([], [(ids[5], "bad_data")])
    assert unrenderable == {"queued": 0, "suppressed": 1}
    bad_channel = await refused(notices.mark_queued([(ids[4], "fax", 1)], []))
    bad_reason = await refused(notices.mark_queued([], [(ids[4], "bored")]))
    assert bad_channel.status == bad_reason.status == 422
    assert (await row(world, ids[4])).state == "new"


async def test_counts_by_campaign(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    issued = await notices.issue_bill_cycle(CYCLE)
    ids = [r.id for r in await rows(world, campaign=f"bill:{CYCLE}")]
    await notices.mark_queued([(ids[0], "sms", 1)], [(ids[1], "no_phone")])
    await receipt_row(world, ONE_UNPAID)
    bills = await notices.counts(f"bill:{CYCLE}")
    assert bills == {
        "campaign": f"bill:{CYCLE}",
        "counts": {"new": issued["created"] - 2, "queued": 1, "suppressed": 1},
    }
    assert (await notices.counts("receipts"))["counts"] == {"new": 1}
    everything = await notices.counts()
    assert everything["campaign"] is None and everything["counts"]["new"] == issued["created"] - 1
    assert await notices.counts_by_campaign() == {
        f"bill:{CYCLE}": {"new": issued["created"] - 2, "queued": 1, "suppressed": 1},
        "receipts": {"new": 1},
    }


# ---- the workers -----------------------------------------------------------------------------


async def test_concurrent_claims_let_exactly_one_worker_send(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await queued_row(world, notices)
    answers = await asyncio.gather(*(notices.claim(outbox_id, worker=f"w{i}") for i in range(8)))
    decisions = sorted(a["decision"] for a in answers)
    assert decisions == ["busy"] * 7 + ["send"]
    [send] = [a for a in answers if a["decision"] == "send"]
    assert send["attempt"] == 1
    claimed = await row(world, outbox_id)
    assert claimed.state == "sending" and claimed.attempts == 1
    assert claimed.claimed_at == world.clock()


async def test_stale_claim_is_reconciled_by_exactly_one_caller(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await queued_row(world, notices)
    first = await notices.claim(outbox_id, worker="dies-mid-send", stale_after_s=30)
    assert first["decision"] == "send"
    world.clock.advance(seconds=29)
    assert (await notices.claim(outbox_id, worker="w2", stale_after_s=30)) == {"decision": "busy"}
    world.clock.advance(seconds=2)
    answers = await asyncio.gather(
        *(notices.claim(outbox_id, worker=f"w{i}", stale_after_s=30) for i in range(8))
    )
    reconciles = [a for a in answers if a["decision"] == "reconcile"]
    assert len(reconciles) == 1
    assert sorted(a["decision"] for a in answers if a not in reconciles) == ["busy"] * 7
    assert reconciles[0]["previous_claimed_at"] == first["claimed_at"]
    assert reconciles[0]["attempt"] == 2
    taken = await row(world, outbox_id)
    assert taken.state == "sending" and taken.attempts == 2
    assert taken.claimed_at == world.clock()


async def test_claim_after_the_answer_was_lost_gets_the_claim_back(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await queued_row(world, notices)
    token = "a1b2c3d4e5f60718"
    first = await notices.claim(outbox_id, worker="w1", claim_token=token)
    again = await notices.claim(outbox_id, worker="w1", claim_token=token)
    assert first["decision"] == again["decision"] == "send"
    assert again["attempt"] == 1 and again["replayed"] is True
    other = await notices.claim(outbox_id, worker="w2", claim_token="ffffffffffffffff")
    assert other == {"decision": "busy"}
    assert (await row(world, outbox_id)).attempts == 1
    assert (await refused(notices.claim(10**9, worker="w1"))).status == 404


async def test_opt_out_after_queueing_suppresses_at_claim(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    by_sms = await queued_row(world, notices, "sms", ARREARS)
    phone = await phone_of(world, ARREARS)
    changed = await notices.set_contact_preference(
        phone, "sms", opted_in=False, source="sms_keyword"
    )
    assert changed["accounts"] == 1
    assert await notices.claim(by_sms, worker="w1") == {
        "decision": "suppressed",
        "state": "suppressed",
    }
    suppressed = await row(world, by_sms)
    assert (suppressed.state, suppressed.error_code, suppressed.attempts) == (
        "suppressed",
        "opted_out",
        0,
    )
    assert (await notices.claim(by_sms, worker="w1")) == {"decision": "done", "state": "suppressed"}
    # WhatsApp needs an opt-in: queued on WhatsApp without one, it is suppressed at claim;
    # the demo account that opted in is sent.
    no_opt_in = await queued_row(world, notices, "whatsapp", ENGLISH)
    opted_in = await queued_row(world, notices, "whatsapp", ONE_UNPAID)
    assert (await notices.claim(no_opt_in, worker="w1"))["decision"] == "suppressed"
    assert (await notices.claim(opted_in, worker="w1"))["decision"] == "send"


async def test_sent_is_idempotent_and_another_sid_is_a_conflict(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await sent_row(world, notices, "SM" + "1" * 32)
    stored = await row(world, outbox_id)
    assert stored.state == "sent" and stored.provider_sid == "SM" + "1" * 32
    assert stored.sent_at == world.clock()
    again = await notices.sent(outbox_id, "SM" + "1" * 32, "queued")
    assert again == {"state": "sent", "changed": False}
    other = await refused(notices.sent(outbox_id, "SM" + "2" * 32, "queued"))
    assert other.status == 409 and other.details["conflict"] == "provider_sid"
    # A SID already recorded for another message is refused too, and changes nothing.
    second = await queued_row(world, notices, index=ONE_UNPAID)
    await notices.claim(second, worker="w1")
    reused = await refused(notices.sent(second, "SM" + "1" * 32, "queued"))
    assert reused.status == 409
    assert (await row(world, second)).state == "sending"
    # Unclaimed rows cannot be "sent".
    third = await queued_row(world, notices, index=ENGLISH)
    not_claimed = await refused(notices.sent(third, "SM" + "3" * 32, "queued"))
    assert not_claimed.status == 409 and not_claimed.details["state"] == "queued"
    missing = await refused(notices.sent(10**9, "SM" + "4" * 32, "queued"))
    assert missing.status == 404


async def test_failed_releases_or_ends_only_the_named_claim(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await queued_row(world, notices)
    first = await notices.claim(outbox_id, worker="w1")
    released = await notices.failed(outbox_id, "20429", release=True, attempt=first["attempt"])
    assert released == {"state": "queued", "changed": True}
    assert (await row(world, outbox_id)).error_code == "20429"
    second = await notices.claim(outbox_id, worker="w2")
    assert second["decision"] == "send" and second["attempt"] == 2
    # w1 retries its old release: the newer claim is left alone.
    late = await notices.failed(outbox_id, "20429", release=True, attempt=first["attempt"])
    assert late == {"state": "sending", "changed": False}
    final = await notices.failed(outbox_id, "21211", release=False, attempt=second["attempt"])
    assert final == {"state": "failed", "changed": True}
    repeat = await notices.failed(outbox_id, "21211", release=False, attempt=second["attempt"])
    assert repeat == {"state": "failed", "changed": False}
    failed = await row(world, outbox_id)
    assert (failed.state, failed.error_code, failed.attempts) == ("failed", "21211", 2)
    assert (await notices.claim(outbox_id, worker="w3")) == {"decision": "done", "state": "failed"}
    assert (await refused(notices.failed(10**9, "1", release=False))).status == 404


async def test_status_callbacks_only_move_messages_forward(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    sid = "SM" + "a" * 32
    outbox_id = await sent_row(world, notices, sid)
    assert await notices.provider_status(sid, "queued") == {"state": "sent", "changed": False}
    assert await notices.provider_status(sid, "delivered") == {
        "state": "delivered",
        "changed": True,
    }
    # A late "sent" and a replayed "delivered" change nothing; "read" still moves it on.
    assert await notices.provider_status(sid, "sent") == {"state": "delivered", "changed": False}
    assert await notices.provider_status(sid, "delivered") == {
        "state": "delivered",
        "changed": False,
    }
    assert await notices.provider_status(sid, "read") == {"state": "read", "changed": True}
    assert (await row(world, outbox_id)).state == "read"

    lost = "SM" + "b" * 32
    other = await sent_row(world, notices, lost, ONE_UNPAID)
    assert await notices.provider_status(lost, "undelivered", "30003") == {
        "state": "undelivered",
        "changed": True,
    }
    assert await notices.provider_status(lost, "delivered") == {
        "state": "undelivered",
        "changed": False,
    }
    undelivered = await row(world, other)
    assert (undelivered.state, undelivered.error_code) == ("undelivered", "30003")
    assert (await refused(notices.provider_status("SM" + "c" * 32, "delivered"))).status == 404
    assert (await refused(notices.provider_status(sid, "exploded"))).status == 422


# ---- consent -----------------------------------------------------------------------------------


async def test_contact_preference_by_phone_updates_every_account(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    shared = await phone_of(world, ONE_UNPAID)
    await set_phone(world, ARREARS, shared)
    await set_phone(world, ENGLISH, shared)
    # As a person might type it: Arabic-Indic digits, spaces; or as Twilio sends WhatsApp's.
    typed = shared[:4] + " " + shared[4:].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    out = await notices.set_contact_preference(typed, "sms", opted_in=False, source="sms_keyword")
    assert out["accounts"] == 3
    await notices.issue_bill_cycle(CYCLE)
    items = {i["account_id"]: i for i in (await notices.pending(0, 5000))["items"]}
    sharing = {await account_id(world, i) for i in (ONE_UNPAID, ARREARS, ENGLISH)}
    assert {a for a, i in items.items() if not i["sms_opt_in"]} == sharing
    back = await notices.set_contact_preference(
        "whatsapp:" + shared, "sms", opted_in=True, source="whatsapp_keyword"
    )
    assert back["accounts"] == 3
    items = {i["account_id"]: i for i in (await notices.pending(0, 5000))["items"]}
    assert all(i["sms_opt_in"] for i in items.values())
    stranger = await notices.set_contact_preference(
        "+201999999999", "sms", opted_in=False, source="sms_keyword"
    )
    assert stranger["accounts"] == 0
    assert (
        await refused(notices.set_contact_preference("hello", "sms", opted_in=False, source="x"))
    ).status == 422
    assert normalise_phone("00201001234567") == "+201001234567"


# ---- the core's client over real HTTP ------------------------------------------------------------


async def test_client_drives_a_notice_through_its_life(backend: tuple[LedgerWorld, str]) -> None:
    world, url = backend
    async with BillingClient(url, timeouts=FAST) as client:
        cycle = await client.issue_bill_cycle(CYCLE)
        page = await client.pending_notices(0, 2, campaign=cycle.campaign)
        assert len(page.items) == 2 and page.next_after == page.items[-1].id
        first, second = page.items
        assert first.bill is not None and first.bill.month == CYCLE
        async with world.sessions() as s:
            code = await s.scalar(
                select(PaymentCode.code).where(PaymentCode.account_id == first.account_id)
            )
        assert first.payment_code == code is not None
        marked = await client.mark_notices_queued(
            [QueuedNotice(first.id, "sms", 1)], [SuppressedNotice(second.id, "no_phone")]
        )
        assert (marked.queued, marked.suppressed) == (1, 1)
        claim = await client.claim_notice(first.id, "worker-1", stale_after_s=30)
        assert claim.decision == "send" and claim.attempt == 1
        assert claim.claimed_at == world.clock()
        busy = await client.claim_notice(first.id, "worker-2")
        assert busy.decision == "busy"
        sid = "SM" + "d" * 32
        assert (await client.notice_sent(first.id, sid, "queued")).changed is True
        assert (await client.notice_sent(first.id, sid, "queued")).changed is False
        with pytest.raises(BillingRefused) as conflict:
            await client.notice_sent(first.id, "SM" + "e" * 32, "queued")
        assert conflict.value.details["conflict"] == "provider_sid"
        delivered = await client.notice_status(sid, "delivered")
        assert (delivered.state, delivered.changed) == ("delivered", True)
        done = await client.claim_notice(first.id, "worker-3")
        assert (done.decision, done.state) == ("done", "delivered")
        counts = await client.notice_counts(cycle.campaign)
        assert counts.counts["delivered"] == 1 and counts.counts["suppressed"] == 1
        campaigns = await client.notice_counts_by_campaign()
        assert campaigns[cycle.campaign] == counts.counts
        failed = await client.notice_failed(first.id, "21211", release=False)
        assert (failed.state, failed.changed) == ("delivered", False)
        swept = await client.sweep_notices(world.clock())
        assert swept.created["due_reminder"] > 0 and swept.now == world.clock()
        preference = await client.set_contact_preference(
            await phone_of(world, ARREARS), "whatsapp", True, "whatsapp_keyword"
        )
        assert preference.accounts == 1 and preference.opted_in is True
        ticket = await client.file_complaint(
            category="meter",
            description="العداد لا يعمل",
            channel="whatsapp",
            idempotency_key="c-1",
            code=world.account(ONE_UNPAID).code,
        )
        moved = await client.set_complaint_status(ticket.ticket_number, "in_progress")
        assert moved.status == "in_progress"
        with pytest.raises(BillingRefused) as unknown:
            await client.set_complaint_status("99999999", "resolved")
        assert unknown.value.reason is RefusalReason.COMPLAINT_UNKNOWN


def lose_claim_answers(count: int) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Claim for real, then break the connection instead of answering (`count` times)."""
    remaining = {"n": count}

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if request.path.endswith("/claim") and remaining["n"] > 0:
            remaining["n"] -= 1
            assert request.transport is not None
            request.transport.close()
        return response

    return middleware


async def test_client_retry_of_a_lost_claim_answer_still_sends(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    outbox_id = await queued_row(world, notices)
    app = create_app(world.ledger)
    app.middlewares.insert(0, lose_claim_answers(1))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with BillingClient(str(server.make_url("")), timeouts=FAST, retries=2) as client:
            claim = await client.claim_notice(outbox_id, "worker-1")
        assert claim.decision == "send" and claim.replayed is True and claim.attempt == 1
        assert (await row(world, outbox_id)).attempts == 1
    finally:
        await server.close()


# ---- scale (PostgreSQL) ------------------------------------------------------------------------

BULK = 20_000


async def test_bill_cycle_and_pending_page_over_twenty_thousand_accounts(
    pg_world: WorldFactory,
) -> None:
    world = await pg_world("eg")
    async with world.sessions() as s, s.begin():
        await s.execute(
            text(
                """
                WITH made AS (
                  INSERT INTO accounts (account_number, payee_name, area, category, phone,
                                        language, ledger_version, credit_minor, created_at)
                  SELECT 'BULK' || g, 'محمد أحمد السيد', 'شبرا', 'private_housing',
                         '+2011' || lpad(g::text, 8, '0'), 'ar', 0, 0,
                         CAST(:now AS timestamp)
                  FROM generate_series(1, :n) AS g
                  RETURNING id
                ), codes AS (
                  INSERT INTO payment_codes (code, account_id) SELECT 'B' || id, id FROM made
                )
                INSERT INTO bills (account_id, month, amount_minor, paid_minor, status,
                                   issued_on, due_date)
                SELECT id, CAST(:cycle AS varchar), 12345, 0, 'unpaid',
                       DATE '2026-10-28', DATE '2026-11-27'
                FROM made
                """
            ),
            {"n": BULK, "cycle": CYCLE, "now": world.clock()},
        )
    demo_unpaid = sum(1 for demo in world.accounts if demo.unpaid_bills > 0)
    server = TestServer(create_app(world.ledger), host="127.0.0.1")
    await server.start_server()
    try:
        async with BillingClient(str(server.make_url("")), timeouts=Timeouts(1.0, 30.0)) as client:
            issued = await client.issue_bill_cycle(CYCLE)
            assert issued.created == issued.total == BULK + demo_unpaid
            assert (await client.issue_bill_cycle(CYCLE)).created == 0
            page = await client.pending_notices(0, 5000, campaign=issued.campaign)
            assert len(page.items) == 5000
            assert [i.id for i in page.items] == sorted({i.id for i in page.items})
            assert all(i.phone and i.payment_code and i.bill for i in page.items)
            marked = await client.mark_notices_queued(
                [QueuedNotice(i.id, "sms", 1) for i in page.items]
            )
            assert marked.queued == 5000
            rest = await client.pending_notices(0, 5000, campaign=issued.campaign)
            assert rest.items[0].id > page.items[-1].id
            counts = await client.notice_counts(issued.campaign)
            assert counts.counts == {"queued": 5000, "new": BULK + demo_unpaid - 5000}
    finally:
        await server.close()
    async with world.sessions() as s:
        assert await s.scalar(select(func.count(OutboxMessage.id))) == BULK + demo_unpaid


async def test_batch_claim_and_record_decide_like_one_by_one(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    notices = outbox_of(world)
    none = BulkMix(english_every=0, no_phone_every=0, sms_opt_out_every=0, whatsapp_opt_in_every=0)
    await seed_bulk_accounts(world.sessions, world.profile, 6, "2030-01", world.clock(), mix=none)
    await notices.issue_bill_cycle("2030-01")
    page = await notices.pending(0, 100, "bill:2030-01")
    ids = [int(item["id"]) for item in page["items"]]
    assert len(ids) == 6
    await notices.mark_queued([(i, "sms", 2) for i in ids], [])
    a, b, c, _d, e, f = ids
    assert (await notices.claim(b, worker="other"))["decision"] == "send"
    assert (await notices.claim(c, worker="other"))["decision"] == "send"
    await notices.sent(c, "SM" + "c" * 32, "queued")
    async with world.sessions() as s:
        phone = await s.scalar(
            select(Account.phone).where(Account.id == (await row(world, e)).account_id)
        )
    assert phone is not None
    await notices.set_contact_preference(phone, "sms", opted_in=False, source="test")

    answers = await notices.claim_many([a, b, c, e, f, 999_999], worker="w")
    assert answers[a]["decision"] == answers[f]["decision"] == "send"
    assert answers[a]["attempt"] == 1
    assert answers[b] == {"decision": "busy"}
    assert answers[c] == {"decision": "done", "state": "sent"}
    assert answers[e]["decision"] == "suppressed"
    assert answers[999_999] == {"decision": "done", "state": "missing"}

    # f is given c's SID: that item conflicts, the rest of the batch is recorded.
    results = await notices.sent_many(
        [(a, "SM" + "a" * 32, "queued"), (f, "SM" + "c" * 32, "queued")]
    )
    assert results[a] == {"state": "sent", "changed": True}
    assert results[f] == {"conflict": "provider_sid_in_use"}
    assert (await row(world, a)).provider_sid == "SM" + "a" * 32
    assert (await row(world, f)).state == "sending"
    again = await notices.sent_many([(a, "SM" + "a" * 32, "queued")])
    assert again[a] == {"state": "sent", "changed": False}
