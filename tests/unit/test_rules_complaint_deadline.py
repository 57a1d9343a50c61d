"""The Saudi billing-complaint standard as a deadline: 10 working days (Sunday to Thursday, the
profile's holidays skipped), the day the person is told, and the moment the standard first
counts an open complaint as breached; the profile data that puts billing complaints under it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.rules.saudi import (
    ServiceEvent,
    compensations,
    complaint_deadline,
    working_calendar,
)
from tasdeed.rules.settings import rule_settings

SA = load_profile("sa")
RULES = rule_settings(SA)
assert RULES.compensation is not None
COMP = RULES.compensation
CAL = working_calendar(COMP, SA.timezone)
RIYADH = ZoneInfo("Asia/Riyadh")


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIYADH)


def test_billing_complaints_are_under_the_ten_working_day_standard() -> None:
    standard = COMP.billing_complaint
    assert standard.working_days == 10 and standard.amount_minor == 10000
    assert standard.complaint_categories == ("billing",)
    # Not an hours SLA any more: the profile leaves billing to the standard.
    assert "billing" not in SA.complaints.sla_hours
    # The profile's holidays are days the standards skip (Founding Day 2027).
    assert date(2027, 2, 22) in CAL.holidays


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        # Thursday 3 Dec 2026: the filing day is not counted; 10 working days is Thursday 17.
        (local(2026, 12, 3, 9), date(2026, 12, 17)),
        # Filed on a Friday: the count starts on Sunday.
        (local(2026, 12, 4, 9), date(2026, 12, 17)),
        # Filed late on Wednesday night (local), which is still Wednesday in UTC too.
        (local(2026, 12, 2, 23, 30), date(2026, 12, 16)),
        # Founding Day (Monday 22 Feb 2027) is skipped: one working day later.
        (local(2027, 2, 14), date(2027, 3, 1)),
    ],
)
def test_the_due_date_is_the_tenth_working_day(filed: datetime, due: date) -> None:
    assert complaint_deadline(filed, 10, CAL).due_date == due


def test_late_from_the_start_of_the_next_working_day_as_the_rule_judges() -> None:
    filed = local(2026, 12, 3, 9)
    deadline = complaint_deadline(filed, 10, CAL)
    # Due Thursday 17 December; the weekend after it adds no working day, so the standard
    # first counts 11 working days at midnight starting Sunday 20 December, Riyadh time.
    assert deadline.late_at == datetime(2026, 12, 20, tzinfo=RIYADH)
    assert deadline.late_at.astimezone(UTC) == datetime(2026, 12, 19, 21, tzinfo=UTC)
    event = ServiceEvent("complaint:1", "billing_complaint", filed, None)
    just_before = deadline.late_at - timedelta(seconds=1)
    assert compensations([event], COMP, now=just_before, working_days=CAL) == []
    [late] = compensations([event], COMP, now=deadline.late_at, working_days=CAL)
    assert late.standard == "billing_complaint" and late.amount == Money(10000, "SAR")
    # Answered on the due date: nothing, whenever it is judged.
    answered = ServiceEvent("complaint:2", "billing_complaint", filed, local(2026, 12, 17, 15))
    far_later = datetime(2027, 6, 1, tzinfo=UTC)
    assert compensations([answered], COMP, now=far_later, working_days=CAL) == []
