"""Tests for tasdeed.rules.saudi: the eight guaranteed standards of shared/RULES.md.

Amounts in SAR written by hand from the table: reconnection 100, connection 400, outage count
400, restoration 200, consumer registration 100, billing complaint 100, planned-outage notice
100, prohibited disconnection 500. Times are in Riyadh (UTC+3); the weekend is Friday and
Saturday; 2026-03-01 is a Sunday, 2026-01-01 a Thursday.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.rules.saudi import (
    Compensation,
    ServiceEvent,
    compensations,
    working_calendar,
)
from tasdeed.rules.settings import CompensationSettings, rule_settings
from tasdeed.text import Text

SA = load_profile("sa")
RULES = rule_settings(SA)
assert RULES.compensation is not None
COMP: CompensationSettings = RULES.compensation
CAL = working_calendar(COMP, "Asia/Riyadh")
RIYADH = ZoneInfo("Asia/Riyadh")
END_OF_2027 = datetime(2027, 12, 31, 23, 0, tzinfo=RIYADH)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIYADH)


def sar(major: int) -> Money:
    return Money(major * 100, "SAR")


def event(
    event_id: str,
    kind: str,
    started_at: datetime,
    ended_at: datetime | None,
    **details: str | bool | int,
) -> ServiceEvent:
    return ServiceEvent(event_id, kind, started_at, ended_at, details)  # type: ignore[arg-type]


def run(events: list[ServiceEvent], now: datetime = END_OF_2027) -> list[Compensation]:
    return compensations(events, COMP, now=now, working_days=CAL)


def summary(found: list[Compensation]) -> list[tuple[str, Money, tuple[str, ...]]]:
    return [(c.standard, c.amount, c.event_ids) for c in found]


def assert_renders(found: list[Compensation]) -> None:
    for language in ("ar", "en"):
        renderer = TextRenderer(SA, language)
        for c in found:
            for reason in c.reasons:
                shown = renderer.text(reason)
                assert "{" not in shown, shown
                if language == "ar":
                    for line in shown.split("\n"):
                        assert len(line) <= 75, f"{len(line)}: {line!r}"


# --- settings --------------------------------------------------------------------------------


def test_saudi_profile_settings() -> None:
    assert COMP.currency == "SAR"
    assert COMP.weekend_days == (4, 5)
    assert RULES.ebill is not None
    assert RULES.ebill.issue_day_of_month == 28
    assert RULES.transaction_block is None
    assert RULES.ahsemha is None


def test_an_unknown_rules_section_is_an_error() -> None:
    broken = SA.model_copy(update={"rules": {**SA.rules, "compensaton": {}}})
    with pytest.raises(ValueError, match="compensaton"):
        rule_settings(broken)


def test_currency_comes_from_the_profile() -> None:
    broken = SA.model_copy(
        update={
            "rules": {**SA.rules, "compensation": {**SA.rules["compensation"], "currency": "EGP"}}
        }
    )
    with pytest.raises(ValueError, match="currency"):
        rule_settings(broken)


# --- each standard at its boundary -----------------------------------------------------------

Case = tuple[list[ServiceEvent], list[tuple[str, Money, tuple[str, ...]]]]

CASES: dict[str, Case] = {
    "reconnection at exactly 2 h": (
        [event("r1", "reconnection", at(2026, 3, 1, 9), at(2026, 3, 1, 11))],
        [],
    ),
    "reconnection at 2 h 1 min": (
        [event("r1", "reconnection", at(2026, 3, 1, 9), at(2026, 3, 1, 11, 1))],
        [("reconnection_after_payment", sar(100), ("r1",))],
    ),
    "low-voltage connection in 20 working days": (
        [event("c1", "connection", at(2026, 3, 1, 10), at(2026, 3, 29, 15), voltage="low")],
        [],
    ),
    "low-voltage connection in 21 working days": (
        [event("c1", "connection", at(2026, 3, 1, 10), at(2026, 3, 30, 8), voltage="low")],
        [("connection_after_payment", sar(400), ("c1",))],
    ),
    "medium-voltage connection in 60 working days": (
        [event("c2", "connection", at(2026, 3, 1, 10), at(2026, 5, 24, 15), voltage="medium")],
        [],
    ),
    "medium-voltage connection in 61 working days": (
        [event("c2", "connection", at(2026, 3, 1, 10), at(2026, 5, 25, 8), voltage="medium")],
        [("connection_after_payment", sar(400), ("c2",))],
    ),
    "outage of exactly 6 h": (
        [event("o1", "outage", at(2026, 4, 5, 10), at(2026, 4, 5, 16))],
        [],
    ),
    "outage of 6 h 1 min": (
        [event("o1", "outage", at(2026, 4, 5, 10), at(2026, 4, 5, 16, 1))],
        [("outage_restoration", sar(200), ("o1",))],
    ),
    "second outage of 2 h in a year": (
        [
            event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
            event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
        ],
        [],
    ),
    "third outage of 2 h in a year": (
        [
            event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
            event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
            event("o3", "outage", at(2026, 11, 1, 10), at(2026, 11, 1, 12)),
        ],
        [("outage_count", sar(400), ("o1", "o2", "o3"))],
    ),
    "third outage only 1 h 59 min": (
        [
            event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
            event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
            event("o3", "outage", at(2026, 11, 1, 10), at(2026, 11, 1, 11, 59)),
        ],
        [],
    ),
    "three outages over two calendar years": (
        [
            event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
            event("o2", "outage", at(2026, 12, 31, 20), at(2026, 12, 31, 22)),
            # 22:00 UTC on 31 December is 01:00 on 1 January 2027 in Riyadh
            event(
                "o3",
                "outage",
                datetime(2026, 12, 31, 22, 0, tzinfo=UTC),
                datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
            ),
        ],
        [],
    ),
    "consumer registration in 3 working days": (
        [event("g1", "consumer_registration", at(2026, 3, 1), at(2026, 3, 4, 16))],
        [],
    ),
    "consumer registration in 4 working days": (
        [event("g1", "consumer_registration", at(2026, 3, 1), at(2026, 3, 5, 8))],
        [("register_actual_consumer", sar(100), ("g1",))],
    ),
    "billing complaint in 10 working days": (
        [event("b1", "billing_complaint", at(2026, 3, 1), at(2026, 3, 15, 16))],
        [],
    ),
    "billing complaint in 11 working days": (
        [event("b1", "billing_complaint", at(2026, 3, 1), at(2026, 3, 16, 8))],
        [("billing_complaint", sar(100), ("b1",))],
    ),
    "billing complaint filed Thursday, handled Sunday": (
        [event("b1", "billing_complaint", at(2026, 1, 1, 13), at(2026, 1, 4, 9))],
        [],
    ),
    "planned outage with 47 h notice": (
        [
            event(
                "p1", "outage", at(2026, 5, 3, 9), at(2026, 5, 3, 10), planned=True, notice_hours=47
            )
        ],
        [("planned_outage_notice", sar(100), ("p1",))],
    ),
    "planned outage with 48 h notice": (
        [
            event(
                "p1", "outage", at(2026, 5, 3, 9), at(2026, 5, 3, 10), planned=True, notice_hours=48
            )
        ],
        [],
    ),
    "unplanned outage, no notice owed": (
        [event("p1", "outage", at(2026, 5, 3, 9), at(2026, 5, 3, 10), planned=False)],
        [],
    ),
    "notice given 47 h 59 min before": (
        [event("n1", "planned_outage_notice", at(2026, 5, 1, 9), at(2026, 5, 3, 8, 59))],
        [("planned_outage_notice", sar(100), ("n1",))],
    ),
    "notice given 48 h before": (
        [event("n1", "planned_outage_notice", at(2026, 5, 1, 9), at(2026, 5, 3, 9))],
        [],
    ),
    "disconnection for non-payment in a prohibited time": (
        [
            event(
                "d1",
                "disconnection",
                at(2026, 5, 3, 13),
                None,
                for_non_payment=True,
                prohibited=True,
            )
        ],
        [("prohibited_disconnection", sar(500), ("d1",))],
    ),
    "disconnection for non-payment, allowed": (
        [
            event(
                "d1",
                "disconnection",
                at(2026, 5, 3, 10),
                None,
                for_non_payment=True,
                prohibited=False,
            )
        ],
        [],
    ),
    "prohibited time, but not for non-payment": (
        [
            event(
                "d1",
                "disconnection",
                at(2026, 5, 3, 13),
                None,
                for_non_payment=False,
                prohibited=True,
            )
        ],
        [],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_standard_boundaries(name: str) -> None:
    events, expected = CASES[name]
    found = run(events)
    assert summary(found) == expected
    assert_renders(found)


def test_a_long_third_outage_pays_both_outage_standards() -> None:
    found = run(
        [
            event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
            event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
            event("o3", "outage", at(2026, 11, 1, 10), at(2026, 11, 1, 16, 30)),
        ]
    )
    assert summary(found) == [
        ("outage_count", sar(400), ("o1", "o2", "o3")),
        ("outage_restoration", sar(200), ("o3",)),
    ]


def test_outage_count_pays_once_a_year_and_names_the_outages() -> None:
    outages = [
        event(f"o{i}", "outage", at(2026, i, 10, 8), at(2026, i, 10, 10, 30)) for i in range(1, 6)
    ]
    found = run(outages)
    assert summary(found) == [("outage_count", sar(400), ("o1", "o2", "o3"))]
    two_and_a_half = Text("duration.hours_minutes", {"hours": 2, "minutes": 30})
    assert found[0].reasons == (
        Text("rules.sa.outage_count", {"count": 3, "min": 2, "max": 2, "amount": sar(400)}),
        # Named by local date and time (event ids are internal), lasting hours and minutes.
        Text(
            "rules.sa.outage_item",
            {"date": "2026-01-10", "time": "08:00", "count": two_and_a_half},
        ),
        Text(
            "rules.sa.outage_item",
            {"date": "2026-02-10", "time": "08:00", "count": two_and_a_half},
        ),
        Text(
            "rules.sa.outage_item",
            {"date": "2026-03-10", "time": "08:00", "count": two_and_a_half},
        ),
    )
    # a second year with three more outages pays again, for that year
    next_year = [
        event(f"p{i}", "outage", at(2027, i, 10, 8), at(2027, i, 10, 10)) for i in range(1, 4)
    ]
    assert summary(run(outages + next_year)) == [
        ("outage_count", sar(400), ("o1", "o2", "o3")),
        ("outage_count", sar(400), ("p1", "p2", "p3")),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 3, 1, 11), []),  # exactly 2 h after payment, still open
        (at(2026, 3, 1, 11, 1), [("reconnection_after_payment", sar(100), ("r1",))]),
    ],
)
def test_an_open_reconnection_counts_once_its_deadline_passed(
    now: datetime, expected: list[tuple[str, Money, tuple[str, ...]]]
) -> None:
    assert summary(run([event("r1", "reconnection", at(2026, 3, 1, 9), None)], now)) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 5, 24, 23), []),
        (at(2026, 5, 25, 0, 1), [("connection_after_payment", sar(400), ("c2",))]),
    ],
)
def test_an_open_connection_counts_once_its_deadline_passed(
    now: datetime, expected: list[tuple[str, Money, tuple[str, ...]]]
) -> None:
    open_connection = event("c2", "connection", at(2026, 3, 1, 10), None, voltage="medium")
    assert summary(run([open_connection], now)) == expected


def test_open_outages_count_at_now() -> None:
    first = event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12))
    second = event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12))
    ongoing = event("o3", "outage", at(2026, 11, 1, 10), None)
    assert summary(run([first, second, ongoing], at(2026, 11, 1, 11, 59))) == []
    assert summary(run([first, second, ongoing], at(2026, 11, 1, 12))) == [
        ("outage_count", sar(400), ("o1", "o2", "o3"))
    ]
    assert summary(run([first, second, ongoing], at(2026, 11, 1, 16, 1))) == [
        ("outage_count", sar(400), ("o1", "o2", "o3")),
        ("outage_restoration", sar(200), ("o3",)),
    ]


def test_a_notice_record_decides_for_the_outage_it_names() -> None:
    outage = event(
        "o1", "outage", at(2026, 5, 3, 9), at(2026, 5, 3, 10), planned=True, notice_hours=10
    )
    long_notice = event(
        "n1", "planned_outage_notice", at(2026, 5, 1, 9), at(2026, 5, 3, 9), outage_id="o1"
    )
    short_notice = event(
        "n2", "planned_outage_notice", at(2026, 5, 2, 9), at(2026, 5, 3, 9), outage_id="o1"
    )
    assert summary(run([outage])) == [("planned_outage_notice", sar(100), ("o1",))]
    assert summary(run([outage, long_notice])) == []
    # keyed on the outage either way: the outage record and the notice never pay twice
    with_notice = run([outage, short_notice])
    assert [c.key for c in with_notice] == [("planned_outage_notice", "o1")]
    assert with_notice[0].reasons == (
        Text("rules.sa.planned_outage_notice", {"count": 24, "max": 2, "amount": sar(100)}),
    )


def test_reasons_name_the_figures() -> None:
    [late] = run([event("r1", "reconnection", at(2026, 3, 1, 9), at(2026, 3, 1, 11, 1))])
    assert late.reasons == (
        Text(
            "rules.sa.reconnection",
            {
                "count": Text("duration.hours_minutes", {"hours": 2, "minutes": 1}),
                "max": 2,
                "amount": sar(100),
            },
        ),
    )
    [slow] = run([event("c1", "connection", at(2026, 3, 1, 10), at(2026, 3, 30), voltage="low")])
    assert slow.reasons == (
        Text("rules.sa.connection_low", {"count": 21, "max": 20, "amount": sar(400)}),
    )
    [long] = run([event("o9", "outage", at(2026, 4, 5, 10), at(2026, 4, 5, 16, 1))])
    assert long.reasons == (
        Text(
            "rules.sa.outage_restoration",
            {
                "date": "2026-04-05",
                "time": "10:00",
                "count": Text("duration.hours_minutes", {"hours": 6, "minutes": 1}),
                "max": 6,
                "amount": sar(200),
            },
        ),
    )


def test_holidays_are_not_working_days() -> None:
    # Sunday 15 March a holiday: the 10th working day moves to Monday 16 March.
    with_holiday = working_calendar(COMP, "Asia/Riyadh", [datetime(2026, 3, 15).date()])
    complaint = event("b1", "billing_complaint", at(2026, 3, 1), at(2026, 3, 16, 8))
    assert summary(run([complaint])) == [("billing_complaint", sar(100), ("b1",))]
    assert compensations([complaint], COMP, now=END_OF_2027, working_days=with_holiday) == []


# --- the same breach is never credited twice -------------------------------------------------


THREE_OUTAGES = [
    event("o1", "outage", at(2026, 2, 1, 10), at(2026, 2, 1, 12)),
    event("o2", "outage", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
    event("o3", "outage", at(2026, 11, 1, 10), at(2026, 11, 1, 17)),
]


def test_keys() -> None:
    found = run(list(reversed(THREE_OUTAGES)))
    assert [c.key for c in found] == [
        ("outage_count", "o1", "o2", "o3"),
        ("outage_restoration", "o3"),
    ]


def test_repeated_events_do_not_pay_twice() -> None:
    once = run(THREE_OUTAGES)
    assert run(THREE_OUTAGES + THREE_OUTAGES) == once
    assert run(THREE_OUTAGES) == once


def test_two_notices_for_one_outage_pay_once() -> None:
    first = event(
        "n1", "planned_outage_notice", at(2026, 5, 2, 9), at(2026, 5, 3, 9), outage_id="o1"
    )
    second = event(
        "n2", "planned_outage_notice", at(2026, 5, 2, 20), at(2026, 5, 3, 9), outage_id="o1"
    )
    assert summary(run([first, second])) == [("planned_outage_notice", sar(100), ("o1",))]


def test_two_different_events_with_one_id_are_refused() -> None:
    clash = event("o1", "outage", at(2026, 3, 1, 10), at(2026, 3, 1, 12))
    with pytest.raises(ValueError, match="o1"):
        run([*THREE_OUTAGES, clash])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: event("x", "outage", datetime(2026, 1, 1, 9), None), "timezone-aware"),
        (lambda: event("x", "outage", at(2026, 1, 1, 9), at(2026, 1, 1, 8)), "before it starts"),
        (lambda: event("", "outage", at(2026, 1, 1, 9), None), "id"),
    ],
)
def test_malformed_events_are_refused(make: Callable[[], ServiceEvent], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (event("c", "connection", at(2026, 1, 1), None), "voltage"),
        (event("c", "connection", at(2026, 1, 1), None, voltage="high"), "voltage"),
        (event("p", "outage", at(2026, 1, 1), None, planned=True), "notice_hours"),
        (event("p", "outage", at(2026, 1, 1), None, planned="yes"), "planned"),
    ],
)
def test_malformed_details_are_refused(bad: ServiceEvent, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run([bad])


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compensations(THREE_OUTAGES, COMP, now=datetime(2027, 1, 1), working_days=CAL)


# --- properties ------------------------------------------------------------------------------

KINDS = ["reconnection", "connection", "outage", "consumer_registration", "billing_complaint"]
START = datetime(2026, 1, 1, tzinfo=RIYADH)


@st.composite
def histories(draw: st.DrawFn) -> list[ServiceEvent]:
    """Events with unique ids, in order of their start."""
    count = draw(st.integers(0, 12))
    offsets = sorted(draw(st.lists(st.integers(0, 700 * 24 * 60), min_size=count, max_size=count)))
    events = []
    for i, offset in enumerate(offsets):
        kind = draw(st.sampled_from([*KINDS, "disconnection"]))
        started = START + timedelta(minutes=offset)
        lasted = draw(st.none() | st.integers(0, 90 * 24 * 60))
        ended = None if lasted is None else started + timedelta(minutes=lasted)
        details: Mapping[str, str | bool | int] = {}
        if kind == "connection":
            details = {"voltage": draw(st.sampled_from(["low", "medium"]))}
        elif kind == "outage":
            planned = draw(st.booleans())
            details = {"planned": planned, "notice_hours": draw(st.integers(0, 96))}
        elif kind == "disconnection":
            details = {"for_non_payment": draw(st.booleans()), "prohibited": draw(st.booleans())}
        events.append(ServiceEvent(f"e{i}", kind, started, ended, details))  # type: ignore[arg-type]
    return events


NOW = datetime(2028, 1, 1, tzinfo=RIYADH)


@given(histories())
def test_no_key_twice_and_the_same_keys_every_run(events: list[ServiceEvent]) -> None:
    first = compensations(events, COMP, now=NOW, working_days=CAL)
    keys = [c.key for c in first]
    assert len(keys) == len(set(keys))
    second = compensations(list(reversed(events)), COMP, now=NOW, working_days=CAL)
    assert [c.key for c in second] == keys
    doubled = compensations(events + events, COMP, now=NOW, working_days=CAL)
    assert [c.key for c in doubled] == keys
    for c in first:
        assert c.amount.currency == "SAR"
        assert c.amount.minor > 0
        assert c.reasons


@given(histories(), st.integers(0, 12))
def test_a_longer_history_keeps_every_earlier_credit(events: list[ServiceEvent], cut: int) -> None:
    """Credits found on the first events are found again, with the same keys, once later
    events arrive: a credit already given never reappears under a new key."""
    earlier = {c.key for c in compensations(events[:cut], COMP, now=NOW, working_days=CAL)}
    later = {c.key for c in compensations(events, COMP, now=NOW, working_days=CAL)}
    assert earlier <= later
