"""When power may be cut for non-payment (Saudi protected cases), and what a breach pays.

The article names four of the seven prohibited cases: after 12 noon, during Ramadan, during
public-school exam periods, and when a person with special needs depends on the electricity.
Only those four are checked; each can be switched off in the profile. All are judged on the
local time and date; Ramadan is Hijri month 9 in the Umm al-Qura calendar (hijridate).

Exam periods come from the profile (`exam_periods`) and from what an operator loaded into the
ledger (passed as `exam_periods`); a period with a region protects only the accounts in it
(`in_region`), one without protects every account. An account whose area is not known is
protected by every period (the cautious reading).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from hijridate import Gregorian

from tasdeed.rules.decision import Decision, require_aware
from tasdeed.rules.saudi import Compensation, ServiceEvent, prohibited_disconnection_compensation
from tasdeed.rules.settings import CompensationSettings, ExamPeriod, ProtectedDisconnectionSettings
from tasdeed.text import Text

RAMADAN = 9
REGION_SEPARATOR = " - "  # "الرياض - العليا": the city or region, then the district


def in_region(area: str | None, region: str) -> bool:
    """Does an exam period's region cover an account's area? An empty region is the whole
    country; otherwise the area is the region itself or one of its districts ("الرياض"
    covers "الرياض - العليا", not "الرياضية"). Spaces around either are ignored."""
    region = region.strip()
    if not region or area is None:
        return True
    area = area.strip()
    return area == region or area.startswith(region + REGION_SEPARATOR)


def disconnection_allowed(
    at: datetime,
    *,
    special_needs: bool,
    s: ProtectedDisconnectionSettings,
    timezone: str,
    area: str | None = None,
    exam_periods: Iterable[ExamPeriod] = (),
) -> Decision:
    """Outcome True = a disconnection for non-payment at `at` is allowed. 12:00:00 local is
    still allowed; any moment after it is not. The reasons name every protection broken.
    `area` is the account's (exam periods of other regions do not protect it);
    `exam_periods` adds periods loaded outside the profile."""
    require_aware(at, "at")
    local = at.astimezone(ZoneInfo(timezone))
    day = local.date()
    broken: list[Text] = []
    cutoff = time(s.no_disconnection_from_hour)
    if local.time() > cutoff:
        broken.append(
            Text("rules.disconnection.after_hour", {"count": s.no_disconnection_from_hour})
        )
    if s.ramadan:
        try:
            hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        except OverflowError as exc:
            raise ValueError(f"{day} is outside the Umm al-Qura calendar's range") from exc
        if hijri.month == RAMADAN:
            broken.append(Text("rules.disconnection.ramadan"))
    for period in (*s.exam_periods, *exam_periods):
        if period.start <= day <= period.end and in_region(area, period.region):
            broken.append(Text("rules.disconnection.exam_period", {"date": period.end.isoformat()}))
            break
    if s.special_needs and special_needs:
        broken.append(Text("rules.disconnection.special_needs"))
    if broken:
        return Decision(False, tuple(broken))
    return Decision(
        True, (Text("rules.disconnection.allowed", {"count": s.no_disconnection_from_hour}),)
    )


def breach_compensation(
    event: ServiceEvent,
    *,
    special_needs: bool,
    protection: ProtectedDisconnectionSettings,
    compensation: CompensationSettings,
    timezone: str,
    area: str | None = None,
    exam_periods: Iterable[ExamPeriod] = (),
) -> Compensation | None:
    """The prohibited-disconnection compensation (500 SAR in the Saudi profile) when `event`
    cut power for non-payment at a time or in a case `disconnection_allowed` forbids; None
    otherwise. Keyed like `saudi.compensations` gives it for an event marked `prohibited`, so
    the two never credit the same cut twice."""
    if event.kind != "disconnection":
        raise ValueError(f"{event.event_id} is a {event.kind}, not a disconnection")
    if not event.flag("for_non_payment"):
        return None
    decision = disconnection_allowed(
        event.started_at,
        special_needs=special_needs,
        s=protection,
        timezone=timezone,
        area=area,
        exam_periods=exam_periods,
    )
    if decision.outcome:
        return None
    return prohibited_disconnection_compensation(event, compensation, decision.reasons)
