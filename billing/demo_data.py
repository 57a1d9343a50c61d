"""Deterministic demo data per profile: believable accounts, meters, months of bills, codes.

The same seed gives the same accounts, codes and amounts on every machine, so the README can
list demo e-payment codes. The first four accounts are fixed scenarios:
  1. one unpaid bill          2. arrears of three bills (prepaid-meter warning in Egypt)
  3. everything paid           4. one unpaid bill, English as the account's language
The rest are random but believable (most paid, some in arrears). Every account has an SMS
number (opted in by default); the first one has also opted in to WhatsApp, so the demo shows
notices on both channels. The ledger records the seed and the number of accounts it was
filled with (`meta`), so `python -m billing demo-reset` (billing/demo_reset.py) can fill it
again exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from billing.db import AsyncSession, SessionFactory
from billing.demo_rules import seed_rule_data
from billing.models import Account, Bill, ContactPreference, Meta, Meter, PaymentCode
from tasdeed.codes import damm_check_digit
from tasdeed.money import currency_exponent
from tasdeed.profile import Profile

FIRST_NAMES = (
    "محمد", "أحمد", "محمود", "مصطفى", "عبدالله", "خالد", "عمر", "يوسف", "إبراهيم", "حسن",
    "فاطمة", "مريم", "نورة", "سارة", "هدى", "منى", "عائشة", "ريم", "سلمى", "ليلى",
)  # fmt: skip
FATHER_NAMES = FIRST_NAMES[:10]
FAMILY_NAMES = {
    "EG": ("السيد", "عبدالرحمن", "الشريف", "منصور", "عبدالعزيز", "النجار", "فهمي", "سالم"),
    "KW": ("العنزي", "المطيري", "الرشيدي", "العجمي", "الكندري", "الشمري", "الهاجري", "البناي"),
    "SA": ("القحطاني", "الغامدي", "الزهراني", "الشهري", "العتيبي", "الدوسري", "الحربي", "السبيعي"),
}
# Typical monthly bill in major units (low, high) per currency.
BILL_RANGE = {"EGP": (120, 1800), "KWD": (6, 95), "SAR": (90, 1100)}
MONTHS_OF_BILLS = 6
DEFAULT_ACCOUNTS = 120
SCENARIOS = 4  # the fixed scenario accounts come first
README_PAYABLE = 12  # payable demo codes the README lists per profile
# `meta` keys besides "profile": what the demo seed filled the ledger with.
META_SEED = "demo_seed"
META_ACCOUNTS = "demo_accounts"


@dataclass(frozen=True)
class DemoAccount:
    code: str
    account_number: str
    payee_name: str
    area: str
    unpaid_bills: int
    amount_due_minor: int
    language: str


def _months_back(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def _code(rng: random.Random, length: int) -> str:
    body = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(length - 2))
    return body + damm_check_digit(body)


def _bill_amount(rng: random.Random, profile: Profile, exponent: int) -> int:
    low, high = BILL_RANGE[profile.currency]
    minor = rng.randrange(low * 10**exponent, high * 10**exponent)
    # Round to a believable step: whole fils in KWD (5 fils), piastres/halalas in 25s.
    step = 5 if exponent == 3 else 25
    return max(step, minor - minor % step)


def plan_accounts(
    profile: Profile, seed: int, count: int = DEFAULT_ACCOUNTS
) -> list[tuple[DemoAccount, list[int]]]:
    """The demo accounts and each one's bill amounts (oldest first); no database needed."""
    rng = random.Random(f"{seed}:{profile.id}")
    exponent = currency_exponent(profile.currency)
    families = FAMILY_NAMES[profile.country]
    scenarios = [1, 3, 0, 1]
    planned: list[tuple[DemoAccount, list[int]]] = []
    seen_codes: set[str] = set()
    width = profile.account_number.digits
    for index in range(count):
        code = _code(rng, profile.payment_code.length)
        while code in seen_codes:
            code = _code(rng, profile.payment_code.length)
        seen_codes.add(code)
        # Given name, father's name (always a man's), family name.
        given = rng.choice(FIRST_NAMES)
        father = rng.choice([n for n in FATHER_NAMES if n != given])
        name = f"{given} {father} {rng.choice(families)}"
        amounts = [_bill_amount(rng, profile, exponent) for _ in range(MONTHS_OF_BILLS)]
        if index < len(scenarios):
            unpaid = scenarios[index]
        else:
            unpaid = rng.choices([0, 1, 2, 3, 4], weights=[50, 30, 10, 6, 4])[0]
        planned.append(
            (
                DemoAccount(
                    code=code,
                    account_number=f"{profile.country}{index + 1:0{width}d}",
                    payee_name=name,
                    area=rng.choice(profile.areas),
                    unpaid_bills=unpaid,
                    amount_due_minor=sum(amounts[MONTHS_OF_BILLS - unpaid :]),
                    language="en" if index == 3 else "ar",
                ),
                amounts,
            )
        )
    return planned


