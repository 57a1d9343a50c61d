"""Working days: weekends (Python weekday numbers, Monday = 0) and public holidays skipped.

"Within N working days" of a day D means by the end of the N-th working day after D; D itself
is not counted, whatever time of day the request or payment came in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tasdeed.rules.decision import require_aware


def _check_weekend(weekend: frozenset[int]) -> None:
    if not weekend <= frozenset(range(7)):
        raise ValueError(f"weekend days are 0 (Monday) to 6 (Sunday), got {sorted(weekend)}")
    if len(weekend) == 7:
        raise ValueError("a week needs at least one working day")


def is_working_day(day: date, weekend: frozenset[int], holidays: frozenset[date]) -> bool:
    return day.weekday() not in weekend and day not in holidays


def working_days_between(
    start: date, end: date, weekend: frozenset[int], holidays: frozenset[date]
) -> int:
    """Working days after `start` up to and including `end` (Thursday → Sunday with a
    Friday-Saturday weekend is 1). `end` before `start` is a ValueError."""
    _check_weekend(weekend)
    if end < start:
        raise ValueError(f"{end} is before {start}")
    span = (end - start).days
    full_weeks, rest = divmod(span, 7)
    count = full_weeks * (7 - len(weekend))
    day = start + timedelta(days=full_weeks * 7)
    for _ in range(rest):
        day += timedelta(days=1)
        if day.weekday() not in weekend:
            count += 1
    count -= sum(1 for h in holidays if start < h <= end and h.weekday() not in weekend)
    return count


def add_working_days(
    start: date, days: int, weekend: frozenset[int], holidays: frozenset[date]
) -> date:
    """The `days`-th working day after `start` (`start` itself when days is 0)."""
    _check_weekend(weekend)
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, weekend, holidays):
            left -= 1
    return day


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The working week and holidays of a place, and its timezone for local dates."""

    timezone: str
    weekend: frozenset[int]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        _check_weekend(self.weekend)
        ZoneInfo(self.timezone)  # an unknown zone fails here, not at the first event

    @classmethod
    def of(
        cls, timezone: str, weekend: Iterable[int], holidays: Iterable[date] = ()
    ) -> WorkingCalendar:
        return cls(timezone, frozenset(weekend), frozenset(holidays))

    def local_date(self, at: datetime) -> date:
        require_aware(at, "time")
        return at.astimezone(ZoneInfo(self.timezone)).date()

    def between(self, start: date, end: date) -> int:
        return working_days_between(start, end, self.weekend, self.holidays)

    def add(self, start: date, days: int) -> date:
        return add_working_days(start, days, self.weekend, self.holidays)
