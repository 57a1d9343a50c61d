"""A hypothesis state machine over the real ledger: random quotes (full, partial, over,
with and without override), confirms (new keys, retried keys, keys reused on other quotes)
and clock jumps past expiries and the recent-payment window.

Invariants after every step: money in == money allocated (bills + credit) == sum of the
receipts the model saw; a key always gets the receipt it first got; no bill is paid beyond
its amount; and credit comes only from a quote that asked for more than was due or that was
made with an explicit override (a bill paid twice without override would show up as credit).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from billing.db import create_engine, session_factory
from billing.demo_data import plan_accounts, seed_demo_data
from billing.ledger import Ledger, Refusal
from billing.models import Bill, Payment, PaymentAllocation, Quote
from tasdeed.profile import load_profile
from tests.conftest import SEED, FixedClock, new_database

ACCOUNTS = 4


def machine_for(kind: str, profile_id: str, pg_tpl: str, sqlite_tpl: Path, tmp: Path) -> type:
    profile = load_profile(profile_id)
    demo = [d for d, _ in plan_accounts(profile, SEED, ACCOUNTS)]

    class LedgerMachine(RuleBasedStateMachine):
        quotes = Bundle("quotes")
        keys = Bundle("keys")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.database = self.run(new_database(kind, pg_tpl, sqlite_tpl, tmp))
            self.engine = create_engine(self.database.url)
            self.sessions = session_factory(self.engine)
            self.clock = FixedClock()
            self.run(seed_demo_data(self.sessions, profile, SEED, self.clock(), count=ACCOUNTS))
            self.ledger = Ledger(self.sessions, profile, self.clock)
            self.receipt_by_key: dict[str, dict[str, Any]] = {}
            self.key_counter = 0

        def run(self, coro: Any) -> Any:
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            self.run(self.engine.dispose())
            self.run(self.database.drop())
            self.loop.close()

        @rule(target=keys)
        def new_key(self) -> str:
            self.key_counter += 1
            return f"key-{self.key_counter}"

        @rule(
            target=quotes,
            account=st.integers(0, ACCOUNTS - 1),
            share=st.sampled_from([None, None, None, 0.3, 1.0, 1.7]),
            override=st.booleans(),
        )
        def quote(self, account: int, share: float | None, override: bool) -> Any:
            due = self.run(self.ledger.balance(code=demo[account].code))["amount_due_minor"]
            amount = None if share is None else max(1, int(max(due, 1000) * share))
            try:
                quote = self.run(
                    self.ledger.quote(demo[account].code, amount_minor=amount, override=override)
                )
            except Refusal:
                return multiple()
            return quote["quote_id"]

        @rule(quote_id=quotes, key=keys)
        def confirm(self, quote_id: str, key: str) -> None:
            try:
                receipt, replayed = self.run(self.ledger.confirm(quote_id, key))
            except Refusal:
                return
            seen = self.receipt_by_key.get(key)
            if seen is not None:
                assert replayed and receipt == seen
            else:
                assert not replayed
                assert receipt["quote_id"] not in {
                    r["quote_id"] for r in self.receipt_by_key.values()
                }
                self.receipt_by_key[key] = receipt

        @rule(minutes=st.sampled_from([1, 1, 2, 6, 6, 30, 60 * 25]))
        def time_passes(self, minutes: int) -> None:
            self.clock.advance(minutes=minutes)

        @invariant()
        def money_in_equals_money_applied(self) -> None:
            totals = self.run(self.ledger.totals())
            assert totals["paid_minor"] == totals["allocated_minor"]
            assert totals["payments"] == len(self.receipt_by_key)
            assert totals["paid_minor"] == sum(
                r["amount_minor"] for r in self.receipt_by_key.values()
            )

        @invariant()
        def no_bill_paid_twice_without_override(self) -> None:
            self.run(self._check_bills_and_credit())

        async def _check_bills_and_credit(self) -> None:
            async with self.sessions() as s:
                for bill in (await s.scalars(select(Bill))).all():
                    assert 0 <= bill.paid_minor <= bill.amount_minor
                    assert (bill.status == "paid") == (bill.paid_minor == bill.amount_minor)
                rows = await s.execute(
                    select(PaymentAllocation.amount_minor, Quote)
                    .join(Payment, Payment.id == PaymentAllocation.payment_id)
                    .join(Quote, Quote.id == Payment.quote_id)
                    .where(PaymentAllocation.bill_id.is_(None))
                )
                for credit, quote in rows.all():
                    assert quote.override or quote.amount_minor > quote.amount_due_minor
                    # Paying when nothing was due means paying a bill again: only on override.
                    assert quote.amount_due_minor > 0 or quote.override
                    if not quote.override:
                        assert credit == quote.amount_minor - quote.amount_due_minor

    return LedgerMachine


@pytest.mark.parametrize(
    ("kind", "profile_id"), [("sqlite", "kw"), ("sqlite", "eg"), ("postgres", "kw")]
)
def test_ledger_state_machine(
    kind: str, profile_id: str, pg_template: str, sqlite_template: Path, tmp_path: Path
) -> None:
    machine = machine_for(kind, profile_id, pg_template, sqlite_template, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20 if kind == "postgres" else 30,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
