"""Tests for tasdeed.rules.kuwait with the figures of shared/RULES.md, written by hand.

Transaction block: debt over 500 KD (500.000 is not, 500.001 is), or 3 installments missed in
a row. Ahsemha: the six conditions and three exclusions, incentive 1 (s < 20 → 2·s, else 40),
incentive 3 (w < 25 → 2·w, else 50), incentive 2 as interpreted in tasdeed.rules (3 × the PV
capacity from 1 % to 10 %, at most 30 %, when the saving is at least the capacity), caps 70 %
and 50 %.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.rules.kuwait import (
    AhsemhaFacts,
    ahsemha_discount,
    ahsemha_eligibility,
    installment_schedule,
    missed_installments,
    transaction_block,
)
from tasdeed.rules.settings import AhsemhaSettings, TransactionBlockSettings, rule_settings
from tasdeed.text import DigitString, Text

KW = load_profile("kw")
RULES = rule_settings(KW)
assert RULES.transaction_block is not None
assert RULES.ahsemha is not None
BLOCK: TransactionBlockSettings = RULES.transaction_block
AHSEMHA: AhsemhaSettings = RULES.ahsemha


def kd(minor: int) -> Money:
    return Money(minor, "KWD")


def keys(reasons: tuple[Text, ...]) -> list[str]:
    return [r.key for r in reasons]


def assert_renders(reasons: tuple[Text, ...]) -> None:
    """Every reason exists in both catalogues, fills all its placeholders, and each Arabic
    line fits a USSD screen line."""
    for language in ("ar", "en"):
        renderer = TextRenderer(KW, language)
        for reason in reasons:
            shown = renderer.text(reason)
            assert "{" not in shown, shown
            if language == "ar":
                for line in shown.split("\n"):
                    assert len(line) <= 75, f"{len(line)}: {line!r}"


# --- settings --------------------------------------------------------------------------------


def test_kuwait_profile_settings() -> None:
    assert BLOCK.currency == "KWD"
    assert BLOCK.debt_over_minor == 500_000  # 500.000 KD
    assert BLOCK.consecutive_missed_installments == 3
    assert (AHSEMHA.reading_max_age_days, AHSEMHA.min_metered_months) == (7, 12)
    assert (
        AHSEMHA.exclusion_consecutive_unpaid_months,
        AHSEMHA.exclusion_total_unpaid_months,
        AHSEMHA.exclusion_sale_within_months,
    ) == (2, 3, 12)
    assert (AHSEMHA.cap_electricity_pct, AHSEMHA.cap_water_pct) == (Decimal(70), Decimal(50))
    assert AHSEMHA.pv_discount_per_capacity_pct == 3
    assert RULES.compensation is None
    assert RULES.prepaid_conversion is None


# --- transaction block -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("debt_minor", "missed", "blocked", "reason_keys"),
    [
        (0, 0, False, ["rules.kw.block.clear"]),
        (500_000, 0, False, ["rules.kw.block.clear"]),  # exactly 500.000 KD
        (500_001, 0, True, ["rules.kw.block.debt"]),  # 500.001 KD
        (0, 2, False, ["rules.kw.block.clear"]),
        (0, 3, True, ["rules.kw.block.missed"]),
        (500_000, 4, True, ["rules.kw.block.missed"]),
        (500_001, 3, True, ["rules.kw.block.debt", "rules.kw.block.missed"]),
        (-5_000, 0, False, ["rules.kw.block.clear"]),  # a credit balance
    ],
)
def test_transaction_block(
    debt_minor: int, missed: int, blocked: bool, reason_keys: list[str]
) -> None:
    decision = transaction_block(kd(debt_minor), missed, BLOCK)
    assert decision.outcome is blocked
    assert keys(decision.reasons) == reason_keys
    assert_renders(decision.reasons)


def test_transaction_block_reasons_name_the_figures() -> None:
    blocked = transaction_block(kd(500_001), 3, BLOCK)
    assert blocked.reasons == (
        Text("rules.kw.block.debt", {"amount": kd(500_001), "due": kd(500_000)}),
        Text("rules.kw.block.missed", {"count": 3, "max": 3}),
    )
    clear = transaction_block(kd(500_000), 2, BLOCK)
    assert clear.reasons == (
        Text(
            "rules.kw.block.clear",
            {"amount": kd(500_000), "due": kd(500_000), "count": 2, "max": 3},
        ),
    )


def test_transaction_block_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="SAR"):
        transaction_block(Money(600_000, "SAR"), 0, BLOCK)
    with pytest.raises(ValueError, match="negative"):
        transaction_block(kd(0), -1, BLOCK)


def test_the_threshold_is_a_setting() -> None:
    stricter = BLOCK.model_copy(update={"debt_over_minor": 100_000})
    assert transaction_block(kd(100_001), 0, stricter).outcome is True
    assert transaction_block(kd(100_001), 0, BLOCK).outcome is False


# --- installments ----------------------------------------------------------------------------


def test_schedule_puts_the_remainder_on_the_first_installment() -> None:
    # 1000.001 KD over 3 months: 333.333 each and the 2 fils left over on the first.
    schedule = installment_schedule(kd(1_000_001), 3, date(2026, 1, 31))
    assert schedule == [
        (date(2026, 1, 31), kd(333_335)),
        (date(2026, 2, 28), kd(333_333)),  # February is shorter
        (date(2026, 3, 31), kd(333_333)),  # back to the 31st
    ]


def test_schedule_across_a_year_end() -> None:
    schedule = installment_schedule(kd(240_000), 3, date(2026, 11, 15))
    assert schedule == [
        (date(2026, 11, 15), kd(80_000)),
        (date(2026, 12, 15), kd(80_000)),
        (date(2027, 1, 15), kd(80_000)),
    ]


def test_schedule_refuses_impossible_plans() -> None:
    with pytest.raises(ValueError, match="at least one month"):
        installment_schedule(kd(1_000), 0, date(2026, 1, 1))
    with pytest.raises(ValueError, match="non-zero"):
        installment_schedule(kd(2), 3, date(2026, 1, 1))


@given(
    st.integers(1, 10**12),
    st.integers(1, 120),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2040, 12, 31)),
    st.sampled_from(["KWD", "SAR", "EGP"]),
)
def test_schedule_always_sums_to_the_total(
    total_minor: int, months: int, first_due: date, currency: str
) -> None:
    if total_minor < months:
        with pytest.raises(ValueError):
            installment_schedule(Money(total_minor, currency), months, first_due)
        return
    schedule = installment_schedule(Money(total_minor, currency), months, first_due)
    assert len(schedule) == months
    assert sum(amount.minor for _, amount in schedule) == total_minor
    assert {amount.currency for _, amount in schedule} == {currency}
    amounts = [amount.minor for _, amount in schedule]
    assert all(a == amounts[-1] for a in amounts[1:])
    assert 0 <= amounts[0] - amounts[-1] < months
    assert schedule[0][0] == first_due
    dues = [due for due, _ in schedule]
    assert dues == sorted(set(dues))


SIX = installment_schedule(kd(600_000), 6, date(2026, 1, 15))  # 100.000 KD a month


@pytest.mark.parametrize(
    ("payments", "as_of", "expected"),
    [
        ({}, date(2026, 1, 31), 0),  # January is not over yet
        ({}, date(2026, 2, 1), 1),
        ({"2026-01": kd(100_000)}, date(2026, 4, 1), 2),  # February and March missed
        ({"2026-01": kd(100_000)}, date(2026, 3, 31), 1),  # March not over yet
        ({"2026-01": kd(100_000)}, date(2026, 5, 1), 3),
        # paying only April's installment in April does not catch up February and March
        ({"2026-01": kd(100_000), "2026-04": kd(100_000)}, date(2026, 5, 1), 3),
        # paying all three in April does
        ({"2026-01": kd(100_000), "2026-04": kd(300_000)}, date(2026, 5, 1), 0),
        # a partial installment is a missed installment
        ({"2026-01": kd(99_999)}, date(2026, 2, 1), 1),
        # paid ahead in January: nothing missed through March
        ({"2026-01": kd(300_000)}, date(2026, 4, 1), 0),
        # all six months over, nothing paid: six in a row
        ({}, date(2026, 12, 1), 6),
    ],
)
def test_missed_installments(payments: dict[str, Money], as_of: date, expected: int) -> None:
    assert missed_installments(SIX, payments, as_of=as_of) == expected


def test_two_missed_installments_do_not_block_and_three_do() -> None:
    paid_january = {"2026-01": kd(100_000)}
    two = missed_installments(SIX, paid_january, as_of=date(2026, 4, 1))
    three = missed_installments(SIX, paid_january, as_of=date(2026, 5, 1))
    assert (two, three) == (2, 3)
    assert transaction_block(kd(300_000), two, BLOCK).outcome is False
    assert transaction_block(kd(300_000), three, BLOCK).outcome is True


def test_missed_installments_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="2026-10"):
        missed_installments(SIX, {"2026-1": kd(100_000)}, as_of=date(2026, 3, 1))
    with pytest.raises(ValueError, match="currencies"):
        missed_installments(SIX, {"2026-01": Money(100_00, "SAR")}, as_of=date(2026, 3, 1))


# --- Ahsemha eligibility ---------------------------------------------------------------------


GOOD = AhsemhaFacts(
    citizen=True,
    private_housing=True,
    metered_months=13,
    days_between_last_reading_and_registration=7,
    readings_entered_monthly=True,
    dues_paid=True,
    has_violation=False,
    consecutive_unpaid_months=1,
    total_unpaid_months=2,
    months_since_registration_at_sale=12,
)


def test_eligible_at_every_boundary() -> None:
    decision = ahsemha_eligibility(GOOD, AHSEMHA)
    assert decision.outcome is True
    assert decision.reasons == (Text("rules.kw.ahsemha.eligible"),)
    assert ahsemha_eligibility(
        dataclasses.replace(GOOD, months_since_registration_at_sale=None), AHSEMHA
    ).outcome


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"citizen": False}, Text("rules.kw.ahsemha.not_citizen")),
        ({"private_housing": False}, Text("rules.kw.ahsemha.not_private_housing")),
        (
            {"metered_months": 12},
            Text("rules.kw.ahsemha.metered_too_recent", {"count": 12, "min": 12}),
        ),
        (
            {"days_between_last_reading_and_registration": 8},
            Text("rules.kw.ahsemha.reading_too_old", {"count": 8, "max": 7}),
        ),
        ({"readings_entered_monthly": False}, Text("rules.kw.ahsemha.readings_not_monthly")),
        ({"dues_paid": False}, Text("rules.kw.ahsemha.dues_unpaid")),
        ({"has_violation": True}, Text("rules.kw.ahsemha.violation")),
        (
            {"consecutive_unpaid_months": 2},
            Text("rules.kw.ahsemha.consecutive_unpaid", {"count": 2, "max": 2}),
        ),
        (
            {"total_unpaid_months": 3},
            Text("rules.kw.ahsemha.total_unpaid", {"count": 3, "max": 3}),
        ),
        (
            {"months_since_registration_at_sale": 11},
            Text("rules.kw.ahsemha.sold_early", {"count": 11, "min": 12}),
        ),
    ],
)
def test_each_condition_failing_alone(change: dict[str, object], reason: Text) -> None:
    facts = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]
    decision = ahsemha_eligibility(facts, AHSEMHA)
    assert decision.outcome is False
    assert decision.reasons == (reason,)
    assert_renders(decision.reasons)


def test_every_failed_condition_is_listed() -> None:
    worst = AhsemhaFacts(
        citizen=False,
        private_housing=False,
        metered_months=0,
        days_between_last_reading_and_registration=30,
        readings_entered_monthly=False,
        dues_paid=False,
        has_violation=True,
        consecutive_unpaid_months=5,
        total_unpaid_months=9,
        months_since_registration_at_sale=0,
    )
    decision = ahsemha_eligibility(worst, AHSEMHA)
    assert decision.outcome is False
    assert keys(decision.reasons) == [
        "rules.kw.ahsemha.not_citizen",
        "rules.kw.ahsemha.not_private_housing",
        "rules.kw.ahsemha.metered_too_recent",
        "rules.kw.ahsemha.reading_too_old",
        "rules.kw.ahsemha.readings_not_monthly",
        "rules.kw.ahsemha.dues_unpaid",
        "rules.kw.ahsemha.violation",
        "rules.kw.ahsemha.consecutive_unpaid",
        "rules.kw.ahsemha.total_unpaid",
        "rules.kw.ahsemha.sold_early",
    ]


def test_impossible_facts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        dataclasses.replace(GOOD, metered_months=-1)
    with pytest.raises(ValueError, match="negative"):
        dataclasses.replace(GOOD, months_since_registration_at_sale=-1)
    with pytest.raises(ValueError, match="consecutive"):
        dataclasses.replace(GOOD, consecutive_unpaid_months=3, total_unpaid_months=2)


# --- Ahsemha discounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("electricity", "water", "pv", "expected_electricity", "expected_water"),
    [
        # incentive 1 alone: 2·s below 20 %, 40 % from 20 %
        ("0", "0", None, "0", "0"),
        ("10", "0", None, "20", "0"),
        ("19.9", "0", None, "39.8", "0"),
        ("20", "0", None, "40", "0"),
        ("55", "0", None, "40", "0"),
        # incentive 3 alone: 2·w below 25 %, 50 % from 25 %
        ("0", "12.5", None, "0", "25"),
        ("0", "24.9", None, "0", "49.8"),
        ("0", "25", None, "0", "50"),
        ("0", "100", None, "0", "50"),
        # incentive 2: 3 × capacity when 1 ≤ capacity ≤ 10 and saving ≥ capacity
        ("10", "0", "1", "23", "0"),  # 20 + 3
        ("5", "0", "5", "25", "0"),  # 10 + 15: saving equal to the capacity
        ("4.9", "0", "5", "9.8", "0"),  # saving below the capacity: no incentive 2
        ("10", "0", "10", "50", "0"),  # 20 + 30
        ("20", "30", "10", "70", "50"),  # 40 + 30 = the 70 % cap exactly
        ("15", "0", "0.9", "30", "0"),  # capacity below 1 %: no incentive 2
        ("15", "0", "10.1", "30", "0"),  # capacity above 10 %: no incentive 2
        ("15", "0", "0", "30", "0"),
        ("12", "10", "2.5", "31.5", "20"),  # 24 + 7.5
    ],
)
def test_ahsemha_discount(
    electricity: str, water: str, pv: str | None, expected_electricity: str, expected_water: str
) -> None:
    result = ahsemha_discount(
        Decimal(electricity), Decimal(water), None if pv is None else Decimal(pv), AHSEMHA
    )
    assert result.electricity_pct == Decimal(expected_electricity)
    assert result.water_pct == Decimal(expected_water)
    assert_renders(result.reasons)


def decimal(whole: int, fraction: str) -> Text:
    return Text("rules.decimal", {"count": whole, "ticket": DigitString(fraction)})


def test_discount_reasons_name_rule_and_figures() -> None:
    below = ahsemha_discount(Decimal("19.9"), Decimal("24.9"), None, AHSEMHA)
    assert below.reasons == (
        Text(
            "rules.kw.ahsemha.incentive1_partial",
            {"count": decimal(19, "9"), "min": 20, "length": 2, "max": decimal(39, "8")},
        ),
        Text(
            "rules.kw.ahsemha.incentive3_partial",
            {"count": decimal(24, "9"), "min": 25, "length": 2, "max": decimal(49, "8")},
        ),
        Text("rules.kw.ahsemha.total", {"count": decimal(39, "8"), "max": decimal(49, "8")}),
    )
    full = ahsemha_discount(Decimal(20), Decimal(25), Decimal(10), AHSEMHA)
    assert full.reasons == (
        Text("rules.kw.ahsemha.incentive1_full", {"count": 20, "min": 20, "max": 40}),
        Text(
            "rules.kw.ahsemha.incentive2_granted",
            {"count": 20, "min": 10, "length": 3, "max": 30},
        ),
        Text("rules.kw.ahsemha.incentive3_full", {"count": 25, "min": 25, "max": 50}),
        Text("rules.kw.ahsemha.total", {"count": 70, "max": 50}),
    )
    out_of_range = ahsemha_discount(Decimal(15), Decimal(0), Decimal(11), AHSEMHA)
    assert out_of_range.reasons[1] == Text(
        "rules.kw.ahsemha.incentive2_capacity_range", {"count": 11, "min": 1, "max": 10}
    )
    below_capacity = ahsemha_discount(Decimal(4), Decimal(0), Decimal(5), AHSEMHA)
    assert below_capacity.reasons[1] == Text(
        "rules.kw.ahsemha.incentive2_saving_below", {"count": 4, "min": 5}
    )


def test_fractions_follow_the_profile_digits() -> None:
    # Kuwait shows Arabic-Indic digits with the Arabic decimal separator; a leading zero in
    # the fraction is kept (10.05 % saving → 20.1 % discount).
    result = ahsemha_discount(Decimal("10.05"), Decimal(0), None, AHSEMHA)
    assert result.electricity_pct == Decimal("20.10")
    arabic = TextRenderer(KW, "ar").text(result.reasons[0])
    assert arabic == "الحافز الأول: ترشيد الكهرباء ١٠٫٠٥٪، أقل من ٢٠٪.\nالخصم ٢ × الترشيد = ٢٠٫١٪."
    english = TextRenderer(KW, "en").text(result.reasons[0])
    assert (
        english
        == "Incentive 1: electricity saving 10.05%, under 20%.\nDiscount 2 × saving = 20.1%."
    )


def test_caps_apply_when_the_incentives_add_up_past_them() -> None:
    # With 5 % per PV percent, 10 % of capacity earns 50 %, held to incentive 2's 30 %.
    generous = AHSEMHA.model_copy(update={"pv_discount_per_capacity_pct": Decimal(5)})
    result = ahsemha_discount(Decimal(20), Decimal(0), Decimal(10), generous)
    assert result.electricity_pct == Decimal(70)
    assert "rules.kw.ahsemha.incentive2_capped" in keys(result.reasons)
    # A lower combined cap: 40 + 30 = 70 held to 60.
    tight = AHSEMHA.model_copy(
        update={"cap_electricity_pct": Decimal(60), "cap_water_pct": Decimal(40)}
    )
    result = ahsemha_discount(Decimal(20), Decimal(30), Decimal(10), tight)
    assert (result.electricity_pct, result.water_pct) == (Decimal(60), Decimal(40))
    assert Text("rules.kw.ahsemha.electricity_capped", {"count": 70, "max": 60}) in result.reasons
    assert Text("rules.kw.ahsemha.water_capped", {"count": 50, "max": 40}) in result.reasons
    assert_renders(result.reasons)


@pytest.mark.parametrize(
    ("electricity", "water", "pv"),
    [
        ("-0.1", "0", None),
        ("100.1", "0", None),
        ("0", "-1", None),
        ("0", "101", None),
        ("10", "10", "-1"),
        ("10", "10", "100.5"),
        ("NaN", "0", None),
    ],
)
def test_savings_outside_0_to_100_are_refused(electricity: str, water: str, pv: str | None) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        ahsemha_discount(
            Decimal(electricity), Decimal(water), None if pv is None else Decimal(pv), AHSEMHA
        )


PCT = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
FIGURE = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)
SLOPE = st.decimals(min_value=0, max_value=10, places=1, allow_nan=False, allow_infinity=False)


@given(PCT, PCT, st.none() | PCT)
def test_profile_discounts_stay_within_the_caps(
    electricity: Decimal, water: Decimal, pv: Decimal | None
) -> None:
    result = ahsemha_discount(electricity, water, pv, AHSEMHA)
    assert Decimal(0) <= result.electricity_pct <= Decimal(70)
    assert Decimal(0) <= result.water_pct <= Decimal(50)


@given(PCT, PCT, st.none() | PCT, SLOPE, SLOPE, SLOPE, FIGURE, FIGURE, FIGURE, FIGURE)
def test_any_settings_keep_discounts_within_their_caps(
    electricity: Decimal,
    water: Decimal,
    pv: Decimal | None,
    electricity_slope: Decimal,
    water_slope: Decimal,
    pv_slope: Decimal,
    full_discount: Decimal,
    pv_max: Decimal,
    cap_electricity: Decimal,
    cap_water: Decimal,
) -> None:
    settings = AHSEMHA.model_copy(
        update={
            "electricity_saving_slope": electricity_slope,
            "water_saving_slope": water_slope,
            "pv_discount_per_capacity_pct": pv_slope,
            "electricity_saving_full_discount_pct": full_discount,
            "water_saving_full_discount_pct": full_discount,
            "pv_max_discount_pct": pv_max,
            "cap_electricity_pct": cap_electricity,
            "cap_water_pct": cap_water,
        }
    )
    result = ahsemha_discount(electricity, water, pv, settings)
    assert Decimal(0) <= result.electricity_pct <= cap_electricity
    assert Decimal(0) <= result.water_pct <= cap_water
