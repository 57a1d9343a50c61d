"""Tests for tasdeed.rules.disconnection: the Saudi protected times and cases.

Not after 12 noon local time (12:00 is allowed, 12:01 is not), not in Ramadan, not in an exam
period, not when a person with special needs depends on the electricity. Ramadan 1447 AH in
the Umm al-Qura calendar runs from 2026-02-18 to 2026-03-19 (checked once with hijridate when
the test was written; written here by hand). Riyadh is UTC+3.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.rules.decision import Decision
from tasdeed.rules.disconnection import breach_compensation, disconnection_allowed, in_region
from tasdeed.rules.saudi import Compensation, ServiceEvent, compensations, working_calendar
from tasdeed.rules.settings import (
    CompensationSettings,
    ExamPeriod,
    ProtectedDisconnectionSettings,
    rule_settings,
)
from tasdeed.text import Text

SA = load_profile("sa")
RULES = rule_settings(SA)
assert RULES.protected_disconnection is not None
assert RULES.compensation is not None
SHIPPED: ProtectedDisconnectionSettings = RULES.protected_disconnection
# The times and cases without the exam periods the profile ships (real dates: the first
# semester of 1447 AH, 4 to 8 January 2026), so the other protections are seen alone.
PROTECTED = SHIPPED.model_copy(update={"exam_periods": ()})
COMP: CompensationSettings = RULES.compensation
TZ = "Asia/Riyadh"
RIYADH = ZoneInfo(TZ)
WITH_EXAMS = ProtectedDisconnectionSettings.model_validate(
    {
        **SA.rules["protected_disconnection"],
        "exam_periods": [{"start": "2027-05-10", "end": "2027-05-27"}],
    }
)

ALLOWED = Text("rules.disconnection.allowed", {"count": 12})
AFTER_NOON = Text("rules.disconnection.after_hour", {"count": 12})
RAMADAN = Text("rules.disconnection.ramadan")
SPECIAL_NEEDS = Text("rules.disconnection.special_needs")
EXAMS = Text("rules.disconnection.exam_period", {"date": "2027-05-27"})


def local(
    year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=RIYADH)


def decide(
    at: datetime, special_needs: bool = False, s: ProtectedDisconnectionSettings = PROTECTED
) -> Decision:
    return disconnection_allowed(at, special_needs=special_needs, s=s, timezone=TZ)


def assert_renders(reasons: tuple[Text, ...]) -> None:
    for language in ("ar", "en"):
        renderer = TextRenderer(SA, language)
        for reason in reasons:
            shown = renderer.text(reason)
            assert "{" not in shown, shown
            if language == "ar":
                for line in shown.split("\n"):
                    assert len(line) <= 75, f"{len(line)}: {line!r}"


def test_saudi_protection_settings() -> None:
    assert PROTECTED.no_disconnection_from_hour == 12
    assert PROTECTED.ramadan is True
    assert PROTECTED.special_needs is True
    assert PROTECTED.exam_periods == ()
    assert WITH_EXAMS.exam_periods[0].start == date(2027, 5, 10)


def test_the_shipped_exam_period_is_the_published_one_with_its_source() -> None:
    # Okaz, 2025-12-10 and 2026-01-04: the written exams of the first semester of 1447 AH
    # began on Sunday 15 Rajab 1447 (4 January 2026) and lasted five days, nationwide.
    [first_semester_1447] = SHIPPED.exam_periods
    assert (first_semester_1447.start, first_semester_1447.end) == (
        date(2026, 1, 4),
        date(2026, 1, 8),
    )
    assert first_semester_1447.region == ""
    assert first_semester_1447.source.startswith("https://www.okaz.com.sa/")
    for period in SHIPPED.exam_periods:
        assert period.source, "a shipped exam period names where its dates come from"
    exams = Text("rules.disconnection.exam_period", {"date": "2026-01-08"})
    assert decide(local(2026, 1, 4), s=SHIPPED).reasons == (exams,)
    assert decide(local(2026, 1, 8), s=SHIPPED).reasons == (exams,)
    assert decide(local(2026, 1, 11), s=SHIPPED).outcome is True


REGIONAL = ExamPeriod(start=date(2027, 1, 3), end=date(2027, 1, 7), region="الرياض", source="x")


@pytest.mark.parametrize(
    ("area", "refused"),
    [
        ("الرياض - العليا", True),  # a district of the region
        ("الرياض", True),  # the region itself
        ("جدة - الروضة", False),  # another region
        ("الرياضية", False),  # a name that only starts like it
        (None, True),  # an unknown area: every period protects it
    ],
)
def test_a_regional_exam_period_protects_only_its_region(area: str | None, refused: bool) -> None:
    at = local(2027, 1, 5)
    decision = disconnection_allowed(
        at, special_needs=False, s=PROTECTED, timezone=TZ, area=area, exam_periods=[REGIONAL]
    )
    assert decision.outcome is not refused
    if refused:
        assert decision.reasons == (
            Text("rules.disconnection.exam_period", {"date": "2027-01-07"}),
        )
    outside = disconnection_allowed(
        local(2027, 1, 8),
        special_needs=False,
        s=PROTECTED,
        timezone=TZ,
        area=area,
        exam_periods=[REGIONAL],
    )
    assert outside.outcome is True
    assert in_region(area, "") is True  # a period without a region protects everyone


@pytest.mark.parametrize(
    ("at", "special_needs", "allowed", "reasons"),
    [
        # noon, local time
        (local(2026, 1, 4, 11, 59), False, True, (ALLOWED,)),
        (local(2026, 1, 4, 12, 0), False, True, (ALLOWED,)),
        (local(2026, 1, 4, 12, 1), False, False, (AFTER_NOON,)),
        (local(2026, 1, 4, 12, 0, 1), False, False, (AFTER_NOON,)),
        (local(2026, 1, 4, 23, 0), False, False, (AFTER_NOON,)),
        (datetime(2026, 1, 4, 9, 0, tzinfo=UTC), False, True, (ALLOWED,)),  # 12:00 in Riyadh
        (datetime(2026, 1, 4, 9, 1, tzinfo=UTC), False, False, (AFTER_NOON,)),  # 12:01
        # Ramadan 1447: the day before, the first day, the last day, the day after
        (local(2026, 2, 17), False, True, (ALLOWED,)),
        (local(2026, 2, 18), False, False, (RAMADAN,)),
        (local(2026, 3, 19), False, False, (RAMADAN,)),
        (local(2026, 3, 20), False, True, (ALLOWED,)),
        # 21:30 UTC on 17 February is 00:30 on 18 February in Riyadh: already Ramadan
        (datetime(2026, 2, 17, 21, 30, tzinfo=UTC), False, False, (RAMADAN,)),
        # special needs
        (local(2026, 1, 4), True, False, (SPECIAL_NEEDS,)),
        # every protection broken at once, each named
        (local(2026, 2, 18, 13), True, False, (AFTER_NOON, RAMADAN, SPECIAL_NEEDS)),
    ],
)
def test_protected_times_and_cases(
    at: datetime, special_needs: bool, allowed: bool, reasons: tuple[Text, ...]
) -> None:
    decision = decide(at, special_needs)
    assert decision.outcome is allowed
    assert decision.reasons == reasons
    assert_renders(decision.reasons)


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        (date(2027, 5, 9), True),
        (date(2027, 5, 10), False),
        (date(2027, 5, 27), False),
        (date(2027, 5, 28), True),
    ],
)
def test_exam_periods_include_both_ends(day: date, allowed: bool) -> None:
    decision = decide(local(day.year, day.month, day.day), s=WITH_EXAMS)
    assert decision.outcome is allowed
    assert decision.reasons == ((ALLOWED,) if allowed else (EXAMS,))
    assert decide(local(day.year, day.month, day.day)).outcome is True  # no exams set


def test_each_protection_can_be_switched_off() -> None:
    no_ramadan = PROTECTED.model_copy(update={"ramadan": False})
    assert decide(local(2026, 2, 18), s=no_ramadan).outcome is True
    no_special_needs = PROTECTED.model_copy(update={"special_needs": False})
    assert decide(local(2026, 1, 4), True, s=no_special_needs).outcome is True
    later = PROTECTED.model_copy(update={"no_disconnection_from_hour": 14})
    assert decide(local(2026, 1, 4, 13, 59), s=later).outcome is True
    assert decide(local(2026, 1, 4, 14, 1), s=later).reasons == (
        Text("rules.disconnection.after_hour", {"count": 14}),
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(datetime(2026, 1, 4, 10, 0))


def test_an_exam_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        ProtectedDisconnectionSettings.model_validate(
            {
                **SA.rules["protected_disconnection"],
                "exam_periods": [{"start": "2027-05-10", "end": "2027-05-09"}],
            }
        )


# --- the 500 SAR compensation ----------------------------------------------------------------


def cut(at: datetime, **details: str | bool | int) -> ServiceEvent:
    return ServiceEvent("d1", "disconnection", at, None, {"for_non_payment": True, **details})


def breach(event: ServiceEvent, special_needs: bool = False) -> Compensation | None:
    return breach_compensation(
        event, special_needs=special_needs, protection=PROTECTED, compensation=COMP, timezone=TZ
    )


def test_a_cut_at_12_01_pays_500_sar_and_says_why() -> None:
    found = breach(cut(local(2026, 1, 4, 12, 1)))
    assert found is not None
    assert found.standard == "prohibited_disconnection"
    assert found.amount == Money(50000, "SAR")
    assert found.event_ids == ("d1",)
    assert found.reasons == (
        Text("rules.sa.prohibited_disconnection", {"amount": Money(50000, "SAR")}),
        AFTER_NOON,
    )
    assert_renders(found.reasons)


@pytest.mark.parametrize(
    ("event", "special_needs", "pays"),
    [
        (cut(local(2026, 1, 4, 12, 0)), False, False),
        (cut(local(2026, 1, 4, 12, 1)), False, True),
        (cut(local(2026, 2, 18, 9)), False, True),  # first day of Ramadan
        (cut(local(2026, 1, 4, 9)), True, True),  # special needs
        (cut(local(2026, 1, 4, 13), for_non_payment=False), False, False),  # not for arrears
    ],
)
def test_breach_compensation(event: ServiceEvent, special_needs: bool, pays: bool) -> None:
    assert (breach(event, special_needs) is not None) is pays


def test_breach_and_compensations_share_the_key() -> None:
    found = breach(cut(local(2026, 1, 4, 12, 1)))
    marked = cut(local(2026, 1, 4, 12, 1), prohibited=True)
    listed = compensations(
        [marked],
        COMP,
        now=local(2026, 2, 1),
        working_days=working_calendar(COMP, TZ),
    )
    assert found is not None
    assert [c.key for c in listed] == [found.key] == [("prohibited_disconnection", "d1")]


def test_breach_compensation_needs_a_disconnection() -> None:
    outage = ServiceEvent("o1", "outage", local(2026, 1, 4, 13), None, {})
    with pytest.raises(ValueError, match="not a disconnection"):
        breach(outage)
