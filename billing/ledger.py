"""The reference backend's service layer: balances, the payment contract, complaints, plans.

The payment contract (DESIGN.md, "The one rule"):
- `quote` checks the code, finds the payee and what is due, and stores a quote that expires.
- `confirm(quote_id, idempotency_key)` moves money exactly once. In one transaction it
  (1) returns the stored receipt if the key was seen, (2) refuses unknown, used or expired
  quotes, (3) bumps the account's `ledger_version` only if it still equals the version the
  quote saw, so two confirms racing for one account serialise and the loser is refused,
  (4) spreads the amount over unpaid bills (rest to credit), (5) writes the payment under
  unique constraints on quote and key, and the receipt message to the outbox.
- Events that a person should hear about (a receipt, a complaint filed or moved on, a
  compensation credited) write their notice into the outbox in the event's own transaction,
  under a dedupe key (billing/outbox.py); sending them is billing/notices.py's business.
- A bill already paid in the profile's window is paid again only on a quote made with an
  explicit `override`.

On PostgreSQL (asyncpg) the common case of a quote and of a confirm is one statement each
(billing/pg_contract.py, which says why the guarantees above still hold); whenever that
statement does not apply (a refusal, a replay, a lost race) it changes nothing and the general
transaction below answers, as it always did.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing.db import AsyncSession, SessionFactory
from billing.faults import crash_point
from billing.masking import mask_name
from billing.models import (
    Account,
    Bill,
    Complaint,
    ComplaintEvent,
    InstallmentPlan,
    Meta,
    MeterReading,
    OutboxMessage,
    Payment,
    PaymentAllocation,
    PaymentCode,
    Quote,
    ServiceEvent,
)
from billing.outbox import COMPLAINTS, RECEIPTS, add_notice
from billing.pg_contract import PgContract
from billing.rule_answers import (
    RuleAnswers,
    RuleNotOffered,
    complaint_due_date,
    complaint_event_id,
    complaint_standard,
)
from tasdeed.codes import check_payment_code
from tasdeed.contract import COMPLAINT_CATEGORIES, READING_KINDS, RefusalReason
from tasdeed.profile import Profile
from tasdeed.rules.egypt import prepaid_conversion
from tasdeed.rules.saudi import complaint_deadline, working_calendar
from tasdeed.rules.settings import rule_settings
from tasdeed.text import text_to_json

Clock = Callable[[], datetime]
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # what an amount column holds
# What an operator can move a complaint to (it is filed "open"); the last two end its SLA clock.
COMPLAINT_STATUSES = ("in_progress", "resolved", "closed")
COMPLAINT_DONE = ("resolved", "closed")
SERVICE_EVENT_KINDS = frozenset(
    {
        "reconnection",
        "connection",
        "outage",
        "consumer_registration",
        "billing_complaint",
        "planned_outage_notice",
        "disconnection",
    }
)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _paid_recently(recent: Payment, due_minor: int) -> dict[str, Any]:
    """What an "already paid recently" refusal tells a channel: the payment (receipt, amount,
    when) and what is still due, so that a second payment is offered only where one could
    go through (something due, or a profile that takes overpayments)."""
    return {
        "receipt": recent.receipt_number,
        "amount_minor": recent.amount_minor,
        "paid_at": iso(recent.paid_at),
        "quote_id": recent.quote_id,
        "due_minor": due_minor,
    }


@dataclass
class Refusal(Exception):
    """A refusal the channel turns into words; `status` is the HTTP status to answer with."""

    reason: RefusalReason
    status: int = 409
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason.value


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _single_statements(sessions: SessionFactory) -> AsyncEngine | None:
    """The engine, when it is PostgreSQL through asyncpg (billing/pg_contract.py)."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        return bind if bind.dialect.driver == "asyncpg" else None
    return None


