"""Demo data the utility rules need, deterministic like the rest of the demo ledger:
facts about each account, a year of meter readings in Kuwait, service events in Saudi Arabia.

Scenario accounts (same order as the demo codes in the README):
- Kuwait #2 (three bills in arrears) has an installment plan with 3 missed installments:
  its government transactions are blocked. Kuwait #3 (all paid) saved 15 % electricity and
  30 % water on last year: eligible for Ahsemha, discounts 30 % and 50 %.
- Saudi #1 had a 7-hour outage and a reconnection that took 3 hours: 200 + 100 SAR.
  Saudi #4 has a person with special needs depending on the electricity.
- Egypt #2 (three bills in arrears) is flagged for a prepaid meter; Egypt #1 is not.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from billing.db import AsyncSession
from billing.models import Account, AccountFacts, InstallmentPlan, MeterReading, ServiceEvent
from tasdeed.profile import Profile


def _months_back(today: date, count: int) -> list[str]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append(f"{year:04d}-{month:02d}")
    return list(reversed(months))


async def seed_rule_data(
    s: AsyncSession, profile: Profile, accounts: list[Account], seed: int, now: datetime
) -> None:
    rng = random.Random(f"{seed}:{profile.id}:rules")
    for index, account in enumerate(accounts):
        s.add(
            AccountFacts(
                account_id=account.id,
                citizen=index < 4 or rng.random() < 0.85,
                private_housing=index < 4 or rng.random() < 0.8,
                special_needs_dependant=profile.country == "SA" and index == 3,
                has_violation=index >= 4 and rng.random() < 0.05,
                ahsemha_registered_on=_registered_on(now.date())
                if profile.country == "KW"
                else None,
                pv_capacity_pct=None,
            )
        )
    if profile.country == "KW":
        _kuwait(s, accounts, rng, now)
    if profile.country == "SA":
        _saudi(s, accounts, now)


def _registered_on(today: date) -> date:
    """Two days after last month's reading (read on the 25th): within the 7-day rule."""
    year, month = (int(part) for part in _months_back(today, 1)[0].split("-"))
    return date(year, month, 27)


def _kuwait(s: AsyncSession, accounts: list[Account], rng: random.Random, now: datetime) -> None:
    months = _months_back(now.date(), 13)
    for index, account in enumerate(accounts):
        for kind, low, high in (("electricity", 900, 4000), ("water", 20, 90)):
            base = rng.randrange(low, high)
            value = rng.randrange(10_000, 90_000)
            year_before = base  # the first month's consumption
            for position, month in enumerate(months):
                consumption = (
                    base + rng.randrange(-base // 10, base // 10 + 1) if position else base
                )
                if index == 2 and position == len(months) - 1:
                    # Twelve months after the first: saved 15 % electricity, 30 % water.
                    consumption = year_before * (85 if kind == "electricity" else 70) // 100
                value += consumption if position else 0
                year, number = (int(part) for part in month.split("-"))
                s.add(
                    MeterReading(
                        account_id=account.id,
                        kind=kind,
                        month=month,
                        value=value,
                        consumption=consumption,
                        entered_electronically=True,
                        channel="demo",
                        read_on=date(year, number, 25),
                    )
                )
    plan_account = accounts[1]
    s.add(
        InstallmentPlan(
            plan_number="P00000001",
            account_id=plan_account.id,
            total_minor=300_000,
            installment_minor=50_000,
            months=6,
            status="active",
            debt_acknowledged=True,
            missed_count=3,
            first_due_date=(now - timedelta(days=120)).date(),
            created_at=now - timedelta(days=150),
        )
    )


def _saudi(s: AsyncSession, accounts: list[Account], now: datetime) -> None:
    first = accounts[0]
    outage_start = now - timedelta(days=10, hours=8)
    reconnection_start = now - timedelta(days=5, hours=5)
    s.add_all(
        [
            ServiceEvent(
                event_id=f"OUT-{first.account_number}-1",
                account_id=first.id,
                kind="outage",
                started_at=outage_start,
                ended_at=outage_start + timedelta(hours=7),
                details={"planned": False},
            ),
            ServiceEvent(
                event_id=f"REC-{first.account_number}-1",
                account_id=first.id,
                kind="reconnection",
                started_at=reconnection_start,
                ended_at=reconnection_start + timedelta(hours=3),
                details={},
            ),
        ]
    )
