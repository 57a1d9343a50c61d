"""The utility rules answered from an account's real data in the ledger.

The rules themselves (figures, boundaries, explanations) live in `tasdeed.rules`; this
module only gathers the facts they need and, for Saudi compensation, credits what is owed
exactly once (the `credits.credit_key` unique constraint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from billing.db import AsyncSession
from billing.models import (
    Account,
    AccountFacts,
    Bill,
    Complaint,
    Credit,
    ExamPeriodRow,
    InstallmentPlan,
    Meter,
    MeterReading,
    ServiceEvent,
)
from billing.outbox import CREDITS, add_notice
from tasdeed.money import Money
from tasdeed.profile import Profile
from tasdeed.rules.decision import Decision
from tasdeed.rules.disconnection import disconnection_allowed
from tasdeed.rules.egypt import prepaid_conversion
from tasdeed.rules.kuwait import (
    AhsemhaFacts,
    ahsemha_discount,
    ahsemha_eligibility,
    saving_pct,
    transaction_block,
)
from tasdeed.rules.saudi import Compensation, compensations, complaint_deadline, working_calendar
from tasdeed.rules.saudi import ServiceEvent as RuleEvent
from tasdeed.rules.settings import ComplaintStandard, ExamPeriod, RuleSettings, rule_settings
from tasdeed.text import Text, text_to_json

NO_READING_DAYS = 10_000  # "never entered a reading" is older than any limit
_DONE = ("resolved", "closed")  # billing.ledger.COMPLAINT_DONE: these stop a complaint's clock


def complaint_event_id(ticket_number: str) -> str:
    """The service event of a complaint under the billing-complaint standard; its credit key
    is `billing_complaint|complaint:<ticket>`, whoever credits it first."""
    return f"complaint:{ticket_number}"


def complaint_standard(settings: RuleSettings, category: str) -> ComplaintStandard | None:
    """The guaranteed standard a complaint of this category is under, if any (the profile's
    `[rules.compensation] billing_complaint.complaint_categories`)."""
    compensation = settings.compensation
    if compensation is None or category not in compensation.billing_complaint.complaint_categories:
        return None
    return compensation.billing_complaint


def complaint_due_date(profile: Profile, settings: RuleSettings, complaint: Complaint) -> date:
    """The last day the complaint may be answered on, as the person is told: the standard's
    N-th working day for a complaint under one, else the local date its SLA runs out."""
    standard = complaint_standard(settings, complaint.category)
    if standard is not None and settings.compensation is not None:
        calendar = working_calendar(settings.compensation, profile.timezone)
        return complaint_deadline(
            _aware(complaint.created_at), standard.working_days, calendar
        ).due_date
    return calendar_date(profile, complaint.sla_due_at)


def exam_periods_of(rows: Sequence[ExamPeriodRow]) -> tuple[ExamPeriod, ...]:
    return tuple(
        ExamPeriod(start=r.start_date, end=r.end_date, region=r.region, source=r.source)
        for r in rows
    )


def calendar_date(profile: Profile, moment: datetime) -> date:
    """The utility's local date at a naive UTC moment."""
    return _aware(moment).astimezone(ZoneInfo(profile.timezone)).date()


class RuleNotOffered(Exception):
    pass


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _months_between(start: date, end: date) -> int:
    return max((end.year - start.year) * 12 + end.month - start.month, 0)


def _previous_months(today: date, count: int) -> set[str]:
    """The `count` whole months before this one, as "YYYY-MM"."""
    months = set()
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.add(f"{year:04d}-{month:02d}")
    return months


def _unpaid_runs(bills: list[Bill]) -> tuple[int, int]:
    """(longest run of consecutive unpaid months, unpaid months in total) over the bills."""
    longest = run = total = 0
    for bill in sorted(bills, key=lambda b: b.month):
        if bill.status != "paid":
            run, total = run + 1, total + 1
            longest = max(longest, run)
        else:
            run = 0
    return longest, total


