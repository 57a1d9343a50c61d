"""USSD payment walks under faults, and the checks that they told the truth: shared by
tests/integration/test_faults_real_parts.py and bench/soak_faults.py.

A `UssdWalker` is a feature phone behind Africa's Talking: every request carries the whole
input chain, and a hop that gets no page (a 5xx, a reset, a timeout) is sent again a couple
of times, as aggregators do, before the session counts as broken. It walks one payment
(Arabic, pay a bill, the code, page to the confirmation, confirm) and reads how it ended:
a receipt, "outcome unknown: do not pay again", a screen that says nothing was charged,
"this bill was paid recently", a lost session, or an error.

`Payer` is a person with one bill: they walk, and when a walk did not end in a receipt or
in "paid recently" they dial again (the redial resumes a dropped payment, which answers with
the receipt of a confirm that landed or with a fresh quote), a few times at most.

`audit` then checks every walk against the ledger itself (PostgreSQL): each receipt seen is
a payment; each "outcome unknown" is looked up by its idempotency key through
`GET /v1/payments/{key}` and that answer agrees with the ledger; no screen that says nothing
was charged hides a payment; no account was charged twice; money in equals money applied.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp
from sqlalchemy import func, select

from billing.db import SessionFactory
from billing.models import Account, Bill, Payment, PaymentAllocation, PaymentCode, Quote
from tasdeed.i18n import catalogue
from tasdeed.profile import Profile

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
RESUME_DIGITS = 4  # the code's last digits a resumed payment asks for (tasdeed.flows.calls)
MAX_HOPS = 14


class Outcome(StrEnum):
    RECEIPT = "receipt"  # END: paid, with a receipt number
    UNKNOWN = "unknown"  # END: outcome unknown, do not pay again, check later
    PAID_RECENTLY = "paid_recently"  # told the bill was just paid (the walker then cancels)
    NOT_PAID = "not_paid"  # END that says nothing was charged (cancelled, too many tries, …)
    SESSION_LOST = "session_lost"  # END: the session is gone (state lost, out of sync)
    ERROR = "error"  # no page after the aggregator's retries (5xx, reset, timeout)
    OTHER = "other"  # any other screen the walker did not expect


def conversation_id(session_id: str) -> str:
    """The USSD channel's conversation id (ussd/service.py: the hash of the empty chain),
    which every idempotency key of that session starts with (tasdeed/flows/calls.py)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:20]


def payment_key_prefix(session_id: str) -> str:
    return f"ussd:{conversation_id(session_id)}:pay:"


def _catalogue_prefix(key: str, dialect: str) -> str | None:
    """The fixed start of a catalogue text (up to its first placeholder), as Arabic shows it;
    None when this catalogue has no such key."""
    text = catalogue("ar", dialect).get(key)
    if text is None:
        return None
    return text.split("{", 1)[0].split("\n", 1)[0].strip() or None


@dataclass(frozen=True)
class Screens:
    """The texts a walker tells screens by, from the profile's Arabic catalogue."""

    receipt: str
    unknown: str
    paid_recently: tuple[str, ...]
    not_paid: tuple[str, ...]
    session_lost: tuple[str, ...]
    resume: tuple[str, ...]
    confirm_option: str
    pay_option: str
    code_prompt: str
    unavailable: str  # "the service is not available now, try again": the same step again

    @classmethod
    def for_profile(cls, profile: Profile) -> Screens:
        d = profile.dialect

        def some(*keys: str) -> tuple[str, ...]:
            found = (_catalogue_prefix(k, d) for k in keys)
            return tuple(p for p in found if p)

        receipt = _catalogue_prefix("receipt.summary", d)
        unknown = _catalogue_prefix("error.payment_outcome_unknown", d)
        confirm = _catalogue_prefix("pay.confirm", d)
        pay = _catalogue_prefix("main.pay", d) or "دفع فاتورة"
        code = _catalogue_prefix("ask.code", d) or "أدخل كود السداد"
        assert receipt and unknown and confirm
        return cls(
            receipt=receipt,
            unknown=unknown[:20],
            paid_recently=some(
                "pay.paid_recently", "refusal.already_paid_recently", "pay.paid_already"
            ),
            not_paid=some("flow.cancelled", "flow.too_many_tries", "flow.over_budget",
                          "flow.handoff"),
            session_lost=some("session.out_of_sync", "session.phone_changed",
                              "session.too_many", "ussd.too_many_inputs"),
            resume=some("resume.prove", "resume.prompt", "resume.wrong_digits"),
            confirm_option=f"1 {confirm}",
            pay_option=f"2 {pay}",
            code_prompt=code[:12],
            unavailable=_catalogue_prefix("error.billing_unavailable", d) or "\x00",
        )  # fmt: skip


