"""What every rule returns: an outcome and the reasons a channel can say or show.

Reasons are `Text` (catalogue key + params) from `tasdeed/locale/*/LC_MESSAGES/rules.po`.
Placeholder names reuse the ones the catalogue tests fill with worst-case values
(tests/unit/test_catalogues.py): `amount`/`due` hold Money, `count`/`min`/`max`/`length`
numbers, `date` an ISO date and `time` a local "HH:MM", `ticket` a fraction's digits. A
duration is a Text of its own (`duration`): hours and minutes, each with its plural noun.
Customers never see internal ids (event ids): an event is named by its local date and time.
Each entry in rules.po says which is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from tasdeed.text import DigitString, Text


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: bool
    reasons: tuple[Text, ...]


def percent(value: Decimal) -> int | Text:
    """A percentage as a Text param. A whole number is an int; a fraction is the
    `rules.decimal` message built from the whole part (int) and the fraction's digits
    (DigitString, leading zeros kept), so both follow the profile's digits and the
    language's decimal separator ("19.9", "١٩٫٩")."""
    if not value.is_finite() or value < 0:
        raise ValueError(f"a percentage is a finite non-negative number, got {value}")
    if value == value.to_integral_value():
        return int(value)
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return Text("rules.decimal", {"count": int(whole), "ticket": DigitString(fraction)})


def require_aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {at!r}")


def duration(span: timedelta) -> Text:
    """How long something lasted, in hours and minutes ("٧ ساعات", "ساعتان و٥ دقائق",
    "٤٥ دقيقة"), whole minutes; each part a counted phrase of the catalogues."""
    minutes = max(span, timedelta(0)) // timedelta(minutes=1)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return Text("count.minutes", {"count": rest})
    if not rest:
        return Text("count.hours", {"count": hours})
    return Text("duration.hours_minutes", {"hours": hours, "minutes": rest})