def readme_accounts(profile: Profile, seed: int) -> list[DemoAccount]:
    """The demo accounts the README lists: the scenarios, then the next accounts with
    something to pay, until README_PAYABLE of the listed codes are payable."""
    listed: list[DemoAccount] = []
    for index, (demo, _amounts) in enumerate(plan_accounts(profile, seed)):
        if index >= SCENARIOS and sum(1 for d in listed if d.unpaid_bills) >= README_PAYABLE:
            break
        if index < SCENARIOS or demo.unpaid_bills:
            listed.append(demo)
    return listed


async def seed_demo_data(
    sessions: SessionFactory,
    profile: Profile,
    seed: int,
    now: datetime,
    count: int = DEFAULT_ACCOUNTS,
) -> bool:
    """Fill an empty ledger; returns False (and changes nothing) if it was already seeded.
    Refuses a ledger seeded for another profile: one deployment serves one utility."""
    async with sessions() as s, s.begin():
        seeded = await s.scalar(select(Meta).where(Meta.key == "profile"))
        if seeded is not None:
            if seeded.value != profile.id:
                raise RuntimeError(
                    f"this ledger holds profile {seeded.value!r}, not {profile.id!r}: "
                    "use another DATABASE_URL"
                )
            return False
        await fill_demo_data(s, profile, seed, now, count)
        return True


async def fill_demo_data(
    s: AsyncSession, profile: Profile, seed: int, now: datetime, count: int = DEFAULT_ACCOUNTS
) -> None:
    """The demo data, into an empty ledger, inside the caller's transaction."""
    s.add(Meta(key="profile", value=profile.id))
    s.add(Meta(key=META_SEED, value=str(seed)))
    s.add(Meta(key=META_ACCOUNTS, value=str(count)))
    months = _months_back(now.date(), MONTHS_OF_BILLS)
    rng = random.Random(f"{seed}:{profile.id}:meters")
    created: list[Account] = []
    for demo, amounts in plan_accounts(profile, seed, count):
        account = Account(
            account_number=demo.account_number,
            payee_name=demo.payee_name,
            area=demo.area,
            category="private_housing",
            phone=f"+{rng.randrange(10**10, 10**11)}",
            language=demo.language,
            ledger_version=0,
            credit_minor=0,
            created_at=now - timedelta(days=400 + rng.randrange(2000)),
        )
        s.add(account)
        await s.flush()
        created.append(account)
        s.add(PaymentCode(code=demo.code, account_id=account.id))
        if len(created) == 1:
            s.add(
                ContactPreference(
                    account_id=account.id,
                    channel="whatsapp",
                    opted_in=True,
                    source="demo",
                    updated_at=now,
                )
            )
        s.add(
            Meter(
                account_id=account.id,
                meter_number=f"M{account.id:07d}",
                kind="electricity",
                installed_on=(now - timedelta(days=500 + rng.randrange(3000))).date(),
                prepaid=False,
            )
        )
        for month_index, (month, amount) in enumerate(zip(months, amounts, strict=True)):
            paid = month_index < MONTHS_OF_BILLS - demo.unpaid_bills
            issued = month.replace(day=28)
            s.add(
                Bill(
                    account_id=account.id,
                    month=month.strftime("%Y-%m"),
                    amount_minor=amount,
                    paid_minor=amount if paid else 0,
                    status="paid" if paid else "unpaid",
                    issued_on=issued,
                    due_date=issued + timedelta(days=30),
                    paid_at=datetime.combine(issued + timedelta(days=10), datetime.min.time())
                    if paid
                    else None,
                )
            )
    await seed_rule_data(s, profile, created, seed, now)