@dataclass
class WalkResult:
    session_id: str
    phone: str
    code: str
    outcome: Outcome = Outcome.OTHER
    screen: str = ""
    previous: str = ""  # the page before the last one (where the walk was)
    trail: list[str] = field(default_factory=list)  # every input and page, for a post-mortem
    receipt: str | None = None  # the receipt number shown (Latin digits)
    confirmed: bool = False  # the walker pressed confirm
    resumed: bool = False  # the session started on a dropped payment
    http_errors: int = 0  # hops that got no page the first time (and were sent again)
    server_errors: int = 0  # of those, answered 5xx by the gateway
    hops: int = 0
    seconds: float = 0.0

    @property
    def key_prefix(self) -> str:
        return payment_key_prefix(self.session_id)


class UssdWalker:
    """One phone on Africa's Talking, speaking to the gateway's /ussd/at."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        gateway_url: str,
        profile: Profile,
        screens: Screens,
        *,
        phone: str | None = None,
        hop_timeout_s: float = 25.0,
        aggregator_retries: int = 2,
        retry_pause_s: float = 0.3,
    ):
        self.http = http
        self.url = gateway_url.rstrip("/") + "/ussd/at"
        self.profile = profile
        self.screens = screens
        self.phone = phone or f"+2010{uuid.uuid4().int % 10**8:08d}"
        self.timeout = aiohttp.ClientTimeout(total=hop_timeout_s)
        self.aggregator_retries = aggregator_retries
        self.retry_pause_s = retry_pause_s

    async def _hop(self, result: WalkResult, text: str) -> str | None:
        """One hop, sent again (same chain) when no page came back; None: gave up."""
        form = {"sessionId": result.session_id, "serviceCode": self.profile.ussd_service_code,
                "phoneNumber": self.phone, "networkCode": "60201", "text": text}  # fmt: skip
        for attempt in range(self.aggregator_retries + 1):
            if attempt:
                result.http_errors += 1
                await asyncio.sleep(self.retry_pause_s * attempt)
            try:
                async with self.http.post(self.url, data=form, timeout=self.timeout) as response:
                    body = await response.text()
                    result.trail.append(f"> {text!r} [{response.status}] {body!r}")
                    if response.status >= 500:
                        result.server_errors += 1
                        continue
                    if body[:4] in ("CON ", "END "):
                        result.hops += 1
                        return body
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.trail.append(f"> {text!r} [{type(exc).__name__}]")
                continue
        return None

    async def walk(self, code: str, *, stop_at_confirm: bool = False) -> WalkResult:
        """A new session from the dial to its end. `stop_at_confirm`: return on the
        confirmation page (outcome OTHER) without pressing confirm."""
        started = time.monotonic()
        result, screen = await self.dial(code)
        try:
            typed: str | None = None  # the last code or digits typed, to type again
            while screen is not None and result.hops <= MAX_HOPS:
                if screen.startswith("END "):
                    self.classify(result, screen)
                    return result
                body = screen[4:]
                s = self.screens
                if "1 العربية" in body and "2 English" in body:
                    choice = "1"
                elif any(p in body for p in s.resume):
                    result.resumed = True
                    choice = typed = code[-RESUME_DIGITS:]
                elif any(p in body for p in s.paid_recently):
                    result.outcome = Outcome.PAID_RECENTLY
                    choice = "2"  # do not pay again
                elif s.confirm_option in body:
                    if stop_at_confirm:
                        result.screen = screen
                        return result
                    result.confirmed = True
                    choice = "1"
                elif s.pay_option in body:
                    choice = "2"
                elif s.code_prompt in body:
                    choice = typed = code
                elif body.startswith(s.unavailable) and typed is not None:
                    # A data step that failed on the backend shows only the error (its
                    # prompt would need a second page): the person types it again.
                    choice = typed
                elif "99 " in body:
                    choice = "99"
                else:
                    result.screen = screen
                    result.outcome = Outcome.OTHER
                    return result
                result.previous = screen
                screen = await self.press(result, choice)
            result.outcome = Outcome.ERROR if screen is None else Outcome.OTHER
            result.screen = screen or ""
            return result
        finally:
            result.seconds = time.monotonic() - started

    async def dial(self, code: str) -> tuple[WalkResult, str | None]:
        """A new session's first hop (the walk by hand: `press` the rest)."""
        result = WalkResult(f"ATUid_{uuid.uuid4().hex}", self.phone, code)
        self.inputs: list[str] = []
        return result, await self._hop(result, "")

    async def press(self, result: WalkResult, value: str) -> str | None:
        self.inputs.append(value)
        return await self._hop(result, "*".join(self.inputs))

    def classify(self, result: WalkResult, screen: str) -> None:
        result.screen = screen
        body = screen[4:]
        s = self.screens
        if body.startswith(s.receipt):
            result.outcome = Outcome.RECEIPT
            marker = "الإيصال"
            if marker in body:
                after = body.split(marker, 1)[1].split("\n", 1)[0].strip()
                result.receipt = after.translate(ARABIC_DIGITS).split()[0]
        elif body.startswith(s.unknown):
            result.outcome = Outcome.UNKNOWN
        elif result.outcome is Outcome.PAID_RECENTLY:
            pass  # the cancel after "paid recently"
        elif any(body.startswith(p) for p in s.paid_recently):
            result.outcome = Outcome.PAID_RECENTLY  # paid, nothing more payable: no "again"
        elif any(body.startswith(p) for p in s.not_paid):
            result.outcome = Outcome.NOT_PAID
        elif any(body.startswith(p) for p in s.session_lost):
            result.outcome = Outcome.SESSION_LOST
        elif screen.startswith("END ") and body.startswith(s.unavailable):
            # The state store was unreachable: the session ended on "service unavailable",
            # which claims nothing about the payment; a redial tells the truth.
            result.outcome = Outcome.SESSION_LOST
        else:
            result.outcome = Outcome.OTHER


