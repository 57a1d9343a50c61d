"""`python -m billing demo-reset`: the demo ledger back to what the demo seed made of it.

A few tries on the simulator use the demo codes up: their bills are paid, and a second payment
within the recent-payment window asks for a second confirmation. Resetting empties every table
of the ledger (a demo ledger holds only demo data: accounts, bills, payments, quotes, plans,
complaints, events, credits, notices) and fills it again in the same transaction with the seed
and number of accounts it was first filled with (`meta`, billing/demo_data.py): the same codes,
payees, areas and bill amounts, so every code the README lists is payable again. Bill months
and rule scenarios are counted back from today, as at the first seed.

Only a ledger the demo seed filled for this profile is reset; anything else is refused
(`NotADemoLedger`), and the command refuses to run in production. The simulator page's
"reset demo data" button reaches it through billing/demo_routes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from billing.db import AsyncSession, SessionFactory
from billing.demo_data import DEFAULT_ACCOUNTS, META_ACCOUNTS, META_SEED, fill_demo_data
from billing.models import Base, Meta
from tasdeed.profile import Profile


class NotADemoLedger(Exception):
    """The ledger was not filled by the demo seed (or for another profile): never emptied."""


@dataclass(frozen=True, slots=True)
class DemoReset:
    profile: str
    seed: int
    accounts: int


async def _empty(s: AsyncSession) -> None:
    """Every row of every ledger table, in one transaction (children before parents)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    connection = await s.connection()
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(table.name) for table in tables)
        await s.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            await s.execute(table.delete())


async def reset_demo_data(
    sessions: SessionFactory, profile: Profile, seed: int, now: datetime
) -> DemoReset:
    """Empty the demo ledger and seed it again. `seed` is used only for a ledger seeded before
    ledgers recorded their seed (the default seed, DEMO_SEED)."""
    async with sessions() as s, s.begin():
        meta = {row.key: row.value for row in (await s.scalars(select(Meta))).all()}
        seeded_for = meta.get("profile")
        if seeded_for is None:
            raise NotADemoLedger("this ledger was not filled by the demo seed")
        if seeded_for != profile.id:
            raise NotADemoLedger(f"this ledger holds profile {seeded_for!r}, not {profile.id!r}")
        seed = int(meta.get(META_SEED, seed))
        count = int(meta.get(META_ACCOUNTS, DEFAULT_ACCOUNTS))
        await _empty(s)
        await fill_demo_data(s, profile, seed, now, count)
    return DemoReset(profile.id, seed, count)