class Ledger:
    def __init__(
        self,
        sessions: SessionFactory,
        profile: Profile,
        clock: Clock = utc_now,
        *,
        single_statements: bool = True,
    ):
        """`single_statements=False` keeps PostgreSQL on the general path (for comparison)."""
        self.sessions = sessions
        self.profile = profile
        self.clock = clock
        engine = _single_statements(sessions) if single_statements else None
        self._pg = PgContract(engine, profile) if engine is not None else None
        self._rules = rule_settings(profile)
        self._prepaid = self._rules.prepaid_conversion

    def _prepaid_flagged(self, unpaid_bills: int) -> bool:
        """Whether these arrears bring a prepaid meter under the profile's rules: the same
        decision as the rules topic and the warning notices. Balances and quotes carry it, so
        the screens that say what is owed can warn."""
        if self._prepaid is None:
            return False
        return prepaid_conversion(unpaid_bills, self._prepaid).outcome

    # ---- look-ups -------------------------------------------------------------------

    async def _account(
        self,
        s: AsyncSession,
        *,
        code: str | None = None,
        account_number: str | None = None,
        quote_id: str | None = None,
    ) -> Account:
        if quote_id:
            # A quote id is an unguessable capability the channel got for this account: it
            # re-quotes without the channel keeping the full code between hops.
            account = await s.scalar(
                select(Account)
                .join(Quote, Quote.account_id == Account.id)
                .where(Quote.id == quote_id)
            )
            if account is None:
                raise Refusal(RefusalReason.QUOTE_UNKNOWN, 404)
            return account
        if code is not None:
            account = await s.scalar(
                select(Account).join(PaymentCode).where(PaymentCode.code == self._checked(code))
            )
            if account is None:
                raise Refusal(RefusalReason.UNKNOWN_CODE, 404)
            return account
        if account_number:
            account = await s.scalar(
                select(Account).where(Account.account_number == account_number.strip())
            )
            if account is None:
                raise Refusal(RefusalReason.ACCOUNT_UNKNOWN, 404)
            return account
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"missing": "code or account_number"})

    def _checked(self, code: str) -> str:
        """The code as stored (digits only), or the refusal saying what is wrong with it."""
        checked = check_payment_code(code, self.profile.payment_code)
        if not checked.ok or checked.code is None:
            raise Refusal(RefusalReason.INVALID_CODE, 422, {"problem": str(checked.problem)})
        return checked.code

    @staticmethod
    async def _open_bills(s: AsyncSession, account_id: int) -> Sequence[Bill]:
        rows = await s.scalars(
            select(Bill)
            .where(Bill.account_id == account_id, Bill.status != "paid")
            .order_by(Bill.month)
        )
        return rows.all()

    async def _recent_payment(self, s: AsyncSession, account_id: int) -> Payment | None:
        window = timedelta(hours=self.profile.payments.recent_payment_window_hours)
        return await s.scalar(
            select(Payment)
            .where(Payment.account_id == account_id, Payment.paid_at >= self.clock() - window)
            .order_by(Payment.paid_at.desc())
            .limit(1)
        )

    async def balance(
        self, *, code: str | None = None, account_number: str | None = None
    ) -> dict[str, Any]:
        async with self.sessions() as s, s.begin():
            account = await self._account(s, code=code, account_number=account_number)
            bills = await self._open_bills(s, account.id)
            return {
                "account_number": account.account_number,
                "payee_masked": mask_name(account.payee_name),
                "area": account.area,
                "currency": self.profile.currency,
                "amount_due_minor": sum(b.amount_minor - b.paid_minor for b in bills),
                "unpaid_months": [b.month for b in bills],
                "next_due_date": bills[0].due_date.isoformat() if bills else None,
                "credit_minor": account.credit_minor,
                "prepaid_flagged": self._prepaid_flagged(len(bills)),
            }

    # ---- the payment contract ---------------------------------------------------------

    async def quote(
        self,
        code: str | None,
        *,
        amount_minor: int | None = None,
        override: bool = False,
        channel: str = "api",
        from_quote: str | None = None,
    ) -> dict[str, Any]:
        """A quote for the code's account, or (`from_quote`) for the account of an earlier
        quote: a fresh payee, amount and expiry either way."""
        settings = self.profile.payments
        now = self.clock()
        if self._pg is not None:
            view = await self._quote_in_one_statement(
                None if from_quote else self._checked(code or ""),
                amount_minor=amount_minor,
                override=override,
                channel=channel,
                from_quote=from_quote,
                now=now,
            )
            if view is not None:
                return view
        async with self.sessions() as s, s.begin():
            if from_quote:
                account = await self._account(s, quote_id=from_quote)
            else:
                account = await self._account(s, code=code or "")
            bills = await self._open_bills(s, account.id)
            due = sum(b.amount_minor - b.paid_minor for b in bills)
            recent = await self._recent_payment(s, account.id)
            recently_paid = False
            if due == 0:
                if recent is None:
                    raise Refusal(RefusalReason.NOTHING_DUE)
                if not override:
                    raise Refusal(
                        RefusalReason.ALREADY_PAID_RECENTLY, details=_paid_recently(recent, due)
                    )
                if not settings.allow_overpayment:
                    raise Refusal(RefusalReason.NOTHING_DUE)
                last_bill = await s.scalar(
                    select(Bill).where(Bill.account_id == account.id).order_by(Bill.month.desc())
                )
                amount = amount_minor or (last_bill.amount_minor if last_bill else 0)
                months = [last_bill.month] if last_bill else []
                recently_paid = True
            else:
                amount = due if amount_minor is None else amount_minor
                months = [b.month for b in bills]
            self._check_amount(amount, due, override=recently_paid)
            quote = Quote(
                id=str(uuid.uuid4()),
                account_id=account.id,
                ledger_version=account.ledger_version,
                amount_due_minor=due,
                amount_minor=amount,
                bill_months=",".join(months),
                recently_paid=recently_paid,
                override=override,
                channel=channel[:20],
                created_at=now,
                expires_at=now + timedelta(seconds=settings.quote_ttl_seconds),
            )
            s.add(quote)
            return self._quote_view(quote, account)

    async def _quote_in_one_statement(
        self,
        code: str | None,
        *,
        amount_minor: int | None,
        override: bool,
        channel: str,
        from_quote: str | None,
        now: datetime,
    ) -> dict[str, Any] | None:
        """The quote when something is due and the amount needs no refusal; None otherwise
        (nothing was written, and the general path answers)."""
        assert self._pg is not None
        if amount_minor is not None and not BIGINT_MIN <= amount_minor <= BIGINT_MAX:
            return None  # the statement could not carry it; the general path says why not
        quote_id = str(uuid.uuid4())
        expires_at = now + timedelta(seconds=self.profile.payments.quote_ttl_seconds)
        new = await self._pg.quote(
            quote_id=quote_id,
            code=code,
            from_quote=from_quote,
            amount_minor=amount_minor,
            override=override,
            channel=channel[:20],
            now=now,
            expires_at=expires_at,
        )
        if new is None:
            return None
        return self._quote_fields(
            quote_id=quote_id,
            payee_name=new.payee_name,
            area=new.area,
            bill_months=new.bill_months,
            amount_due_minor=new.amount_due_minor,
            amount_minor=new.amount_minor,
            expires_at=expires_at,
            recently_paid=False,
            override=override,
        )

    def _check_amount(self, amount: int, due: int, *, override: bool) -> None:
        settings = self.profile.payments
        if amount <= 0:
            raise Refusal(RefusalReason.INVALID_AMOUNT, 422)
        if override:
            return
        if amount < due:
            if not settings.allow_partial:
                raise Refusal(RefusalReason.PARTIAL_NOT_ALLOWED, details={"due_minor": due})
            if amount < settings.min_partial_minor:
                raise Refusal(
                    RefusalReason.BELOW_MINIMUM,
                    details={"minimum_minor": settings.min_partial_minor},
                )
        if amount > due and not settings.allow_overpayment:
            raise Refusal(RefusalReason.OVERPAYMENT_NOT_ALLOWED, details={"due_minor": due})

    def _quote_view(self, quote: Quote, account: Account) -> dict[str, Any]:
        return self._quote_fields(
            quote_id=quote.id,
            payee_name=account.payee_name,
            area=account.area,
            bill_months=quote.bill_months,
            amount_due_minor=quote.amount_due_minor,
            amount_minor=quote.amount_minor,
            expires_at=quote.expires_at,
            recently_paid=quote.recently_paid,
            override=quote.override,
        )

    def _quote_fields(
        self,
        *,
        quote_id: str,
        payee_name: str,
        area: str,
        bill_months: str,
        amount_due_minor: int,
        amount_minor: int,
        expires_at: datetime,
        recently_paid: bool,
        override: bool,
    ) -> dict[str, Any]:
        months = [m for m in bill_months.split(",") if m]
        return {
            "quote_id": quote_id,
            "payee_masked": mask_name(payee_name),
            "area": area,
            "bill_months": months,
            "currency": self.profile.currency,
            "amount_due_minor": amount_due_minor,
            "amount_minor": amount_minor,
            "expires_at": iso(expires_at),
            "recently_paid": recently_paid,
            "override": override,
            # A quote's months are the account's unpaid bills (a second payment after a
            # recent one names the last bill, which is paid).
            "prepaid_flagged": not recently_paid and self._prepaid_flagged(len(months)),
        }

    async def confirm(self, quote_id: str, idempotency_key: str) -> tuple[dict[str, Any], bool]:
        """Returns (receipt, replayed); replayed is True when the key had already paid."""
        if not idempotency_key or len(idempotency_key) > 128:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "idempotency_key"})
        if self._pg is not None:
            receipt = await self._confirm_in_one_statement(quote_id, idempotency_key)
            if receipt is not None:
                return receipt, False
        try:
            async with self.sessions() as s, s.begin():
                outcome = await self._confirm_in(s, quote_id, idempotency_key)
                crash_point("confirm.before_commit")
        except IntegrityError:
            # A concurrent confirm wrote the same key or quote first: answer as it did.
            async with self.sessions() as s, s.begin():
                settled = await self._already_settled(s, quote_id, idempotency_key)
                if settled is None:
                    raise
                return settled
        crash_point("confirm.after_commit")
        return outcome

    async def _confirm_in_one_statement(self, quote_id: str, key: str) -> dict[str, Any] | None:
        """The receipt when this call paid; None when it did not (nothing was written: a
        refusal, a replay or a lost race, which the general path answers)."""
        assert self._pg is not None
        facts = await self._pg.quote_facts(quote_id)
        if facts is None:
            return None
        now = self.clock()
        receipt_number = self._receipt_number(now)
        receipt = self._receipt_fields(
            receipt_number=receipt_number,
            quote_id=quote_id,
            amount_minor=facts.amount_minor,
            paid_at=now,
            payee_name=facts.payee_name,
            bill_months=facts.bill_months,
            channel=facts.channel,
        )
        crash_point("confirm.before_commit")  # nothing is written before the one statement
        paid = await self._pg.pay(
            quote_id=quote_id,
            key=key,
            now=now,
            receipt_number=receipt_number,
            facts=facts,
            payload={**receipt, "language": facts.language},
            dedupe_key=f"receipt:{receipt_number}",
            campaign=RECEIPTS,
        )
        if not paid:
            return None
        crash_point("confirm.after_commit")
        return receipt

    def _receipt_number(self, now: datetime) -> str:
        return f"{self.profile.id.upper()}{now:%y%m%d}{secrets.token_hex(4).upper()}"

    async def _already_settled(
        self, s: AsyncSession, quote_id: str, key: str
    ) -> tuple[dict[str, Any], bool] | None:
        """The stored receipt for this key, or a refusal if key or quote were used otherwise."""
        by_key = await s.scalar(select(Payment).where(Payment.idempotency_key == key))
        if by_key is not None:
            if by_key.quote_id != quote_id:
                raise Refusal(RefusalReason.IDEMPOTENCY_KEY_CONFLICT)
            return await self._receipt(s, by_key), True
        by_quote = await s.scalar(select(Payment).where(Payment.quote_id == quote_id))
        if by_quote is not None:
            raise Refusal(
                RefusalReason.QUOTE_ALREADY_CONFIRMED,
                details={"receipt": by_quote.receipt_number},
            )
        return None

    async def _confirm_in(
        self, s: AsyncSession, quote_id: str, key: str
    ) -> tuple[dict[str, Any], bool]:
        settled = await self._already_settled(s, quote_id, key)
        if settled is not None:
            return settled
        quote = await s.get(Quote, quote_id)
        if quote is None:
            raise Refusal(RefusalReason.QUOTE_UNKNOWN, 404)
        now = self.clock()
        if now >= quote.expires_at:
            raise Refusal(RefusalReason.QUOTE_EXPIRED)
        guarded = await s.execute(
            update(Account)
            .where(Account.id == quote.account_id, Account.ledger_version == quote.ledger_version)
            .values(ledger_version=Account.ledger_version + 1)
        )
        if _rowcount(guarded) != 1:
            # Someone paid this account since the quote; after waiting on their row lock we
            # see what they committed.
            settled = await self._already_settled(s, quote_id, key)
            if settled is not None:
                return settled
            recent = await self._recent_payment(s, quote.account_id)
            if recent is not None:
                bills = await self._open_bills(s, quote.account_id)
                due = sum(b.amount_minor - b.paid_minor for b in bills)
                raise Refusal(
                    RefusalReason.ALREADY_PAID_RECENTLY, details=_paid_recently(recent, due)
                )
            raise Refusal(RefusalReason.QUOTE_STALE)
        payment = Payment(
            receipt_number=self._receipt_number(now),
            quote_id=quote.id,
            idempotency_key=key,
            account_id=quote.account_id,
            amount_minor=quote.amount_minor,
            override=quote.override,
            channel=quote.channel,
            paid_at=now,
        )
        s.add(payment)
        await s.flush()
        await self._allocate(s, payment, now)
        account = await s.get(Account, quote.account_id)
        assert account is not None
        receipt = await self._receipt(s, payment, account)
        await add_notice(
            s,
            kind="payment_receipt",
            account_id=account.id,
            payload={**receipt, "language": account.language},
            dedupe_key=f"receipt:{payment.receipt_number}",
            campaign=RECEIPTS,
            created_at=now,
        )
        return receipt, False

    async def _allocate(self, s: AsyncSession, payment: Payment, now: datetime) -> None:
        remaining = payment.amount_minor
        for bill in await self._open_bills(s, payment.account_id):
            if remaining == 0:
                break
            take = min(remaining, bill.amount_minor - bill.paid_minor)
            bill.paid_minor += take
            bill.status = "paid" if bill.paid_minor == bill.amount_minor else "partial"
            if bill.status == "paid":
                bill.paid_at = now
            s.add(PaymentAllocation(payment_id=payment.id, bill_id=bill.id, amount_minor=take))
            remaining -= take
        if remaining:
            await s.execute(
                update(Account)
                .where(Account.id == payment.account_id)
                .values(credit_minor=Account.credit_minor + remaining)
            )
            s.add(PaymentAllocation(payment_id=payment.id, bill_id=None, amount_minor=remaining))

    async def _receipt(
        self, s: AsyncSession, payment: Payment, account: Account | None = None
    ) -> dict[str, Any]:
        account = account or await s.get(Account, payment.account_id)
        quote = await s.get(Quote, payment.quote_id)
        assert account is not None and quote is not None
        return self._receipt_fields(
            receipt_number=payment.receipt_number,
            quote_id=payment.quote_id,
            amount_minor=payment.amount_minor,
            paid_at=payment.paid_at,
            payee_name=account.payee_name,
            bill_months=quote.bill_months,
            channel=payment.channel,
        )

    def _receipt_fields(
        self,
        *,
        receipt_number: str,
        quote_id: str,
        amount_minor: int,
        paid_at: datetime,
        payee_name: str,
        bill_months: str,
        channel: str,
    ) -> dict[str, Any]:
        return {
            "receipt_number": receipt_number,
            "quote_id": quote_id,
            "amount_minor": amount_minor,
            "currency": self.profile.currency,
            "paid_at": iso(paid_at),
            "payee_masked": mask_name(payee_name),
            "bill_months": [m for m in bill_months.split(",") if m],
            "channel": channel,
        }

    async def payment_by_key(self, idempotency_key: str) -> dict[str, Any]:
        """For a channel that lost the answer to a confirm: did this key pay?"""
        async with self.sessions() as s, s.begin():
            payment = await s.scalar(
                select(Payment).where(Payment.idempotency_key == idempotency_key)
            )
            if payment is None:
                raise Refusal(RefusalReason.PAYMENT_UNKNOWN, 404)
            return await self._receipt(s, payment)

    # ---- complaints and installment plans --------------------------------------------

    async def file_complaint(
        self,
        *,
        category: str,
        description: str,
        channel: str,
        idempotency_key: str | None,
        code: str | None = None,
        account_number: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        if category not in COMPLAINT_CATEGORIES:
            raise Refusal(RefusalReason.INVALID_CATEGORY, 422)
        now = self.clock()
        sla_due_at = self._sla_due_at(category, now)
        standard = complaint_standard(self._rules, category)
        for _attempt in range(3):
            try:
                async with self.sessions() as s, s.begin():
                    if idempotency_key:
                        seen = await s.scalar(
                            select(Complaint).where(Complaint.idempotency_key == idempotency_key)
                        )
                        if seen is not None:
                            return self._complaint_view(seen), True
                    account = await self._account(s, code=code, account_number=account_number)
                    complaint = Complaint(
                        ticket_number=f"{secrets.randbelow(10**8):08d}",
                        idempotency_key=idempotency_key,
                        account_id=account.id,
                        category=category,
                        description=description[:1000],
                        channel=channel[:20],
                        created_at=now,
                        sla_due_at=sla_due_at,
                    )
                    s.add(complaint)
                    await s.flush()
                    s.add(
                        ComplaintEvent(
                            complaint_id=complaint.id, status="open", source=channel[:20], at=now
                        )
                    )
                    if standard is not None:
                        # Under a guaranteed standard the complaint is a service event too:
                        # its compensation is reckoned like any other (billing/rule_answers).
                        s.add(
                            ServiceEvent(
                                event_id=complaint_event_id(complaint.ticket_number),
                                account_id=account.id,
                                kind="billing_complaint",
                                started_at=now,
                                ended_at=None,
                                details={"ticket_number": complaint.ticket_number},
                            )
                        )
                    await add_notice(
                        s,
                        kind="complaint_update",
                        account_id=account.id,
                        payload={
                            "ticket_number": complaint.ticket_number,
                            "status": "open",
                            "category": category,
                        },
                        dedupe_key=f"complaint:{complaint.ticket_number}:open",
                        campaign=COMPLAINTS,
                        created_at=now,
                    )
                    return self._complaint_view(complaint), False
            except IntegrityError:
                continue  # a ticket-number collision or a concurrent twin: look again
        raise Refusal(RefusalReason.INVALID_REQUEST, 503, {"retry": True})

    async def complaint(self, ticket_number: str) -> dict[str, Any]:
        async with self.sessions() as s, s.begin():
            complaint = await s.scalar(
                select(Complaint).where(Complaint.ticket_number == ticket_number.strip())
            )
            if complaint is None:
                raise Refusal(RefusalReason.COMPLAINT_UNKNOWN, 404)
            return self._complaint_view(complaint)

    async def set_complaint_status(self, ticket_number: str, status: str) -> dict[str, Any]:
        """An operator moves a complaint on; the person hears of each status once (the
        notice's dedupe key is ticket + status). Setting the status it has changes nothing."""
        if status not in COMPLAINT_STATUSES:
            raise Refusal(
                RefusalReason.INVALID_REQUEST,
                422,
                {"field": "status", "allowed": list(COMPLAINT_STATUSES)},
            )
        now = self.clock()
        async with self.sessions() as s, s.begin():
            complaint = await s.scalar(
                select(Complaint).where(Complaint.ticket_number == ticket_number.strip())
            )
            if complaint is None:
                raise Refusal(RefusalReason.COMPLAINT_UNKNOWN, 404)
            changed = complaint.status != status
            if changed:
                complaint.status = status
                if status in COMPLAINT_DONE:
                    complaint.resolved_at = complaint.resolved_at or now
                else:
                    complaint.resolved_at = None  # reopened
                s.add(
                    ComplaintEvent(
                        complaint_id=complaint.id, status=status, source="operator", at=now
                    )
                )
                # A complaint under a guaranteed standard ends its service event when it is
                # handled; reopened, it is open again, its clock still counting from filing.
                await s.execute(
                    update(ServiceEvent)
                    .where(ServiceEvent.event_id == complaint_event_id(complaint.ticket_number))
                    .values(ended_at=complaint.resolved_at)
                )
                await add_notice(
                    s,
                    kind="complaint_update",
                    account_id=complaint.account_id,
                    payload={"ticket_number": complaint.ticket_number, "status": status},
                    dedupe_key=f"complaint:{complaint.ticket_number}:{status}",
                    campaign=COMPLAINTS,
                    created_at=now,
                )
            return {**self._complaint_view(complaint), "changed": changed}

    def _sla_due_at(self, category: str, filed_at: datetime) -> datetime:
        """When a complaint filed now runs late (naive UTC). Under a guaranteed standard
        (Saudi billing complaints: 10 working days) that is when the standard counts it
        breached, at the start of the first working day after its due date; otherwise the
        profile's `sla_hours` for the category."""
        standard = complaint_standard(self._rules, category)
        if standard is None or self._rules.compensation is None:
            return filed_at + timedelta(hours=self.profile.complaints.sla_hours.get(category, 120))
        calendar = working_calendar(self._rules.compensation, self.profile.timezone)
        late = complaint_deadline(filed_at.replace(tzinfo=UTC), standard.working_days, calendar)
        return late.late_at.astimezone(UTC).replace(tzinfo=None)

    def _complaint_view(self, complaint: Complaint) -> dict[str, Any]:
        standard = complaint_standard(self._rules, complaint.category)
        return {
            "ticket_number": complaint.ticket_number,
            "category": complaint.category,
            "status": complaint.status,
            "created_at": iso(complaint.created_at),
            "sla_due_at": iso(complaint.sla_due_at),
            "sla_breached": complaint.status not in COMPLAINT_DONE
            and self.clock() > complaint.sla_due_at,
            # The last local day to answer on, as the person is told.
            "due_date": complaint_due_date(self.profile, self._rules, complaint).isoformat(),
            # The guaranteed standard the complaint is under (None: the utility's own SLA).
            "standard": None
            if standard is None
            else {
                "name": "billing_complaint",
                "working_days": standard.working_days,
                "amount_minor": standard.amount_minor,
                "currency": self.profile.currency,
            },
        }

    async def request_installments(
        self,
        *,
        months: int,
        acknowledge_debt: bool,
        idempotency_key: str | None,
        code: str | None = None,
        account_number: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        settings = self.profile.installments
        if not settings.min_months <= months <= settings.max_months:
            raise Refusal(
                RefusalReason.INVALID_MONTHS,
                422,
                {"min": settings.min_months, "max": settings.max_months},
            )
        if settings.requires_debt_acknowledgment and not acknowledge_debt:
            raise Refusal(RefusalReason.ACKNOWLEDGMENT_REQUIRED)
        now = self.clock()
        try:
            async with self.sessions() as s, s.begin():
                if idempotency_key:
                    seen = await s.scalar(
                        select(InstallmentPlan).where(
                            InstallmentPlan.idempotency_key == idempotency_key
                        )
                    )
                    if seen is not None:
                        return self._plan_view(seen), True
                account = await self._account(s, code=code, account_number=account_number)
                due = sum(
                    b.amount_minor - b.paid_minor for b in await self._open_bills(s, account.id)
                )
                if due == 0:
                    raise Refusal(RefusalReason.NOTHING_DUE)
                plan = InstallmentPlan(
                    plan_number=f"P{secrets.randbelow(10**8):08d}",
                    idempotency_key=idempotency_key,
                    account_id=account.id,
                    total_minor=due,
                    installment_minor=-(-due // months),
                    months=months,
                    debt_acknowledged=acknowledge_debt,
                    first_due_date=(now + timedelta(days=30)).date(),
                    created_at=now,
                )
                s.add(plan)
                await s.flush()
                return self._plan_view(plan), False
        except IntegrityError:
            async with self.sessions() as s, s.begin():
                seen = await s.scalar(
                    select(InstallmentPlan).where(
                        InstallmentPlan.idempotency_key == idempotency_key
                    )
                )
                if seen is None:
                    raise
                return self._plan_view(seen), True

    def _plan_view(self, plan: InstallmentPlan) -> dict[str, Any]:
        return {
            "plan_number": plan.plan_number,
            "currency": self.profile.currency,
            "total_minor": plan.total_minor,
            "installment_minor": plan.installment_minor,
            "months": plan.months,
            "status": plan.status,
            "first_due_date": plan.first_due_date.isoformat(),
        }

    # ---- utility rules ------------------------------------------------------------------

    async def rule_answer(self, topic: str, code: str) -> dict[str, Any]:
        async with self.sessions() as s, s.begin():
            account = await self._account(s, code=code)
            try:
                return await RuleAnswers(self.profile, self.clock).answer(s, topic, account)
            except RuleNotOffered as exc:
                raise Refusal(RefusalReason.TOPIC_NOT_OFFERED, 404) from exc

    async def record_event(
        self,
        *,
        account_number: str,
        event_id: str,
        kind: str,
        started_at: datetime,
        ended_at: datetime | None,
        details: dict[str, Any],
    ) -> dict[str, Any]:
        """Operators (or the utility's outage system) report service events here."""
        if kind not in SERVICE_EVENT_KINDS or (ended_at is not None and ended_at < started_at):
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "kind/times"})
        try:
            async with self.sessions() as s, s.begin():
                account = await self._account(s, account_number=account_number)
                decision = await RuleAnswers(self.profile, self.clock).record_event(
                    s,
                    account,
                    event_id=event_id,
                    kind=kind,
                    started_at=started_at,
                    ended_at=ended_at,
                    details=details,
                )
                credit = await s.scalar(
                    select(Account.credit_minor).where(Account.id == account.id)
                )
        except IntegrityError as exc:
            raise Refusal(RefusalReason.INVALID_REQUEST, 409, {"duplicate": "event_id"}) from exc
        return {
            "event_id": event_id,
            "compensation": decision is not None and decision.outcome,
            "credit_minor": int(credit or 0),
        }

    async def check_disconnection(
        self, *, account_number: str, at: datetime | None = None
    ) -> dict[str, Any]:
        """Asked before cutting an account's power for non-payment (at `at`, naive UTC, or
        now): a refusal (409 `disconnection_prohibited`, with the reasons) in a protected time
        or case of the profile, an exam period loaded for the account's region included;
        otherwise allowed. A profile without protected cases allows it, with no reasons."""
        moment = at or self.clock()
        async with self.sessions() as s, s.begin():
            account = await self._account(s, account_number=account_number)
            if self._rules.protected_disconnection is None:
                return {"allowed": True, "reasons": []}
            decision = await RuleAnswers(self.profile, self.clock).disconnection_decision(
                s, account, moment
            )
        reasons = [text_to_json(reason) for reason in decision.reasons]
        if not decision.outcome:
            raise Refusal(RefusalReason.DISCONNECTION_PROHIBITED, 409, {"reasons": reasons})
        return {"allowed": True, "reasons": reasons}

    # ---- meter readings -----------------------------------------------------------------

    async def submit_reading(
        self,
        *,
        code: str | None = None,
        kind: str,
        value: int,
        channel: str,
        account_number: str | None = None,
    ) -> dict[str, Any]:
        """This month's reading (a second one the same month replaces the first); never
        below the previous month's, which would be a typing mistake."""
        if kind not in READING_KINDS or value < 0:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "kind/value"})
        now = self.clock()
        month = f"{now:%Y-%m}"
        async with self.sessions() as s, s.begin():
            account = await self._account(s, code=code, account_number=account_number)
            previous = await s.scalar(
                select(MeterReading)
                .where(
                    MeterReading.account_id == account.id,
                    MeterReading.kind == kind,
                    MeterReading.month < month,
                )
                .order_by(MeterReading.month.desc())
                .limit(1)
            )
            if previous is not None and value < previous.value:
                raise Refusal(
                    RefusalReason.READING_BELOW_PREVIOUS, details={"previous": previous.value}
                )
            consumption = value - previous.value if previous is not None else 0
            reading = await s.scalar(
                select(MeterReading).where(
                    MeterReading.account_id == account.id,
                    MeterReading.kind == kind,
                    MeterReading.month == month,
                )
            )
            if reading is None:
                reading = MeterReading(account_id=account.id, kind=kind, month=month)
                s.add(reading)
            reading.value, reading.consumption = value, consumption
            reading.entered_electronically, reading.channel = True, channel[:20]
            reading.read_on = now.date()
            return {"kind": kind, "month": month, "value": value, "consumption": consumption}

    # ---- audit --------------------------------------------------------------------------

    async def totals(self) -> dict[str, int]:
        """Ledger sums the tests and operators check: money in must equal money applied."""
        async with self.sessions() as s, s.begin():
            paid = await s.scalar(select(func.coalesce(func.sum(Payment.amount_minor), 0)))
            allocated = await s.scalar(
                select(func.coalesce(func.sum(PaymentAllocation.amount_minor), 0))
            )
            payments = await s.scalar(select(func.count(Payment.id)))
            return {
                "payments": int(payments or 0),
                "paid_minor": int(paid or 0),
                "allocated_minor": int(allocated or 0),
            }

    # ---- operator views (read-only) -----------------------------------------------------
    # What the simulator's operator view shows. Payees are masked as on every channel; no
    # phone numbers, account numbers or payment codes leave through these two.

    async def recent_payments(self, limit: int = 20) -> list[dict[str, Any]]:
        async with self.sessions() as s, s.begin():
            rows = await s.execute(
                select(Payment, Account.payee_name)
                .join(Account, Account.id == Payment.account_id)
                .order_by(Payment.paid_at.desc(), Payment.id.desc())
                .limit(limit)
            )
            return [
                {
                    "receipt_number": payment.receipt_number,
                    "payee_masked": mask_name(payee_name),
                    "amount_minor": payment.amount_minor,
                    "currency": self.profile.currency,
                    "channel": payment.channel,
                    "paid_at": iso(payment.paid_at),
                }
                for payment, payee_name in rows
            ]

    async def recent_complaints(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first, each with its SLA clock on the ledger's own notion of now (the one
        `sla_due_at` was computed from): seconds left, negative once overdue."""
        now = self.clock()
        async with self.sessions() as s, s.begin():
            rows = await s.execute(
                select(Complaint, Account.payee_name)
                .join(Account, Account.id == Complaint.account_id)
                .order_by(Complaint.created_at.desc(), Complaint.id.desc())
                .limit(limit)
            )
            return [
                {
                    **self._complaint_view(complaint),
                    "channel": complaint.channel,
                    "payee_masked": mask_name(payee_name),
                    "sla_seconds_left": None
                    if complaint.status in COMPLAINT_DONE
                    else int((complaint.sla_due_at - now).total_seconds()),
                }
                for complaint, payee_name in rows
            ]

    async def complaint_history(self, ticket_number: str) -> dict[str, Any]:
        """One complaint as an operator follows it: what it is (payee masked), its SLA clock,
        and every status it reached, oldest first, with when and from where ("operator" or
        the channel it was filed on). A status the person is told about carries what became
        of that notice (its outbox state); a status reached again is not told twice, so only
        its first event has one."""
        now = self.clock()
        async with self.sessions() as s, s.begin():
            row = (
                await s.execute(
                    select(Complaint, Account.payee_name)
                    .join(Account, Account.id == Complaint.account_id)
                    .where(Complaint.ticket_number == ticket_number.strip())
                )
            ).first()
            if row is None:
                raise Refusal(RefusalReason.COMPLAINT_UNKNOWN, 404)
            complaint, payee_name = row
            events = (
                await s.scalars(
                    select(ComplaintEvent)
                    .where(ComplaintEvent.complaint_id == complaint.id)
                    .order_by(ComplaintEvent.at, ComplaintEvent.id)
                )
            ).all()
            prefix = f"complaint:{complaint.ticket_number}:"
            notices = {
                notice.dedupe_key: notice
                for notice in await s.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.dedupe_key.in_({prefix + e.status for e in events})
                    )
                )
            }
            told: set[str] = set()
            history = []
            for event in events:
                notice = None if event.status in told else notices.get(prefix + event.status)
                told.add(event.status)
                history.append(
                    {
                        "status": event.status,
                        "source": event.source,
                        "at": iso(event.at),
                        "notice": None
                        if notice is None
                        else {
                            "state": notice.state,
                            "at": iso(notice.updated_at or notice.sent_at or notice.created_at),
                        },
                    }
                )
            return {
                **self._complaint_view(complaint),
                "channel": complaint.channel,
                "payee_masked": mask_name(payee_name),
                "resolved_at": iso(complaint.resolved_at) if complaint.resolved_at else None,
                "sla_seconds_left": None
                if complaint.status in COMPLAINT_DONE
                else int((complaint.sla_due_at - now).total_seconds()),
                "events": history,
            }

    async def demo_codes(self, count: int = 4) -> list[dict[str, Any]] | None:
        """The first demo accounts (the seeded scenarios) with what they owe now, for the
        simulator page. Codes are returned in full, so only a ledger the demo seed filled
        answers (None otherwise): a real utility's ledger never lists its codes."""
        async with self.sessions() as s, s.begin():
            if await s.scalar(select(Meta).where(Meta.key == "profile")) is None:
                return None
            rows = await s.execute(
                select(Account, PaymentCode.code)
                .join(PaymentCode, PaymentCode.account_id == Account.id)
                .order_by(Account.id)
                .limit(count)
            )
            demos = []
            for account, code in rows:
                bills = await self._open_bills(s, account.id)
                demos.append(
                    {
                        "code": code,
                        "payee_masked": mask_name(account.payee_name),
                        "area": account.area,
                        "unpaid_bills": len(bills),
                        "amount_due_minor": sum(b.amount_minor - b.paid_minor for b in bills),
                        "currency": self.profile.currency,
                    }
                )
            return demos


def today(clock: Clock) -> date:
    return clock().date()
