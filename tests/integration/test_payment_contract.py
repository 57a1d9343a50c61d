"""The payment contract against real SQLite and PostgreSQL ledgers (each test runs on both)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select

from billing.ledger import Refusal
from billing.masking import mask_name
from billing.models import Bill, OutboxMessage, Payment
from tasdeed.contract import RefusalReason
from tests.conftest import LedgerWorld, WorldFactory

ONE_UNPAID, ARREARS, ALL_PAID, ENGLISH = 0, 1, 2, 3


async def refused(coro: object) -> Refusal:
    with pytest.raises(Refusal) as info:
        await coro  # type: ignore[misc]
    return info.value


async def payments_count(world: LedgerWorld) -> int:
    async with world.sessions() as s:
        return int(await s.scalar(select(func.count(Payment.id))) or 0)


async def test_quote_shows_masked_payee_months_and_amount(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    demo = world.account(ARREARS)
    quote = await world.ledger.quote(demo.code, channel="ussd")
    first, father, family = demo.payee_name.split()
    assert quote["payee_masked"] == mask_name(demo.payee_name)
    assert quote["payee_masked"].startswith(first + " ")
    assert father not in str(quote) and family not in str(quote)
    assert quote["area"] == demo.area
    assert len(quote["bill_months"]) == 3
    assert quote["amount_minor"] == quote["amount_due_minor"] == demo.amount_due_minor
    assert quote["currency"] == "EGP"
    assert quote["recently_paid"] is False


async def test_confirm_pays_once_and_writes_receipt_to_outbox(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    demo = world.account(ARREARS)
    quote = await world.ledger.quote(demo.code, channel="ivr")
    receipt, replayed = await world.ledger.confirm(quote["quote_id"], "call-CA1:confirm")
    assert replayed is False
    assert receipt["amount_minor"] == demo.amount_due_minor
    assert receipt["receipt_number"].startswith("EG")
    balance = await world.ledger.balance(code=demo.code)
    assert balance["amount_due_minor"] == 0
    assert balance["unpaid_months"] == []
    async with world.sessions() as s:
        outbox = (await s.scalars(select(OutboxMessage))).all()
        unpaid = await s.scalar(
            select(func.count(Bill.id)).where(Bill.status != "paid", Bill.account_id == 2)
        )
    assert [m.payload["receipt_number"] for m in outbox] == [receipt["receipt_number"]]
    assert unpaid == 0
    totals = await world.ledger.totals()
    assert totals == {
        "payments": 1,
        "paid_minor": demo.amount_due_minor,
        "allocated_minor": demo.amount_due_minor,
    }


async def test_repeated_confirm_with_same_key_returns_same_receipt(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    quote = await world.ledger.quote(world.account(ONE_UNPAID).code)
    first, _ = await world.ledger.confirm(quote["quote_id"], "key-1")
    again, replayed = await world.ledger.confirm(quote["quote_id"], "key-1")
    assert replayed is True
    assert again["receipt_number"] == first["receipt_number"]
    # Even after the quote expired, a retry with the same key still gets its receipt.
    world.clock.advance(hours=2)
    late, replayed_late = await world.ledger.confirm(quote["quote_id"], "key-1")
    assert replayed_late and late["receipt_number"] == first["receipt_number"]
    assert await payments_count(world) == 1


async def test_unknown_and_expired_quotes_are_refused(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    unknown = await refused(world.ledger.confirm("00000000-0000-0000-0000-000000000000", "k"))
    assert unknown.reason is RefusalReason.QUOTE_UNKNOWN
    quote = await world.ledger.quote(world.account(ONE_UNPAID).code)
    world.clock.advance(seconds=world.profile.payments.quote_ttl_seconds)
    expired = await refused(world.ledger.confirm(quote["quote_id"], "k"))
    assert expired.reason is RefusalReason.QUOTE_EXPIRED
    assert await payments_count(world) == 0
    # A fresh quote works: nothing was lost or charged by the refusals.
    fresh = await world.ledger.quote(world.account(ONE_UNPAID).code)
    await world.ledger.confirm(fresh["quote_id"], "k")
    assert await payments_count(world) == 1


async def test_key_reused_for_another_quote_is_a_conflict(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    first = await world.ledger.quote(world.account(ONE_UNPAID).code)
    other = await world.ledger.quote(world.account(ARREARS).code)
    await world.ledger.confirm(first["quote_id"], "shared-key")
    conflict = await refused(world.ledger.confirm(other["quote_id"], "shared-key"))
    assert conflict.reason is RefusalReason.IDEMPOTENCY_KEY_CONFLICT
    assert await payments_count(world) == 1


async def test_quote_confirmed_under_another_key_is_not_paid_again(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    quote = await world.ledger.quote(world.account(ONE_UNPAID).code)
    receipt, _ = await world.ledger.confirm(quote["quote_id"], "tap-1")
    twice = await refused(world.ledger.confirm(quote["quote_id"], "tap-2"))
    assert twice.reason is RefusalReason.QUOTE_ALREADY_CONFIRMED
    assert twice.details["receipt"] == receipt["receipt_number"]
    assert await payments_count(world) == 1


async def test_concurrent_confirms_of_one_quote_charge_once(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    quote = await world.ledger.quote(world.account(ARREARS).code)
    results = await asyncio.gather(
        *(world.ledger.confirm(quote["quote_id"], f"device-{i}") for i in range(16)),
        return_exceptions=True,
    )
    receipts = [r for r in results if isinstance(r, tuple)]
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(receipts) == 1, results
    assert len(refusals) == 15
    assert {r.reason for r in refusals} == {RefusalReason.QUOTE_ALREADY_CONFIRMED}
    assert await payments_count(world) == 1


async def test_concurrent_retries_with_one_key_all_get_the_receipt(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    quote = await world.ledger.quote(world.account(ARREARS).code)
    results = await asyncio.gather(
        *(world.ledger.confirm(quote["quote_id"], "webhook-retry") for _ in range(16))
    )
    assert len({receipt["receipt_number"] for receipt, _ in results}) == 1
    assert sum(1 for _, replayed in results if not replayed) == 1
    assert await payments_count(world) == 1


async def test_two_channels_racing_for_one_bill_charge_once(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    code = world.account(ONE_UNPAID).code
    by_ussd = await world.ledger.quote(code, channel="ussd")
    by_ivr = await world.ledger.quote(code, channel="ivr")
    results = await asyncio.gather(
        world.ledger.confirm(by_ussd["quote_id"], "ussd-key"),
        world.ledger.confirm(by_ivr["quote_id"], "ivr-key"),
        return_exceptions=True,
    )
    receipts = [r for r in results if isinstance(r, tuple)]
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(receipts) == 1 and len(refusals) == 1
    assert refusals[0].reason is RefusalReason.ALREADY_PAID_RECENTLY
    assert refusals[0].details["receipt"] == receipts[0][0]["receipt_number"]
    assert await payments_count(world) == 1


async def test_paying_a_recently_paid_bill_needs_override(make_world: WorldFactory) -> None:
    world = await make_world("kw")  # Kuwait credits overpayments to the next bill
    demo = world.account(ONE_UNPAID)
    quote = await world.ledger.quote(demo.code)
    receipt, _ = await world.ledger.confirm(quote["quote_id"], "first")
    again = await refused(world.ledger.quote(demo.code))
    assert again.reason is RefusalReason.ALREADY_PAID_RECENTLY
    assert again.details["receipt"] == receipt["receipt_number"]
    second = await world.ledger.quote(demo.code, override=True)
    assert second["recently_paid"] is True and second["override"] is True
    await world.ledger.confirm(second["quote_id"], "second-explicit")
    balance = await world.ledger.balance(code=demo.code)
    assert balance["credit_minor"] == second["amount_minor"] > 0
    totals = await world.ledger.totals()
    assert totals["payments"] == 2 and totals["paid_minor"] == totals["allocated_minor"]


async def test_override_does_not_allow_overpayment_where_profile_forbids(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    demo = world.account(ONE_UNPAID)
    await world.ledger.confirm((await world.ledger.quote(demo.code))["quote_id"], "k1")
    with_override = await refused(world.ledger.quote(demo.code, override=True))
    assert with_override.reason is RefusalReason.NOTHING_DUE
    # Outside the recent-payment window there is simply nothing due.
    world.clock.advance(hours=world.profile.payments.recent_payment_window_hours + 1)
    later = await refused(world.ledger.quote(demo.code))
    assert later.reason is RefusalReason.NOTHING_DUE


async def test_nothing_due_on_a_paid_up_account(make_world: WorldFactory) -> None:
    world = await make_world("sa")
    nothing = await refused(world.ledger.quote(world.account(ALL_PAID).code))
    assert nothing.reason is RefusalReason.NOTHING_DUE


@pytest.mark.parametrize(
    ("profile_id", "fraction", "reason"),
    [
        ("eg", 0.5, RefusalReason.PARTIAL_NOT_ALLOWED),
        ("eg", 1.5, RefusalReason.OVERPAYMENT_NOT_ALLOWED),
        ("kw", 0.0001, RefusalReason.BELOW_MINIMUM),
    ],
)
async def test_amount_rules_follow_the_profile(
    make_world: WorldFactory, profile_id: str, fraction: float, reason: RefusalReason
) -> None:
    world = await make_world(profile_id)
    demo = world.account(ARREARS)
    amount = max(1, int(demo.amount_due_minor * fraction))
    refusal = await refused(world.ledger.quote(demo.code, amount_minor=amount))
    assert refusal.reason is reason


async def test_partial_payment_where_allowed_leaves_the_rest_due(make_world: WorldFactory) -> None:
    world = await make_world("kw")
    demo = world.account(ARREARS)
    part = demo.amount_due_minor // 2
    quote = await world.ledger.quote(demo.code, amount_minor=part)
    await world.ledger.confirm(quote["quote_id"], "partial")
    balance = await world.ledger.balance(code=demo.code)
    assert balance["amount_due_minor"] == demo.amount_due_minor - part
    # A partial payment is not "already paid": the rest can be quoted without override.
    rest = await world.ledger.quote(demo.code)
    assert rest["amount_minor"] == demo.amount_due_minor - part
    assert rest["recently_paid"] is False


async def test_codes_are_checked_before_any_lookup(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    code = world.account(ONE_UNPAID).code
    swapped = code[:3] + code[4] + code[3] + code[5:]
    assert swapped != code
    bad = await refused(world.ledger.quote(swapped))
    assert bad.reason is RefusalReason.INVALID_CODE and bad.status == 422
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    spaced = " ".join(arabic[i : i + 4] for i in range(0, len(arabic), 4))
    quote = await world.ledger.quote(spaced)
    assert quote["amount_minor"] == world.account(ONE_UNPAID).amount_due_minor


async def test_unknown_but_well_formed_code(make_world: WorldFactory) -> None:
    from tasdeed.codes import damm_check_digit

    world = await make_world("eg")
    body = "1" * (world.profile.payment_code.length - 1)
    unknown = await refused(world.ledger.quote(body + damm_check_digit(body)))
    assert unknown.reason is RefusalReason.UNKNOWN_CODE and unknown.status == 404


async def test_complaint_ticket_is_idempotent_and_has_an_sla(make_world: WorldFactory) -> None:
    world = await make_world("sa")
    demo = world.account(ONE_UNPAID)
    ticket, replayed = await world.ledger.file_complaint(
        category="billing",
        description="الفاتورة أعلى من المعتاد",
        channel="whatsapp",
        idempotency_key="msg-SM1",
        code=demo.code,
    )
    assert not replayed and len(ticket["ticket_number"]) == 8
    again, replayed_again = await world.ledger.file_complaint(
        category="billing",
        description="الفاتورة أعلى من المعتاد",
        channel="whatsapp",
        idempotency_key="msg-SM1",
        code=demo.code,
    )
    assert replayed_again and again["ticket_number"] == ticket["ticket_number"]
    status = await world.ledger.complaint(ticket["ticket_number"])
    assert status["status"] == "open" and status["sla_breached"] is False
    # A Saudi billing complaint is due in 10 working days (tests/integration/
    # test_complaint_compensation.py); one second past its SLA it is breached.
    world.clock.current = datetime.fromisoformat(status["sla_due_at"].removesuffix("Z"))
    world.clock.advance(seconds=1)
    assert (await world.ledger.complaint(ticket["ticket_number"]))["sla_breached"] is True
    unknown = await refused(world.ledger.complaint("99999999"))
    assert unknown.reason is RefusalReason.COMPLAINT_UNKNOWN
    bad = await refused(
        world.ledger.file_complaint(
            category="weather", description="", channel="ussd", idempotency_key=None, code=demo.code
        )
    )
    assert bad.reason is RefusalReason.INVALID_CATEGORY


async def test_installment_plans_follow_the_profile(make_world: WorldFactory) -> None:
    world = await make_world("kw")
    demo = world.account(ARREARS)
    needs_ack = await refused(
        world.ledger.request_installments(
            months=6, acknowledge_debt=False, idempotency_key="p1", code=demo.code
        )
    )
    assert needs_ack.reason is RefusalReason.ACKNOWLEDGMENT_REQUIRED
    too_long = await refused(
        world.ledger.request_installments(
            months=60, acknowledge_debt=True, idempotency_key="p1", code=demo.code
        )
    )
    assert too_long.reason is RefusalReason.INVALID_MONTHS
    plan, replayed = await world.ledger.request_installments(
        months=6, acknowledge_debt=True, idempotency_key="p1", code=demo.code
    )
    assert not replayed
    assert plan["total_minor"] == demo.amount_due_minor
    assert plan["installment_minor"] * 6 >= demo.amount_due_minor
    assert plan["installment_minor"] * 5 < demo.amount_due_minor
    again, replayed_again = await world.ledger.request_installments(
        months=6, acknowledge_debt=True, idempotency_key="p1", code=demo.code
    )
    assert replayed_again and again["plan_number"] == plan["plan_number"]
