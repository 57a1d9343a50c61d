"""Tests for tasdeed.rules.calendar: working days with a Friday-Saturday weekend.

Weekdays of the dates are written by hand: 2026-01-01 is a Thursday, 2026-03-01 a Sunday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.rules.calendar import WorkingCalendar, add_working_days, working_days_between

FRI_SAT = frozenset({4, 5})
SAT_SUN = frozenset({5, 6})
NO_HOLIDAYS: frozenset[date] = frozenset()
THURSDAY = date(2026, 1, 1)
SUNDAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("start", "end", "holidays", "expected"),
    [
        (THURSDAY, THURSDAY, NO_HOLIDAYS, 0),
        (THURSDAY, date(2026, 1, 2), NO_HOLIDAYS, 0),  # Friday
        (THURSDAY, date(2026, 1, 3), NO_HOLIDAYS, 0),  # Saturday
        (THURSDAY, date(2026, 1, 4), NO_HOLIDAYS, 1),  # Thursday → Sunday across the weekend
        (THURSDAY, date(2026, 1, 5), NO_HOLIDAYS, 2),  # Monday
        (THURSDAY, date(2026, 1, 8), NO_HOLIDAYS, 5),  # next Thursday: one full week
        (THURSDAY, date(2026, 1, 4), frozenset({date(2026, 1, 4)}), 0),  # Sunday a holiday
        (THURSDAY, date(2026, 1, 5), frozenset({date(2026, 1, 4)}), 1),
        # a holiday on the weekend or outside the span changes nothing
        (THURSDAY, date(2026, 1, 5), frozenset({date(2026, 1, 2), date(2025, 12, 31)}), 2),
        # the start day itself is never counted, holiday or not
        (THURSDAY, date(2026, 1, 4), frozenset({THURSDAY}), 1),
        (SUNDAY, date(2026, 3, 29), NO_HOLIDAYS, 20),
        (SUNDAY, date(2026, 3, 30), NO_HOLIDAYS, 21),
        (SUNDAY, date(2026, 5, 24), NO_HOLIDAYS, 60),
        (SUNDAY, date(2026, 5, 25), NO_HOLIDAYS, 61),
    ],
)
def test_working_days_between(
    start: date, end: date, holidays: frozenset[date], expected: int
) -> None:
    assert working_days_between(start, end, FRI_SAT, holidays) == expected


def test_a_saturday_sunday_weekend() -> None:
    # Friday 2026-01-02 → Monday 2026-01-05: only Monday counts.
    assert working_days_between(date(2026, 1, 2), date(2026, 1, 5), SAT_SUN, NO_HOLIDAYS) == 1
    assert add_working_days(date(2026, 1, 2), 1, SAT_SUN, NO_HOLIDAYS) == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        (THURSDAY, 0, NO_HOLIDAYS, THURSDAY),
        (THURSDAY, 1, NO_HOLIDAYS, date(2026, 1, 4)),  # Thursday + 1 → Sunday
        (date(2026, 1, 2), 1, NO_HOLIDAYS, date(2026, 1, 4)),  # from a Friday
        (THURSDAY, 1, frozenset({date(2026, 1, 4)}), date(2026, 1, 5)),
        (SUNDAY, 3, NO_HOLIDAYS, date(2026, 3, 4)),
        (SUNDAY, 10, NO_HOLIDAYS, date(2026, 3, 15)),
        (SUNDAY, 20, NO_HOLIDAYS, date(2026, 3, 29)),
        (SUNDAY, 60, NO_HOLIDAYS, date(2026, 5, 24)),
    ],
)
def test_add_working_days(
    start: date, days: int, holidays: frozenset[date], expected: date
) -> None:
    assert add_working_days(start, days, FRI_SAT, holidays) == expected


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="before"):
        working_days_between(date(2026, 1, 4), THURSDAY, FRI_SAT, NO_HOLIDAYS)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(THURSDAY, -1, FRI_SAT, NO_HOLIDAYS)
    with pytest.raises(ValueError, match="working day"):
        add_working_days(THURSDAY, 1, frozenset(range(7)), NO_HOLIDAYS)
    with pytest.raises(ValueError, match="weekend"):
        working_days_between(THURSDAY, SUNDAY, frozenset({7}), NO_HOLIDAYS)


def test_calendar_uses_local_dates() -> None:
    riyadh = WorkingCalendar.of("Asia/Riyadh", [4, 5])
    # 22:00 UTC on 1 January is 01:00 on 2 January in Riyadh (UTC+3).
    assert riyadh.local_date(datetime(2026, 1, 1, 22, 0, tzinfo=UTC)) == date(2026, 1, 2)
    assert riyadh.local_date(datetime(2026, 1, 1, 20, 59, tzinfo=UTC)) == date(2026, 1, 1)
    assert riyadh.between(THURSDAY, date(2026, 1, 4)) == 1
    assert riyadh.add(THURSDAY, 1) == date(2026, 1, 4)
    with pytest.raises(ValueError, match="timezone-aware"):
        riyadh.local_date(datetime(2026, 1, 1, 22, 0))


def _count_one_by_one(start: date, end: date, weekend: frozenset[int], holidays: set[date]) -> int:
    days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
    return sum(1 for d in days if d.weekday() not in weekend and d not in holidays)


DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
WEEKENDS = st.frozensets(st.integers(0, 6), max_size=6)


@given(DATES, st.integers(0, 800), WEEKENDS, st.sets(DATES, max_size=20))
def test_between_counts_every_working_day_once(
    start: date, span: int, weekend: frozenset[int], holidays: set[date]
) -> None:
    end = start + timedelta(days=span)
    expected = _count_one_by_one(start, end, weekend, holidays)
    assert working_days_between(start, end, weekend, frozenset(holidays)) == expected


@given(DATES, st.integers(0, 300), WEEKENDS, st.sets(DATES, max_size=20))
def test_add_then_count_gives_the_days_back(
    start: date, days: int, weekend: frozenset[int], holidays: set[date]
) -> None:
    end = add_working_days(start, days, weekend, frozenset(holidays))
    assert working_days_between(start, end, weekend, frozenset(holidays)) == days
    # the day reached is itself a working day (unless no day was added)
    if days:
        assert end.weekday() not in weekend
        assert end not in holidays