@dataclass
class Payer:
    """A person paying one bill: walks again until a receipt or "paid recently"."""

    walker: UssdWalker
    code: str
    account_id: int
    max_walks: int = 4
    pause_s: tuple[float, float] = (0.2, 1.5)
    walks: list[WalkResult] = field(default_factory=list)

    async def pay(self) -> list[WalkResult]:
        for _ in range(self.max_walks):
            result = await self.walker.walk(self.code)
            self.walks.append(result)
            if result.outcome in (Outcome.RECEIPT, Outcome.PAID_RECENTLY):
                break
            await asyncio.sleep(random.uniform(*self.pause_s))
        return self.walks


# ---- the audit ----------------------------------------------------------------------------


@dataclass
class Audit:
    walks: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    receipts_seen: int = 0
    unknown: int = 0
    unknown_landed: int = 0
    payments: int = 0
    double_charges: int = 0
    lost: int = 0  # receipts shown that the ledger does not hold (for that account)
    false_not_paid: int = 0  # "nothing was charged" screens whose session did pay
    false_paid_recently: int = 0  # "paid recently" for an account the ledger never charged
    # A resumed walk (the person came back to a dropped payment) that ended "nothing was
    # charged" although an earlier confirm of theirs is in the ledger: true of that walk,
    # misleading to the person; counted, not failed.
    not_paid_after_earlier_payment: int = 0
    status_disagrees: int = 0  # GET /v1/payments/{key} answers other than the ledger holds
    overpaid_bills: int = 0
    unbalanced_minor: int = 0  # paid - allocated over the whole ledger
    server_errors: int = 0  # gateway 5xx answers seen (each was retried)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.double_charges
            or self.lost
            or self.false_not_paid
            or self.false_paid_recently
            or self.status_disagrees
            or self.overpaid_bills
            or self.unbalanced_minor
        )


async def payment_status(http: aiohttp.ClientSession, billing_url: str, key: str) -> str | None:
    """The receipt number the backend answers for a key, None for "payment_unknown"."""
    async with http.get(f"{billing_url.rstrip('/')}/v1/payments/{key}") as response:
        data = await response.json(content_type=None)
        if response.status == 200:
            return str(data["receipt_number"])
        if response.status == 404 and data.get("error") == "payment_unknown":
            return None
        raise AssertionError(f"status for {key}: {response.status} {data}")


