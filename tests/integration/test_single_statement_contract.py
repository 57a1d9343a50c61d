"""The payment contract's one-statement quote and confirm (billing/pg_contract.py).

- Concurrent duplicates on both databases (PostgreSQL takes the one statement, SQLite the
  general transaction): one payment, and every other call told what the general path says.
- On PostgreSQL, the one statement and the general transaction leave the very same ledger
  (bills, allocations, credit, versions, quotes, payments, outbox) and give the same answers
  and refusals, over a script of full, partial, over- and re-payments, `from_quote` quotes
  and refusals; a quote made by another process, a payee renamed between quote and confirm
  and connections killed under the pool all still pay once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text, update

from billing.ledger import Ledger, Refusal
from billing.masking import mask_name
from billing.models import Account, OutboxMessage, Payment
from billing.pg_contract import PgContract
from tests.conftest import PG_DSN, LedgerWorld, WorldFactory

ONE_UNPAID, ARREARS, ALL_PAID, ENGLISH = 0, 1, 2, 3


async def payments_count(world: LedgerWorld) -> int:
    async with world.sessions() as s:
        return int(await s.scalar(select(func.count(Payment.id))) or 0)


def count_single_statement_payments(ledger: Ledger) -> list[bool]:
    """Every answer of the one-statement confirm from now on (True: it paid)."""
    pg = ledger._pg
    assert isinstance(pg, PgContract)
    seen: list[bool] = []
    pay = pg.pay

    async def spy(**kwargs: Any) -> bool:
        paid = await pay(**kwargs)
        seen.append(paid)
        return paid

    pg.pay = spy  # type: ignore[method-assign]
    return seen


# ---- concurrent duplicates, both databases ---------------------------------------------


async def test_one_key_racing_on_two_accounts_pays_one(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    first = await world.ledger.quote(world.account(ONE_UNPAID).code)
    second = await world.ledger.quote(world.account(ARREARS).code)
    results = await asyncio.gather(
        world.ledger.confirm(first["quote_id"], "double-tap"),
        world.ledger.confirm(second["quote_id"], "double-tap"),
        return_exceptions=True,
    )
    receipts = [r for r in results if isinstance(r, tuple)]
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(receipts) == 1 and len(refusals) == 1, results
    assert refusals[0].reason.value == "idempotency_key_conflict"
    assert await payments_count(world) == 1
    totals = await world.ledger.totals()
    assert totals["paid_minor"] == totals["allocated_minor"] == receipts[0][0]["amount_minor"]


async def test_many_quotes_keys_and_retries_for_one_account_pay_once(
    make_world: WorldFactory,
) -> None:
    world = await make_world("kw")
    code = world.account(ARREARS).code
    quotes = [await world.ledger.quote(code, channel=f"ch{i}") for i in range(6)]
    calls = [
        world.ledger.confirm(quote["quote_id"], key)
        for i, quote in enumerate(quotes)
        for key in (f"key-{i}", f"key-{i}", f"other-{i}")
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    receipts = [r for r in results if isinstance(r, tuple)]
    assert receipts, results
    paid_quote = receipts[0][0]["quote_id"]
    assert {r[0]["receipt_number"] for r in receipts} == {receipts[0][0]["receipt_number"]}
    assert sum(1 for _, replayed in receipts if not replayed) == 1
    for result in results:
        if isinstance(result, tuple):
            continue
        assert isinstance(result, Refusal), result
        reason = result.reason.value
        if reason == "already_paid_recently":
            assert result.details["quote_id"] == paid_quote
            assert result.details["receipt"] == receipts[0][0]["receipt_number"]
        else:
            assert reason == "quote_already_confirmed", result
    assert await payments_count(world) == 1
    totals = await world.ledger.totals()
    assert totals["paid_minor"] == totals["allocated_minor"] == world.account(1).amount_due_minor
    # The quote after it says when and where it was paid, with the quote that paid it.
    with pytest.raises(Refusal) as again:
        await world.ledger.quote(code)
    assert again.value.reason.value == "already_paid_recently"
    assert again.value.details["quote_id"] == paid_quote


async def test_from_quote_requotes_the_same_account(make_world: WorldFactory) -> None:
    world = await make_world("kw")
    demo = world.account(ARREARS)
    first = await world.ledger.quote(demo.code, channel="ussd")
    part = demo.amount_due_minor // 2
    partial = await world.ledger.quote(
        None, amount_minor=part, channel="ussd", from_quote=first["quote_id"]
    )
    assert partial["amount_minor"] == part and partial["payee_masked"] == first["payee_masked"]
    receipt, _ = await world.ledger.confirm(partial["quote_id"], "part")
    world.clock.advance(minutes=1)  # the latest payment is the one the refusal names
    rest = await world.ledger.quote(None, channel="ussd", from_quote=partial["quote_id"])
    assert rest["amount_minor"] == demo.amount_due_minor - part
    await world.ledger.confirm(rest["quote_id"], "rest")
    with pytest.raises(Refusal) as paid:
        await world.ledger.quote(None, channel="ussd", from_quote=first["quote_id"])
    assert paid.value.reason.value == "already_paid_recently"
    assert paid.value.details["quote_id"] == rest["quote_id"]
    again = await world.ledger.quote(
        None, override=True, channel="ussd", from_quote=paid.value.details["quote_id"]
    )
    assert again["recently_paid"] is True and again["override"] is True
    with pytest.raises(Refusal) as unknown:
        await world.ledger.quote(None, from_quote="00000000-0000-0000-0000-000000000000")
    assert unknown.value.reason.value == "quote_unknown" and unknown.value.status == 404
    assert receipt["amount_minor"] == part


async def test_amounts_past_what_a_column_holds_are_refused_as_before(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    for amount in (10**30, -(10**30)):
        with pytest.raises(Refusal) as refused:
            await world.ledger.quote(world.account(ARREARS).code, amount_minor=amount)
        assert refused.value.reason.value == (
            "overpayment_not_allowed" if amount > 0 else "invalid_amount"
        )
    assert await payments_count(world) == 0


# ---- PostgreSQL: the one statement and the general transaction agree -------------------


Step = Callable[[Ledger, dict[str, str], LedgerWorld], Awaitable[Any]]


def _symbolic(value: Any, names: dict[str, str]) -> Any:
    """Quote ids and receipt numbers (random) replaced by the step that made them."""
    if isinstance(value, dict):
        return {k: _symbolic(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_symbolic(v, names) for v in value)
    if isinstance(value, str) and value in names:
        return names[value]
    return value


async def _answer(call: Awaitable[Any], names: dict[str, str], step: int) -> Any:
    try:
        result = await call
    except Refusal as refusal:
        return ("refused", refusal.reason.value, refusal.status, _symbolic(refusal.details, names))
    body = result[0] if isinstance(result, tuple) else result
    for field in ("quote_id", "receipt_number"):
        if isinstance(body, dict) and field in body and body[field] not in names:
            names[body[field]] = f"{field}@{step}"
    return _symbolic(result, names)


async def _ledger_state(world: LedgerWorld, names: dict[str, str]) -> dict[str, Any]:
    tables = {
        "accounts": "SELECT id, ledger_version, credit_minor FROM accounts ORDER BY id",
        "bills": "SELECT id, account_id, month, paid_minor, status, paid_at FROM bills ORDER BY id",
        "quotes": "SELECT id, account_id, ledger_version, amount_due_minor, amount_minor,"
        " bill_months, recently_paid, override, channel, created_at, expires_at FROM quotes",
        "payments": "SELECT receipt_number, quote_id, idempotency_key, account_id, amount_minor,"
        " override, channel, paid_at FROM payments ORDER BY id",
        "allocations": "SELECT p.receipt_number, a.bill_id, a.amount_minor"
        " FROM payment_allocations AS a JOIN payments AS p ON p.id = a.payment_id",
        "outbox": "SELECT kind, account_id, payload, created_at, dedupe_key, campaign, state,"
        " attempts, bill_id FROM outbox ORDER BY id",
    }
    state: dict[str, Any] = {}
    async with world.sessions() as s:
        for name, sql in tables.items():
            rows = [dict(row._mapping) for row in (await s.execute(text(sql))).all()]
            for row in rows:
                if isinstance(row.get("payload"), str):
                    row["payload"] = json.loads(row["payload"])
                if "dedupe_key" in row and str(row["dedupe_key"]).startswith("receipt:"):
                    row["dedupe_key"] = "receipt:" + str(names[row["dedupe_key"][8:]])
            rows = _symbolic(rows, names)
            state[name] = sorted(rows, key=repr) if name in ("quotes", "allocations") else rows
    return state


def _script(world: LedgerWorld) -> list[Step]:
    one, arrears, paid_up = (world.account(i).code for i in (ONE_UNPAID, ARREARS, ALL_PAID))
    due = world.account(ARREARS).amount_due_minor

    def quote(code: str | None, **kw: Any) -> Step:
        return lambda ledger, names, _w: ledger.quote(code, **kw)

    def from_quote(step: int, **kw: Any) -> Step:
        def call(ledger: Ledger, names: dict[str, str], _w: LedgerWorld) -> Awaitable[Any]:
            quote_id = next(k for k, v in names.items() if v == f"quote_id@{step}")
            return ledger.quote(None, from_quote=quote_id, **kw)

        return call

    def confirm(step: int, key: str) -> Step:
        def call(ledger: Ledger, names: dict[str, str], _w: LedgerWorld) -> Awaitable[Any]:
            quote_id = next(k for k, v in names.items() if v == f"quote_id@{step}")
            return ledger.confirm(quote_id, key)

        return call

    def later(**delta: float) -> Step:
        async def call(_ledger: Ledger, _names: dict[str, str], w: LedgerWorld) -> None:
            w.clock.advance(**delta)

        return call

    return [
        quote(arrears, amount_minor=due // 3, channel="ussd"),  # 0: partial
        quote(arrears, amount_minor=1, channel="ussd"),  # 1: below the minimum
        quote(arrears, amount_minor=0),  # 2: invalid amount
        confirm(0, "k0"),  # 3: pays the oldest bills first, one partly
        confirm(0, "k0"),  # 4: replay
        confirm(0, "k-other"),  # 5: quote already confirmed
        from_quote(0, channel="ivr"),  # 6: the rest
        quote(arrears, amount_minor=due * 2, channel="chat"),  # 7: stale once 6 is paid
        confirm(6, "k6"),  # 8
        confirm(7, "k7"),  # 9: already paid recently (quote of step 6)
        confirm(7, "k0"),  # 10: key conflict
        from_quote(6),  # 11: already paid recently
        from_quote(6, override=True),  # 12: a second payment, explicitly
        confirm(12, "k12"),  # 13: all of it to credit
        quote(one, amount_minor=10**9, channel="web"),  # 14: overpayment, credited
        quote(one),  # 15
        later(seconds=world.profile.payments.quote_ttl_seconds),
        confirm(15, "k15"),  # 17: expired
        quote(one, amount_minor=10**9 + 1),  # 18
        confirm(14, "k14"),  # 19: expired too
        confirm(18, "k18"),  # 20: pays the bill, the rest to credit
        quote(paid_up),  # 21: nothing due
        quote(paid_up, override=True),  # 22: nothing due, no recent payment
        quote("12"),  # 23: invalid code
        later(hours=world.profile.payments.recent_payment_window_hours + 1),
        quote(arrears),  # 25: nothing due any more
        confirm(18, "k18"),  # 26: a replay long after
    ]


async def test_one_statement_and_general_transaction_leave_the_same_ledger(
    pg_world: WorldFactory,
) -> None:
    worlds = [await pg_world("kw"), await pg_world("kw")]
    ledgers = [
        Ledger(worlds[0].sessions, worlds[0].profile, worlds[0].clock),
        Ledger(worlds[1].sessions, worlds[1].profile, worlds[1].clock, single_statements=False),
    ]
    assert ledgers[0]._pg is not None and ledgers[1]._pg is None
    paid_in_one = count_single_statement_payments(ledgers[0])
    answers: list[list[Any]] = [[], []]
    names: list[dict[str, str]] = [{}, {}]
    for index, step in enumerate(_script(worlds[0])):
        for side in (0, 1):
            answers[side].append(
                await _answer(step(ledgers[side], names[side], worlds[side]), names[side], index)
            )
    for index, (one, general) in enumerate(zip(*answers, strict=True)):
        assert one == general, f"step {index}"
    assert await _ledger_state(worlds[0], names[0]) == await _ledger_state(worlds[1], names[1])
    # Replays and refusals (False) fell through to the general transaction.
    assert paid_in_one == [True, False, False, True, False, False, True, False, False, True, False]
    totals = await ledgers[0].totals()
    assert totals["payments"] == 4 and totals["paid_minor"] == totals["allocated_minor"]


async def test_eg_full_payment_is_the_same_both_ways(pg_world: WorldFactory) -> None:
    worlds = [await pg_world("eg"), await pg_world("eg")]
    states, receipts = [], []
    for world, single in zip(worlds, (True, False), strict=True):
        ledger = Ledger(world.sessions, world.profile, world.clock, single_statements=single)
        names: dict[str, str] = {}
        quote = await _answer(ledger.quote(world.account(ARREARS).code, channel="ivr"), names, 0)
        receipts.append(await _answer(ledger.confirm(names_of(names, "quote_id@0"), "k"), names, 1))
        assert quote["payee_masked"] == mask_name(world.account(ARREARS).payee_name)
        states.append(await _ledger_state(world, names))
    assert receipts[0] == receipts[1] and states[0] == states[1]
    assert states[0]["outbox"][0]["payload"]["language"] == "ar"


def names_of(names: dict[str, str], symbol: str) -> str:
    return next(k for k, v in names.items() if v == symbol)


# ---- PostgreSQL: quotes from elsewhere, renamed payees, lost connections ---------------


async def test_a_quote_made_by_another_process_pays_in_one_statement(
    pg_world: WorldFactory,
) -> None:
    world = await pg_world("eg")
    quote = await world.ledger.quote(world.account(ARREARS).code, channel="ussd")
    elsewhere = Ledger(world.sessions, world.profile, world.clock)  # knows nothing of it
    paid = count_single_statement_payments(elsewhere)
    receipt, replayed = await elsewhere.confirm(quote["quote_id"], "k")
    assert paid == [True] and not replayed
    assert receipt["payee_masked"] == quote["payee_masked"]
    assert receipt["bill_months"] == quote["bill_months"] and receipt["channel"] == "ussd"
    again, replayed = await world.ledger.confirm(quote["quote_id"], "k")
    assert replayed and again == receipt


async def test_a_payee_renamed_after_the_quote_gets_the_new_name_on_the_receipt(
    pg_world: WorldFactory,
) -> None:
    world = await pg_world("eg")
    quote = await world.ledger.quote(world.account(ONE_UNPAID).code)
    async with world.sessions() as s, s.begin():
        await s.execute(update(Account).where(Account.id == 1).values(payee_name="سارة محمد علي"))
    paid = count_single_statement_payments(world.ledger)
    receipt, _ = await world.ledger.confirm(quote["quote_id"], "k")
    assert paid == [False]  # declined; the general transaction paid
    assert receipt["payee_masked"] == "سارة م. ع."
    async with world.sessions() as s:
        payload = (await s.execute(select(OutboxMessage.payload))).scalar_one()
    assert payload["payee_masked"] == "سارة م. ع."
    assert await payments_count(world) == 1


async def _kill_connections(world: LedgerWorld) -> int:
    admin = await asyncpg.connect(PG_DSN)
    try:
        database = world.database.url.rsplit("/", 1)[1]
        return len(
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
        )
    finally:
        await admin.close()


async def test_connections_killed_under_the_pool_cost_no_failed_call(
    pg_world: WorldFactory,
) -> None:
    world = await pg_world("eg")
    first = await world.ledger.quote(world.account(ONE_UNPAID).code)
    assert await _kill_connections(world) >= 1
    receipt, _ = await world.ledger.confirm(first["quote_id"], "k1")  # at once: no idle ping
    assert await _kill_connections(world) >= 1
    second = await world.ledger.quote(world.account(ARREARS).code)
    assert await _kill_connections(world) >= 1
    await asyncio.sleep(0.3)  # idle long enough to be pinged before use
    other, _ = await world.ledger.confirm(second["quote_id"], "k2")
    assert await payments_count(world) == 2
    assert (
        receipt["amount_minor"] + other["amount_minor"]
        == (await world.ledger.totals())["allocated_minor"]
    )
