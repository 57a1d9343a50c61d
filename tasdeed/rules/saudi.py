"""Saudi Arabia: the eight guaranteed service standards and their automatic compensation.

An account's history is a list of `ServiceEvent`s; `compensations` says which standards were
breached and what each breach pays. A compensation is keyed by its standard and the events it
rests on, so running the check again (or on a longer history) never credits one breach twice.

Event kinds and what their times mean:
- reconnection: paid at `started_at`, service back at `ended_at`.
- connection: paid at `started_at`, connected or modified at `ended_at`;
  details `voltage` = "low" | "medium".
- outage: power lost at `started_at`, back at `ended_at`; details `planned` (bool) and, for a
  planned outage, `notice_hours` (int, hours of notice given; 0 when none was given).
- planned_outage_notice: notice given at `started_at` for a planned outage that began at
  `ended_at`; details `outage_id` (optional) names that outage, and then the notice standard is
  judged on this notice and keyed on the outage, whatever the outage event says.
- consumer_registration: requested at `started_at`, done at `ended_at`.
- billing_complaint: filed at `started_at`, handled at `ended_at`.
- disconnection: cut at `started_at`; details `for_non_payment` and `prohibited` (bools; see
  tasdeed.rules.disconnection to decide `prohibited`).
An open event (`ended_at` None) is judged at `now`: it counts once `now` is past its deadline.
Every outage counts toward the outage standards, planned or not (the article makes no
exception). Times must be timezone-aware; days and years are the calendar's local ones.
Explanations name an event by its local date and time (event ids are internal) and say
durations in hours and minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from tasdeed.money import Money
from tasdeed.rules.calendar import WorkingCalendar
from tasdeed.rules.decision import duration, require_aware
from tasdeed.rules.settings import CompensationSettings
from tasdeed.text import Param, Text

EventKind = Literal[
    "reconnection",
    "connection",
    "outage",
    "consumer_registration",
    "billing_complaint",
    "planned_outage_notice",
    "disconnection",
]
Standard = Literal[
    "reconnection_after_payment",
    "connection_after_payment",
    "outage_count",
    "outage_restoration",
    "register_actual_consumer",
    "billing_complaint",
    "planned_outage_notice",
    "prohibited_disconnection",
]
Detail = str | bool | int
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ServiceEvent:
    event_id: str
    kind: EventKind
    started_at: datetime
    ended_at: datetime | None
    details: Mapping[str, Detail] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.event_id:
            raise ValueError("an event needs an id")
        require_aware(self.started_at, f"{self.event_id} started_at")
        if self.ended_at is not None:
            require_aware(self.ended_at, f"{self.event_id} ended_at")
            if self.ended_at < self.started_at:
                raise ValueError(f"{self.event_id} ends before it starts")

    def flag(self, name: str) -> bool:
        value = self.details.get(name, False)
        if not isinstance(value, bool):
            raise ValueError(f"{self.event_id}: {name} must be true or false, got {value!r}")
        return value

    def number(self, name: str) -> int:
        value = self.details.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{self.event_id}: {name} must be a whole number, got {value!r}")
        return value

    def elapsed(self, now: datetime) -> timedelta:
        """How long the event lasted, or has lasted so far when it is still open."""
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.started_at, timedelta(0))

    def end_or(self, now: datetime) -> datetime:
        return self.ended_at if self.ended_at is not None else max(now, self.started_at)


@dataclass(frozen=True, slots=True)
class Compensation:
    standard: Standard
    amount: Money
    event_ids: tuple[str, ...]
    reasons: tuple[Text, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """The same standard on the same events is one compensation, never two."""
        return (self.standard, *sorted(self.event_ids))


def working_calendar(
    s: CompensationSettings, timezone: str, holidays: Iterable[date] = ()
) -> WorkingCalendar:
    """The calendar the working-day standards count on: the settings' weekend (Friday and
    Saturday by default), the settings' public holidays and the given ones, local dates in
    `timezone`."""
    return WorkingCalendar.of(timezone, s.weekend_days, (*s.holidays, *holidays))


@dataclass(frozen=True, slots=True)
class ComplaintDeadline:
    """When a complaint under a working-days standard must be handled by.

    `due_date` is the last local day it may be handled on: the N-th working day after the
    filing date (the filing day itself is not counted). `late_at` (timezone-aware) is the
    moment `compensations` first finds it breached if it is still open: the local midnight
    that begins the next working day, because a weekend or holiday after the due date adds
    no working day to the count."""

    due_date: date
    late_at: datetime


def complaint_deadline(
    filed_at: datetime, working_days: int, cal: WorkingCalendar
) -> ComplaintDeadline:
    due = cal.add(cal.local_date(filed_at), working_days)
    late = cal.add(due, 1)
    return ComplaintDeadline(
        due, datetime.combine(late, datetime.min.time(), tzinfo=ZoneInfo(cal.timezone))
    )


def _pay(
    s: CompensationSettings,
    standard: Standard,
    amount_minor: int,
    event_ids: tuple[str, ...],
    reasons: tuple[Text, ...],
) -> Compensation:
    return Compensation(standard, Money(amount_minor, s.currency), event_ids, reasons)


def _when(at: datetime, cal: WorkingCalendar) -> dict[str, Param]:
    """An event as a customer knows it: the local date and time it began."""
    local = at.astimezone(ZoneInfo(cal.timezone))
    return {"date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def _reconnection(e: ServiceEvent, s: CompensationSettings, now: datetime) -> Compensation | None:
    rule = s.reconnection_after_payment
    if e.elapsed(now) <= rule.hours * HOUR:
        return None
    amount = Money(rule.amount_minor, s.currency)
    why = Text(
        "rules.sa.reconnection",
        {"count": duration(e.elapsed(now)), "max": rule.hours, "amount": amount},
    )
    return _pay(s, "reconnection_after_payment", rule.amount_minor, (e.event_id,), (why,))


def _working_days_taken(e: ServiceEvent, now: datetime, cal: WorkingCalendar) -> int:
    return cal.between(cal.local_date(e.started_at), cal.local_date(e.end_or(now)))


def _connection(
    e: ServiceEvent, s: CompensationSettings, now: datetime, cal: WorkingCalendar
) -> Compensation | None:
    rule = s.connection_after_payment
    voltage = e.details.get("voltage")
    if voltage == "low":
        limit, key = rule.working_days_low_voltage, "rules.sa.connection_low"
    elif voltage == "medium":
        limit, key = rule.working_days_medium_voltage, "rules.sa.connection_medium"
    else:
        raise ValueError(f"{e.event_id}: voltage must be 'low' or 'medium', got {voltage!r}")
    taken = _working_days_taken(e, now, cal)
    if taken <= limit:
        return None
    why = Text(key, {"count": taken, "max": limit, "amount": Money(rule.amount_minor, s.currency)})
    return _pay(s, "connection_after_payment", rule.amount_minor, (e.event_id,), (why,))


def _within_working_days(
    e: ServiceEvent,
    s: CompensationSettings,
    now: datetime,
    cal: WorkingCalendar,
    standard: Literal["register_actual_consumer", "billing_complaint"],
) -> Compensation | None:
    rule = (
        s.register_actual_consumer
        if standard == "register_actual_consumer"
        else (s.billing_complaint)
    )
    taken = _working_days_taken(e, now, cal)
    if taken <= rule.working_days:
        return None
    amount = Money(rule.amount_minor, s.currency)
    why = Text(f"rules.sa.{standard}", {"count": taken, "max": rule.working_days, "amount": amount})
    return _pay(s, standard, rule.amount_minor, (e.event_id,), (why,))


def _restoration(
    e: ServiceEvent, s: CompensationSettings, now: datetime, cal: WorkingCalendar
) -> Compensation | None:
    rule = s.outage_restoration
    lasted = e.elapsed(now)
    if lasted <= rule.hours * HOUR:
        return None
    why = Text(
        "rules.sa.outage_restoration",
        {
            **_when(e.started_at, cal),
            "count": duration(lasted),
            "max": rule.hours,
            "amount": Money(rule.amount_minor, s.currency),
        },
    )
    return _pay(s, "outage_restoration", rule.amount_minor, (e.event_id,), (why,))


def _outage_count(
    outages: list[ServiceEvent], s: CompensationSettings, now: datetime, cal: WorkingCalendar
) -> list[Compensation]:
    """Once per calendar year, on the outage that makes the count exceed the limit; the
    compensation rests on the first outages of that year that reached it."""
    rule = s.outage_count
    by_year: dict[int, list[ServiceEvent]] = defaultdict(list)
    for e in outages:
        if e.elapsed(now) >= rule.min_outage_hours * HOUR:
            by_year[cal.local_date(e.started_at).year].append(e)
    paid: list[Compensation] = []
    amount = Money(rule.amount_minor, s.currency)
    for year_outages in by_year.values():
        if len(year_outages) <= rule.max_outages_per_year:
            continue
        year_outages.sort(key=lambda e: (e.started_at, e.event_id))
        counted = year_outages[: rule.max_outages_per_year + 1]
        why = Text(
            "rules.sa.outage_count",
            {
                "count": len(counted),
                "min": rule.min_outage_hours,
                "max": rule.max_outages_per_year,
                "amount": amount,
            },
        )
        items = tuple(
            Text(
                "rules.sa.outage_item",
                {**_when(e.started_at, cal), "count": duration(e.elapsed(now))},
            )
            for e in counted
        )
        ids = tuple(e.event_id for e in counted)
        paid.append(_pay(s, "outage_count", rule.amount_minor, ids, (why, *items)))
    return paid


def _notice(
    e: ServiceEvent, s: CompensationSettings, notice: timedelta, outage_id: str
) -> Compensation | None:
    rule = s.planned_outage_notice
    if notice >= timedelta(days=rule.days):
        return None
    why = Text(
        "rules.sa.planned_outage_notice",
        {"count": notice // HOUR, "max": rule.days, "amount": Money(rule.amount_minor, s.currency)},
    )
    return _pay(s, "planned_outage_notice", rule.amount_minor, (outage_id,), (why,))


def _notices(events: list[ServiceEvent], s: CompensationSettings) -> list[Compensation]:
    paid: list[Compensation] = []
    judged: set[str] = set()
    for e in events:
        if e.kind != "planned_outage_notice" or e.ended_at is None:
            continue  # the outage has not begun: the notice cannot be short yet
        outage_id = e.details.get("outage_id", e.event_id)
        if not isinstance(outage_id, str) or not outage_id:
            raise ValueError(f"{e.event_id}: outage_id must be an event id, got {outage_id!r}")
        judged.add(outage_id)
        found = _notice(e, s, e.ended_at - e.started_at, outage_id)
        if found is not None:
            paid.append(found)
    for e in events:
        if e.kind == "outage" and e.flag("planned") and e.event_id not in judged:
            found = _notice(e, s, e.number("notice_hours") * HOUR, e.event_id)
            if found is not None:
                paid.append(found)
    return paid


def prohibited_disconnection_compensation(
    event: ServiceEvent, s: CompensationSettings, why: tuple[Text, ...] = ()
) -> Compensation:
    """The compensation for cutting power for non-payment in a prohibited time or case;
    `why` adds the protections that were broken."""
    if event.kind != "disconnection":
        raise ValueError(f"{event.event_id} is a {event.kind}, not a disconnection")
    rule = s.prohibited_disconnection
    amount = Money(rule.amount_minor, s.currency)
    main = Text("rules.sa.prohibited_disconnection", {"amount": amount})
    return _pay(s, "prohibited_disconnection", rule.amount_minor, (event.event_id,), (main, *why))


def _unique(events: Iterable[ServiceEvent]) -> list[ServiceEvent]:
    seen: dict[str, ServiceEvent] = {}
    for e in events:
        known = seen.setdefault(e.event_id, e)
        if known != e:
            raise ValueError(f"two different events share the id {e.event_id!r}")
    return list(seen.values())


def compensations(
    events: Iterable[ServiceEvent],
    s: CompensationSettings,
    *,
    now: datetime,
    working_days: WorkingCalendar,
) -> list[Compensation]:
    """Every compensation the events earn, each key once, in the order the breaches began."""
    require_aware(now, "now")
    unique = _unique(events)
    found: list[Compensation | None] = []
    for e in unique:
        if e.kind == "reconnection":
            found.append(_reconnection(e, s, now))
        elif e.kind == "connection":
            found.append(_connection(e, s, now, working_days))
        elif e.kind == "outage":
            found.append(_restoration(e, s, now, working_days))
        elif e.kind == "consumer_registration":
            found.append(_within_working_days(e, s, now, working_days, "register_actual_consumer"))
        elif e.kind == "billing_complaint":
            found.append(_within_working_days(e, s, now, working_days, "billing_complaint"))
        elif e.kind == "disconnection" and e.flag("for_non_payment") and e.flag("prohibited"):
            found.append(prohibited_disconnection_compensation(e, s))
    outages = [e for e in unique if e.kind == "outage"]
    found.extend(_outage_count(outages, s, now, working_days))
    found.extend(_notices(unique, s))

    started = {e.event_id: e.started_at for e in unique}
    for e in unique:  # a notice keyed on an outage outside `events` sorts by the outage start
        outage_id = e.details.get("outage_id")
        if e.kind == "planned_outage_notice" and isinstance(outage_id, str):
            started.setdefault(outage_id, e.end_or(now))
    by_key: dict[tuple[str, ...], Compensation] = {}
    for c in found:
        if c is not None:
            by_key.setdefault(c.key, c)

    def order(c: Compensation) -> tuple[datetime, tuple[str, ...]]:
        starts = [started[i] for i in c.event_ids if i in started]
        return (min(starts), c.key)

    return sorted(by_key.values(), key=order)
