"""Synthetic accounts in bulk, for the bill-day tests and benchmark (`python -m billing
seed-bulk`): N accounts, each with a valid e-payment code (Damm check digit), one unpaid bill
for the cycle, a phone number, and a deterministic mix of what real populations have —
English speakers, numbers without a phone, opt-outs and WhatsApp opt-ins.

PostgreSQL gets COPY (a million accounts in well under a minute here); SQLite executemany.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from billing.db import SessionFactory
from billing.models import Account, Bill, ContactPreference, PaymentCode
from tasdeed.codes import damm_check_digit
from tasdeed.money import currency_exponent
from tasdeed.profile import Profile

CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class BulkMix:
    """Every n-th account (0: none) gets the trait."""

    english_every: int = 7
    no_phone_every: int = 101
    sms_opt_out_every: int = 53
    whatsapp_opt_in_every: int = 11


@dataclass(frozen=True, slots=True)
class BulkResult:
    first_account_id: int
    accounts: int
    cycle: str


def _rows(
    profile: Profile, start_id: int, count: int, cycle: str, now: datetime, seed: int, mix: BulkMix
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    rng = random.Random(f"bulk:{seed}:{profile.id}:{start_id}")
    year, month = (int(part) for part in cycle.split("-"))
    issued = date(year, month, 28)
    due = issued + timedelta(days=14)
    exponent = currency_exponent(profile.currency)
    body_length = profile.payment_code.length - 1
    for offset in range(count):
        account_id = start_id + offset
        number = offset + 1
        body = f"9{account_id:0{body_length - 1}d}"[-body_length:]
        account = {
            "id": account_id,
            "account_number": f"B{account_id:011d}",
            "payee_name": "مشترك تجريبي",
            "area": profile.areas[account_id % len(profile.areas)],
            "category": "private_housing",
            "phone": None
            if mix.no_phone_every and number % mix.no_phone_every == 0
            else f"+{rng.randrange(10**10, 10**11)}",
            "language": "en" if mix.english_every and number % mix.english_every == 0 else "ar",
            "ledger_version": 0,
            "credit_minor": 0,
            "created_at": now,
        }
        code = {"code": body + damm_check_digit(body), "account_id": account_id}
        bill = {
            "account_id": account_id,
            "month": cycle,
            "amount_minor": rng.randrange(20, 3000) * 10**exponent + rng.randrange(10**exponent),
            "paid_minor": 0,
            "status": "unpaid",
            "issued_on": issued,
            "due_date": due,
            "paid_at": None,
        }
        preferences = []
        if mix.sms_opt_out_every and number % mix.sms_opt_out_every == 0:
            preferences.append((account_id, "sms", False))
        if mix.whatsapp_opt_in_every and number % mix.whatsapp_opt_in_every == 0:
            preferences.append((account_id, "whatsapp", True))
        yield (
            account,
            code,
            bill,
            [
                {"account_id": a, "channel": c, "opted_in": o, "source": "bulk", "updated_at": now}
                for a, c, o in preferences
            ],
        )


async def seed_bulk_accounts(
    sessions: SessionFactory,
    profile: Profile,
    count: int,
    cycle: str,
    now: datetime,
    *,
    seed: int = 153,
    mix: BulkMix = BulkMix(),
) -> BulkResult:
    now = now.replace(tzinfo=None) if now.tzinfo else now  # the ledger keeps naive UTC
    async with sessions() as s:
        start_id = int(await s.scalar(select(func.coalesce(func.max(Account.id), 0))) or 0) + 1
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        accounts, codes, bills, preferences = [], [], [], []
        for account, code, bill, prefs in _rows(
            profile, start_id + done, size, cycle, now, seed, mix
        ):
            accounts.append(account)
            codes.append(code)
            bills.append(bill)
            preferences += prefs
        async with sessions() as s, s.begin():
            await s.execute(insert(Account), accounts)
            await s.execute(insert(PaymentCode), codes)
            await s.execute(insert(Bill), bills)
            if preferences:
                await s.execute(insert(ContactPreference), preferences)
        done += size
    await _bump_postgres_sequence(sessions)
    return BulkResult(start_id, count, cycle)


async def _bump_postgres_sequence(sessions: SessionFactory) -> None:
    """Explicit ids leave PostgreSQL's serial behind; move it past them."""
    async with sessions() as s, s.begin():
        connection = await s.connection()
        if connection.dialect.name != "postgresql":
            return
        await connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('accounts', 'id'),"
            " (SELECT max(id) FROM accounts))"
        )
