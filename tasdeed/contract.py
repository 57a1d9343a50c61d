"""The payment contract as channels see it: quote, confirm, receipt, and the reasons the
billing backend gives for refusing. The backend enforces the contract; channels only present it.

A quote states who the code pays (masked), for which bill months, how much, until when.
Money moves only on `confirm(quote_id, idempotency_key)`; the same key always returns the same
receipt, so a retried webhook, a double tap or a resent message never charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tasdeed.money import Money
from tasdeed.text import Text


class RefusalReason(StrEnum):
    """Machine-readable reasons; the catalogue key for each is `refusal.<value>`."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CODE = "invalid_code"
    UNKNOWN_CODE = "unknown_code"
    NOTHING_DUE = "nothing_due"
    INVALID_AMOUNT = "invalid_amount"
    PARTIAL_NOT_ALLOWED = "partial_not_allowed"
    BELOW_MINIMUM = "below_minimum"
    OVERPAYMENT_NOT_ALLOWED = "overpayment_not_allowed"
    QUOTE_UNKNOWN = "quote_unknown"
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_STALE = "quote_stale"
    ALREADY_PAID_RECENTLY = "already_paid_recently"
    QUOTE_ALREADY_CONFIRMED = "quote_already_confirmed"
    IDEMPOTENCY_KEY_CONFLICT = "idempotency_key_conflict"
    ACCOUNT_UNKNOWN = "account_unknown"
    COMPLAINT_UNKNOWN = "complaint_unknown"
    PAYMENT_UNKNOWN = "payment_unknown"
    INVALID_CATEGORY = "invalid_category"
    INVALID_MONTHS = "invalid_months"
    ACKNOWLEDGMENT_REQUIRED = "acknowledgment_required"
    READING_BELOW_PREVIOUS = "reading_below_previous"
    TOPIC_NOT_OFFERED = "topic_not_offered"
    # An operator asked to cut power for non-payment in a protected time or case.
    DISCONNECTION_PROHIBITED = "disconnection_prohibited"


@dataclass(frozen=True, slots=True)
class Quote:
    quote_id: str
    payee_masked: str
    area: str
    bill_months: tuple[str, ...]  # "2026-10"
    amount_due: Money
    amount: Money
    expires_at: datetime
    recently_paid: bool  # a payment landed in the profile's window: confirm needs override
    override: bool
    # The account's arrears bring a prepaid meter (the profile's prepaid_conversion rule, as
    # the backend decides it); screens that say what is owed warn.
    prepaid_flagged: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_number: str
    quote_id: str
    amount: Money
    paid_at: datetime
    payee_masked: str
    bill_months: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Balance:
    account_number: str
    payee_masked: str
    area: str
    amount_due: Money
    unpaid_months: tuple[str, ...]
    next_due_date: str | None
    credit: Money
    prepaid_flagged: bool = False  # as on Quote


@dataclass(frozen=True, slots=True)
class ComplaintTicket:
    ticket_number: str
    category: str
    status: str
    sla_due_at: datetime
    created_at: datetime
    # The last local day to answer on, as the person is told (ISO); None from a backend
    # that does not say (then the date of `sla_due_at`).
    due_date: str | None = None
    # A guaranteed standard the complaint is under (Saudi billing complaints): the working
    # days it allows and the compensation a late answer earns.
    standard_working_days: int | None = None
    standard_compensation: Money | None = None


@dataclass(frozen=True, slots=True)
class InstallmentPlan:
    plan_id: str
    account_number: str
    total: Money
    installment: Money
    months: int
    status: str
    first_due_date: str


COMPLAINT_CATEGORIES = ("billing", "outage", "meter", "reading", "service", "other")


# Rule topics a person can ask about, in menu order; a profile offers those its rules cover.
RULE_TOPICS = ("prepaid", "block", "incentive", "compensation", "disconnection")
READING_KINDS = ("electricity", "water")


@dataclass(frozen=True, slots=True)
class RuleAnswer:
    """A rule's answer for one account: the outcome and why (which rule, which figures)."""

    topic: str
    outcome: bool
    reasons: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class ReadingReceipt:
    kind: str
    month: str
    value: int
    consumption: int