class RuleAnswers:
    def __init__(self, profile: Profile, clock: Callable[[], datetime]):
        self.profile = profile
        self.settings: RuleSettings = rule_settings(profile)
        self.clock = clock

    async def answer(self, s: AsyncSession, topic: str, account: Account) -> dict[str, Any]:
        handlers = {
            "prepaid": self._prepaid,
            "block": self._block,
            "incentive": self._incentive,
            "compensation": self._compensation,
            "disconnection": self._disconnection,
        }
        if topic not in handlers:
            raise RuleNotOffered(topic)
        decision = await handlers[topic](s, account)
        return {
            "topic": topic,
            "outcome": decision.outcome,
            "reasons": [text_to_json(reason) for reason in decision.reasons],
        }

    async def _bills(self, s: AsyncSession, account: Account) -> list[Bill]:
        return list((await s.scalars(select(Bill).where(Bill.account_id == account.id))).all())

    async def _facts(self, s: AsyncSession, account: Account) -> AccountFacts:
        return await s.get(AccountFacts, account.id) or AccountFacts(account_id=account.id)

    async def _prepaid(self, s: AsyncSession, account: Account) -> Decision:
        if self.settings.prepaid_conversion is None:
            raise RuleNotOffered("prepaid")
        unpaid = sum(1 for bill in await self._bills(s, account) if bill.status != "paid")
        return prepaid_conversion(unpaid, self.settings.prepaid_conversion)

    async def _block(self, s: AsyncSession, account: Account) -> Decision:
        if self.settings.transaction_block is None:
            raise RuleNotOffered("block")
        due = sum(b.amount_minor - b.paid_minor for b in await self._bills(s, account))
        missed = await s.scalar(
            select(InstallmentPlan.missed_count)
            .where(InstallmentPlan.account_id == account.id, InstallmentPlan.status == "active")
            .order_by(InstallmentPlan.missed_count.desc())
            .limit(1)
        )
        return transaction_block(
            Money(due, self.profile.currency), int(missed or 0), self.settings.transaction_block
        )

    async def _incentive(self, s: AsyncSession, account: Account) -> Decision:
        settings = self.settings.ahsemha
        if settings is None:
            raise RuleNotOffered("incentive")
        today = self.clock().date()
        facts = await self._facts(s, account)
        bills = await self._bills(s, account)
        consecutive, total = _unpaid_runs(bills)
        meter = await s.scalar(
            select(Meter).where(Meter.account_id == account.id).order_by(Meter.installed_on)
        )
        readings = list(
            (
                await s.scalars(
                    select(MeterReading)
                    .where(MeterReading.account_id == account.id)
                    .order_by(MeterReading.month)
                )
            ).all()
        )
        registered = facts.ahsemha_registered_on or today
        before = [r.read_on for r in readings if r.read_on <= registered]
        entered = {
            r.month for r in readings if r.entered_electronically and r.kind == "electricity"
        }
        sold_after = (
            _months_between(registered, facts.sold_on) if facts.sold_on is not None else None
        )
        eligibility = ahsemha_eligibility(
            AhsemhaFacts(
                citizen=facts.citizen,
                private_housing=facts.private_housing,
                metered_months=_months_between(meter.installed_on, today) if meter else 0,
                days_between_last_reading_and_registration=(
                    (registered - max(before)).days if before else NO_READING_DAYS
                ),
                readings_entered_monthly=_previous_months(today, 12) <= entered,
                dues_paid=all(b.status == "paid" for b in bills),
                has_violation=facts.has_violation,
                consecutive_unpaid_months=consecutive,
                total_unpaid_months=total,
                months_since_registration_at_sale=sold_after,
            ),
            settings,
        )
        if not eligibility.outcome:
            return eligibility
        discount = ahsemha_discount(
            self._saving(readings, "electricity"),
            self._saving(readings, "water"),
            Decimal(facts.pv_capacity_pct) if facts.pv_capacity_pct is not None else None,
            settings,
        )
        return Decision(True, eligibility.reasons + discount.reasons)

    @staticmethod
    def _saving(readings: list[MeterReading], kind: str) -> Decimal:
        """Percent less consumed in the latest month than in the same month a year before
        (0 when there is no such month or consumption rose): the rule's `saving_pct`, the
        same the calculator uses on figures a person states."""
        by_month = {r.month: r.consumption for r in readings if r.kind == kind}
        if not by_month:
            return Decimal(0)
        latest = max(by_month)
        year_before = f"{int(latest[:4]) - 1}{latest[4:]}"
        reference = by_month.get(year_before, 0)
        if reference <= 0:
            return Decimal(0)
        return saving_pct(Decimal(reference), Decimal(max(by_month[latest], 0)))

    async def _compensation(self, s: AsyncSession, account: Account) -> Decision:
        settings = self.settings.compensation
        if settings is None:
            raise RuleNotOffered("compensation")
        rows = (
            await s.scalars(select(ServiceEvent).where(ServiceEvent.account_id == account.id))
        ).all()
        events = [
            RuleEvent(
                event_id=row.event_id,
                kind=row.kind,  # type: ignore[arg-type]
                started_at=_aware(row.started_at),
                ended_at=_aware(row.ended_at) if row.ended_at else None,
                details=row.details,  # type: ignore[arg-type]
            )
            for row in rows
        ]
        found = compensations(
            events,
            settings,
            now=_aware(self.clock()),
            working_days=working_calendar(settings, self.profile.timezone),
        )
        by_id = {event.event_id: event for event in events}
        reasons: list[Text] = []
        newly_credited = 0
        for compensation in found:
            reasons.extend(compensation.reasons)
            ticket = None
            if compensation.standard == "billing_complaint":
                ticket = by_id[compensation.event_ids[0]].details.get("ticket_number")
            if await self._credit(
                s, account.id, compensation, ticket if isinstance(ticket, str) else None
            ):
                newly_credited += compensation.amount.minor
        if newly_credited:
            await self._add_credit(s, account.id, newly_credited)
        total = sum(c.amount.minor for c in found)
        if not found:
            return Decision(False, (Text("topic.compensation.none"),))
        summary = Text("topic.compensation.total", {"amount": Money(total, self.profile.currency)})
        return Decision(True, (*reasons, summary))

    async def _credit(
        self,
        s: AsyncSession,
        account_id: int,
        compensation: Compensation,
        ticket_number: str | None = None,
    ) -> bool:
        """Credit one compensation and queue its notice, in the caller's transaction; False
        when it was credited before (now or by a concurrent request: the unique credit key
        decides, never twice). A billing complaint's notice names the complaint and the day
        it was due."""
        key = "|".join(compensation.key)
        if await s.scalar(select(Credit.id).where(Credit.credit_key == key)) is not None:
            return False
        kind = "compensation_credited"
        payload: dict[str, Any] = {
            "amount_minor": compensation.amount.minor,
            "standard": compensation.standard,
        }
        if ticket_number is not None:
            complaint = await s.scalar(
                select(Complaint).where(Complaint.ticket_number == ticket_number)
            )
            if complaint is not None:
                kind = "complaint_compensation"
                due = complaint_due_date(self.profile, self.settings, complaint)
                payload |= {"ticket_number": ticket_number, "due_date": due.isoformat()}
        try:
            async with s.begin_nested():
                credit = Credit(
                    credit_key=key,
                    account_id=account_id,
                    standard=compensation.standard,
                    amount_minor=compensation.amount.minor,
                    explanation=[text_to_json(r) for r in compensation.reasons],
                    created_at=self.clock(),
                )
                s.add(credit)
                await s.flush()  # the credit's id names its notice
                await add_notice(
                    s,
                    kind=kind,
                    account_id=account_id,
                    payload=payload,
                    dedupe_key=f"credit:{credit.id}",
                    campaign=CREDITS,
                    created_at=self.clock(),
                )
        except IntegrityError:
            return False  # credited by a concurrent request: never twice
        return True

    @staticmethod
    async def _add_credit(s: AsyncSession, account_id: int, amount_minor: int) -> None:
        await s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(credit_minor=Account.credit_minor + amount_minor)
        )

    async def credit_complaint_breach(self, s: AsyncSession, complaint: Complaint) -> int:
        """Judge one complaint under the billing-complaint standard at the clock's now and
        credit its compensation if it was not handled in time (still open past its due date,
        or answered late): the amount newly credited, 0 when it earns nothing or was credited
        before. Judged on the complaint itself, keyed like its service event, so the sweep
        and a person asking about compensation credit it once between them."""
        settings = self.settings.compensation
        if settings is None or complaint_standard(self.settings, complaint.category) is None:
            return 0
        event = RuleEvent(
            event_id=complaint_event_id(complaint.ticket_number),
            kind="billing_complaint",
            started_at=_aware(complaint.created_at),
            ended_at=(
                _aware(complaint.resolved_at)
                if complaint.status in _DONE and complaint.resolved_at is not None
                else None
            ),
            details={"ticket_number": complaint.ticket_number},
        )
        found = compensations(
            [event],
            settings,
            now=_aware(self.clock()),
            working_days=working_calendar(settings, self.profile.timezone),
        )
        credited = 0
        for compensation in found:
            if await self._credit(s, complaint.account_id, compensation, complaint.ticket_number):
                credited += compensation.amount.minor
        if credited:
            await self._add_credit(s, complaint.account_id, credited)
        return credited

    async def _loaded_exam_periods(self, s: AsyncSession, at: datetime) -> tuple[ExamPeriod, ...]:
        """The exam periods an operator loaded that include the local day of `at` (naive
        UTC), whatever their region: `disconnection_allowed` keeps the account's."""
        day = calendar_date(self.profile, at)
        rows = (
            await s.scalars(
                select(ExamPeriodRow).where(
                    ExamPeriodRow.start_date <= day, ExamPeriodRow.end_date >= day
                )
            )
        ).all()
        return exam_periods_of(rows)

    async def disconnection_decision(
        self, s: AsyncSession, account: Account, at: datetime
    ) -> Decision:
        """May this account's power be cut for non-payment at `at` (naive UTC)? The profile's
        protected times and cases, and the exam periods loaded for the account's region."""
        protection = self.settings.protected_disconnection
        if protection is None:
            raise RuleNotOffered("disconnection")
        facts = await self._facts(s, account)
        return disconnection_allowed(
            _aware(at),
            special_needs=facts.special_needs_dependant,
            s=protection,
            timezone=self.profile.timezone,
            area=account.area,
            exam_periods=await self._loaded_exam_periods(s, at),
        )

    async def record_event(
        self,
        s: AsyncSession,
        account: Account,
        *,
        event_id: str,
        kind: str,
        started_at: datetime,
        ended_at: datetime | None,
        details: dict[str, Any],
    ) -> Decision | None:
        """Store a service event and credit whatever compensation it earns right away (the
        compensation is automatic: nobody has to claim it). A disconnection for non-payment
        is checked against the protected times and cases when it is recorded."""
        protected = self.settings.protected_disconnection is not None
        if kind == "disconnection" and details.get("for_non_payment") and protected:
            allowed = await self.disconnection_decision(s, account, started_at)
            details = {**details, "prohibited": not allowed.outcome}
        s.add(
            ServiceEvent(
                event_id=event_id,
                account_id=account.id,
                kind=kind,
                started_at=started_at,
                ended_at=ended_at,
                details=details,
            )
        )
        await s.flush()
        if self.settings.compensation is None:
            return None
        return await self._compensation(s, account)

    async def _disconnection(self, s: AsyncSession, account: Account) -> Decision:
        return await self.disconnection_decision(s, account, self.clock())
