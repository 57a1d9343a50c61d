"""The reference billing backend's ledger (SQLAlchemy 2, SQLite or PostgreSQL).

Amounts are integers of minor units (fils, piastres, halalas). Datetimes are naive UTC.
The payment contract's guarantees rest on three constraints here: one payment per quote
(`payments.quote_id` unique), one payment per idempotency key (`payments.idempotency_key`
unique), and the account's `ledger_version`, which every payment bumps under a guarded UPDATE.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """One row per key; records which profile a ledger was seeded for."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(20), unique=True)
    payee_name: Mapped[str] = mapped_column(String(200))  # returned only masked
    area: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40), default="private_housing")
    # E.164 ("+20…"); one number may serve several accounts. Indexed: an opt-out arrives by
    # phone number and applies to every account registered with it.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(5), default="ar")
    ledger_version: Mapped[int] = mapped_column(Integer, default=0)
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Meter(Base):
    __tablename__ = "meters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    meter_number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # electricity | water
    installed_on: Mapped[date] = mapped_column(Date)
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False)


class PaymentCode(Base):
    __tablename__ = "payment_codes"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("account_id", "month"),
        # Bill-day notices select one month; the reminder sweep selects a range of due dates.
        Index("ix_bills_month", "month"),
        Index("ix_bills_due_date", "due_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="unpaid")  # unpaid|partial|paid
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)


class Quote(Base):
    __tablename__ = "quotes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    ledger_version: Mapped[int] = mapped_column(Integer)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    bill_months: Mapped[str] = mapped_column(String(200))  # comma-separated YYYY-MM
    recently_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(32), unique=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    paid_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PaymentAllocation(Base):
    """How a payment was spread over bills; what is left over becomes account credit."""

    __tablename__ = "payment_allocations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))  # None: credit
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Complaint(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sla_due_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)


class ComplaintEvent(Base):
    """A complaint's history, one row per status it reached: "open" when it was filed (by the
    channel it came in on), then each move an operator made, with when. Written in the same
    transaction as the change; never updated."""

    __tablename__ = "complaint_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))  # the filing channel, or "operator"
    at: Mapped[datetime] = mapped_column(DateTime)


class InstallmentPlan(Base):
    __tablename__ = "installment_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_number: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    installment_minor: Mapped[int] = mapped_column(BigInteger)
    months: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")
    debt_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    missed_count: Mapped[int] = mapped_column(Integer, default=0)
    first_due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """Messages to send (receipts, notices), written in the same transaction as the event.

    `dedupe_key` makes every writer idempotent (a replayed event, a campaign run twice); the
    state machine (billing/notices.py) is driven by the relay and the workers over HTTP:
    new → queued → sending → sent → delivered → read, or suppressed / failed / undelivered.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        UniqueConstraint("provider_sid", name="uq_outbox_provider_sid"),
        # The relay pages through new rows in id order, over all campaigns or one; the
        # second also counts a campaign's rows by state from the index alone.
        Index("ix_outbox_state_id", "state", "id"),
        Index("ix_outbox_campaign_state_id", "campaign", "state", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    channel: Mapped[str | None] = mapped_column(String(10))  # sms | whatsapp, when queued
    segments: Mapped[int | None] = mapped_column(Integer)
    provider_sid: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The claim call that holds a `sending` row (a token the client makes per call and keeps
    # across its own retries), so a claim whose answer was lost is answered again, not "busy".
    claim_token: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id", name="fk_outbox_bill_id"))


class ContactPreference(Base):
    """A person's choice per channel, for every account registered with their number. No row
    is the default: SMS opted in (the number the utility bills to), WhatsApp opted out (it
    needs an explicit opt-in)."""

    __tablename__ = "contact_preferences"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)  # sms | whatsapp
    opted_in: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(30))  # sms_keyword, whatsapp_keyword, agent…
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AccountFacts(Base):
    """What the utility rules need to know about an account beyond its bills."""

    __tablename__ = "account_facts"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    citizen: Mapped[bool] = mapped_column(Boolean, default=True)
    private_housing: Mapped[bool] = mapped_column(Boolean, default=True)
    special_needs_dependant: Mapped[bool] = mapped_column(Boolean, default=False)
    has_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    ahsemha_registered_on: Mapped[date | None] = mapped_column(Date)
    sold_on: Mapped[date | None] = mapped_column(Date)
    pv_capacity_pct: Mapped[int | None] = mapped_column(Integer)  # solar panels, % of load


class MeterReading(Base):
    __tablename__ = "meter_readings"
    __table_args__ = (UniqueConstraint("account_id", "kind", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # electricity | water
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    value: Mapped[int] = mapped_column(BigInteger)  # cumulative meter index (kWh or m³)
    consumption: Mapped[int] = mapped_column(BigInteger)  # since the previous reading
    entered_electronically: Mapped[bool] = mapped_column(Boolean, default=True)
    channel: Mapped[str] = mapped_column(String(20))
    read_on: Mapped[date] = mapped_column(Date)


class ServiceEvent(Base):
    """Outages, reconnections, connections, notices, disconnections: what compensation
    standards are computed from."""

    __tablename__ = "service_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    details: Mapped[dict[str, object]] = mapped_column(JSON)


class Credit(Base):
    """An automatic compensation credited to the account (applied to the next bill). The
    unique key (standard + events) is what makes crediting the same breach twice impossible."""

    __tablename__ = "credits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_key: Mapped[str] = mapped_column(String(300), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    standard: Mapped[str] = mapped_column(String(60))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    explanation: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ExamPeriodRow(Base):
    """A public-school exam period an operator loaded (the API or EXAM_PERIODS_FILE): no
    disconnection for non-payment in it, for accounts in its region ("" = everywhere; see
    tasdeed.rules.disconnection). Both days are included; `source` says where the dates come
    from. Loading the same dates and region again updates the source, never adds a row."""

    __tablename__ = "exam_periods"
    __table_args__ = (
        UniqueConstraint("start_date", "end_date", "region", name="uq_exam_periods_span_region"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    region: Mapped[str] = mapped_column(String(100), default="", server_default="")
    source: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime)
