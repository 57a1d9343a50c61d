"""The kinds of outbound message, which of them wait out quiet hours, and what each template
costs as SMS (`budgets.toml`, checked with worst-case values by tests/unit/test_notices.py)."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

Channel = Literal["sms", "whatsapp"]
CHANNELS: tuple[Channel, ...] = ("sms", "whatsapp")
BUDGETS_FILE = Path(__file__).with_name("budgets.toml")


class NoticeKind(StrEnum):
    BILL_ISSUED = "bill_issued"
    DUE_REMINDER = "due_reminder"
    PAYMENT_RECEIPT = "payment_receipt"
    COMPLAINT_UPDATE = "complaint_update"
    COMPLAINT_SLA_BREACH = "complaint_sla_breach"
    COMPENSATION_CREDITED = "compensation_credited"
    # A complaint under a guaranteed standard (Saudi billing complaints) answered late: the
    # compensation credited, naming the complaint and the day it was due.
    COMPLAINT_COMPENSATION = "complaint_compensation"
    PREPAID_WARNING = "prepaid_warning"


# Answers to something the person just did go at once, night or day; the rest wait for the
# end of the profile's quiet hours.
IMMEDIATE = frozenset({NoticeKind.PAYMENT_RECEIPT, NoticeKind.COMPLAINT_UPDATE})


def is_bulk(kind: NoticeKind) -> bool:
    return kind not in IMMEDIATE


@cache
def sms_segment_budget() -> dict[NoticeKind, int]:
    """How many SMS segments each kind's template is allowed, worst case, in any profile and
    language: the figure operators plan bill-day volume with."""
    with BUDGETS_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    budgets = {NoticeKind(kind): int(entry["sms_segments"]) for kind, entry in data.items()}
    missing = set(NoticeKind) - set(budgets)
    if missing:
        raise ValueError(f"{BUDGETS_FILE} lacks {sorted(missing)}")
    return budgets