async def audit(
    sessions: SessionFactory,
    http: aiohttp.ClientSession,
    billing_url: str,
    walks: Sequence[WalkResult],
    account_ids: dict[str, int],
) -> Audit:
    """Check every walk against the ledger (call it once nothing is in flight any more)."""
    report = Audit(walks=len(walks))
    async with sessions() as s:
        payments = (await s.scalars(select(Payment))).all()
        quotes = (await s.execute(select(Quote.id, Quote.account_id))).all()
        paid = int(await s.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0))) or 0)
        allocated = int(
            await s.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_minor), 0))) or 0
        )
        overpaid = int(
            await s.scalar(select(func.count(Bill.id)).where(Bill.paid_minor > Bill.amount_minor))
            or 0
        )
    report.payments = len(payments)
    report.unbalanced_minor = paid - allocated
    report.overpaid_bills = overpaid
    by_account: dict[int, list[Payment]] = {}
    for payment in payments:
        by_account.setdefault(payment.account_id, []).append(payment)
    for account_id, charged in by_account.items():
        if len(charged) > 1:
            report.double_charges += len(charged) - 1
            report.problems.append(
                f"account {account_id} charged {len(charged)} times: "
                + ", ".join(f"{p.idempotency_key} ({p.receipt_number})" for p in charged)
            )
    by_receipt = {p.receipt_number: p for p in payments}
    quotes_of: dict[int, list[str]] = {}
    for quote_id, account_id in quotes:
        quotes_of.setdefault(account_id, []).append(quote_id)
    by_prefix: dict[str, list[Payment]] = {}
    for payment in payments:
        key = payment.idempotency_key
        if ":pay:" in key:
            by_prefix.setdefault(key[: key.index(":pay:") + 5], []).append(payment)
    for walk in walks:
        report.outcomes[walk.outcome.value] += 1
        report.server_errors += walk.server_errors
        account_id = account_ids[walk.code]
        mine = by_prefix.get(walk.key_prefix, [])
        if walk.outcome is Outcome.RECEIPT:
            report.receipts_seen += 1
            found = by_receipt.get(walk.receipt or "")
            if found is None or found.account_id != account_id:
                report.lost += 1
                report.problems.append(f"receipt {walk.receipt} of {walk.session_id} not held")
        elif walk.outcome is Outcome.UNKNOWN:
            report.unknown += 1
            if mine:
                report.unknown_landed += 1
                for payment in mine:
                    answer = await payment_status(http, billing_url, payment.idempotency_key)
                    if answer != payment.receipt_number:
                        report.status_disagrees += 1
                        report.problems.append(f"status of {payment.idempotency_key}: {answer}")
            else:
                # Every key this session could have confirmed under: none may be known.
                for quote_id in quotes_of.get(account_id, []):
                    key = walk.key_prefix + quote_id
                    if await payment_status(http, billing_url, key) is not None:
                        report.status_disagrees += 1
                        report.problems.append(f"status of {key} names a payment not held")
        elif walk.outcome is Outcome.NOT_PAID and mine:
            report.false_not_paid += 1
            report.problems.append(f"{walk.session_id} said nothing was charged: {walk.screen!r}")
        elif walk.outcome is Outcome.NOT_PAID and walk.resumed and account_id in by_account:
            report.not_paid_after_earlier_payment += 1
        elif walk.outcome is Outcome.PAID_RECENTLY and account_id not in by_account:
            report.false_paid_recently += 1
            report.problems.append(f"{walk.session_id} was told 'paid recently', nothing held")
    return report


async def payable_codes(sessions: SessionFactory, limit: int) -> dict[str, int]:
    """Codes of accounts with something due and no payment yet: code → account id."""
    async with sessions() as s:
        due = (
            select(Bill.account_id)
            .group_by(Bill.account_id)
            .having(func.sum(Bill.amount_minor - Bill.paid_minor) > 0)
        )
        rows = await s.execute(
            select(PaymentCode.code, Account.id)
            .join(Account, Account.id == PaymentCode.account_id)
            .where(Account.id.in_(due))
            .where(~Account.id.in_(select(Payment.account_id)))
            .order_by(Account.id)
            .limit(limit)
        )
        return {str(code): int(account_id) for code, account_id in rows.all()}
