"""Quiet hours: bulk notices are not sent between the profile's `quiet_start` and `quiet_end`,
local time in the profile's timezone (the window may span midnight)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tasdeed.profile import Profile


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, profile: Profile) -> datetime | None:
    """When the quiet hours around `now` (aware, or naive UTC) end, as aware UTC; None when
    `now` is outside them."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    zone = ZoneInfo(profile.timezone)
    local = moment.astimezone(zone)
    start, end = _clock(profile.notices.quiet_start), _clock(profile.notices.quiet_end)
    if start == end:
        return None
    here = local.time()
    spans_midnight = start > end
    inside = (here >= start or here < end) if spans_midnight else (start <= here < end)
    if not inside:
        return None
    end_day = local.date()
    if spans_midnight and here >= start:
        end_day += timedelta(days=1)
    ends = datetime.combine(end_day, end, tzinfo=zone)
    return ends.astimezone(UTC)
