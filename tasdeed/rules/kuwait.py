"""Kuwait: the government-transaction block, installment schedules and the Ahsemha incentives.

Figures come from `TransactionBlockSettings` and `AhsemhaSettings` (profile kw.toml).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from tasdeed.money import Money
from tasdeed.rules.decision import Decision, percent
from tasdeed.rules.settings import AhsemhaSettings, TransactionBlockSettings
from tasdeed.text import Text

HUNDRED = Decimal(100)
TOTAL = "rules.kw.ahsemha.total"  # the year-end discounts, the last reason
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)

# --- transaction block -----------------------------------------------------------------------


def transaction_block(
    debt: Money, consecutive_missed_installments: int, s: TransactionBlockSettings
) -> Decision:
    """Outcome True = government transactions are blocked: the debt exceeds the threshold
    (equal is not blocked) or at least the set number of installments were missed in a row."""
    if debt.currency != s.currency:
        raise ValueError(f"debt in {debt.currency}, the rule is in {s.currency}")
    if consecutive_missed_installments < 0:
        raise ValueError("missed installments cannot be negative")
    threshold = Money(s.debt_over_minor, s.currency)
    reasons: list[Text] = []
    if debt.minor > threshold.minor:
        reasons.append(Text("rules.kw.block.debt", {"amount": debt, "due": threshold}))
    if consecutive_missed_installments >= s.consecutive_missed_installments:
        reasons.append(
            Text(
                "rules.kw.block.missed",
                {
                    "count": consecutive_missed_installments,
                    "max": s.consecutive_missed_installments,
                },
            )
        )
    if reasons:
        return Decision(True, tuple(reasons))
    clear = Text(
        "rules.kw.block.clear",
        {
            "amount": debt,
            "due": threshold,
            "count": consecutive_missed_installments,
            "max": s.consecutive_missed_installments,
        },
    )
    return Decision(False, (clear,))


# --- installments ----------------------------------------------------------------------------


def _add_months(first: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day when it is shorter
    (31 January → 28 February → 31 March: always counted from the first due date)."""
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(first.day, last))


def installment_schedule(total: Money, months: int, first_due: date) -> list[tuple[date, Money]]:
    """`months` monthly installments summing exactly to `total`; the remainder of the division
    in minor units (fils) is paid with the first one."""
    if months < 1:
        raise ValueError(f"an installment plan needs at least one month, got {months}")
    if total.minor < months:
        raise ValueError(f"{total.minor} minor units cannot make {months} non-zero installments")
    base, remainder = divmod(total.minor, months)
    return [
        (_add_months(first_due, i), Money(base + (remainder if i == 0 else 0), total.currency))
        for i in range(months)
    ]


def month_key(day: date) -> str:
    """The month a payment or installment belongs to, as the project writes it ("2026-10")."""
    return f"{day.year:04d}-{day.month:02d}"


def missed_installments(
    schedule: Sequence[tuple[date, Money]],
    payments_by_month: Mapping[str, Money],
    *,
    as_of: date,
) -> int:
    """How many installments in a row, up to the latest whose month has ended by `as_of`, were
    not covered. Payments (by month, "2026-10") settle the oldest installment first, so an
    installment counts as paid when everything paid up to the end of its month covers it and
    every earlier one; paying a later installment while earlier ones are open is no catch-up."""
    currencies = {amount.currency for _, amount in schedule}
    currencies |= {payment.currency for payment in payments_by_month.values()}
    if len(currencies) > 1:
        raise ValueError(f"installments and payments mix currencies: {sorted(currencies)}")
    for month in payments_by_month:
        if not _MONTH.fullmatch(month):
            raise ValueError(f"payment month {month!r} is not written like 2026-10")
    due_so_far = 0
    run = 0
    for due_date, amount in sorted(schedule, key=lambda item: item[0]):
        last_day = calendar.monthrange(due_date.year, due_date.month)[1]
        if date(due_date.year, due_date.month, last_day) >= as_of:
            break  # its month is not over yet: not missed (yet)
        due_so_far += amount.minor
        month = month_key(due_date)
        paid_so_far = sum(p.minor for m, p in payments_by_month.items() if m <= month)
        run = run + 1 if paid_so_far < due_so_far else 0
    return run


# --- Ahsemha eligibility ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AhsemhaFacts:
    """What the ministry knows about a customer applying to Ahsemha.

    `months_since_registration_at_sale` is None when the property was not sold."""

    citizen: bool
    private_housing: bool
    metered_months: int
    days_between_last_reading_and_registration: int
    readings_entered_monthly: bool
    dues_paid: bool
    has_violation: bool
    consecutive_unpaid_months: int
    total_unpaid_months: int
    months_since_registration_at_sale: int | None = None

    def __post_init__(self) -> None:
        counts = {
            "metered_months": self.metered_months,
            "days_between_last_reading_and_registration": (
                self.days_between_last_reading_and_registration
            ),
            "consecutive_unpaid_months": self.consecutive_unpaid_months,
            "total_unpaid_months": self.total_unpaid_months,
            "months_since_registration_at_sale": self.months_since_registration_at_sale or 0,
        }
        for name, value in counts.items():
            if value < 0:
                raise ValueError(f"{name} cannot be negative, got {value}")
        if self.consecutive_unpaid_months > self.total_unpaid_months:
            raise ValueError("more consecutive unpaid months than unpaid months in total")


def ahsemha_eligibility(facts: AhsemhaFacts, s: AhsemhaSettings) -> Decision:
    """Outcome True = eligible. The reasons list every condition that fails (so a customer
    learns everything to fix at once), or one confirmation when none does."""
    failed: list[Text] = []
    if not facts.citizen:
        failed.append(Text("rules.kw.ahsemha.not_citizen"))
    if not facts.private_housing:
        failed.append(Text("rules.kw.ahsemha.not_private_housing"))
    if facts.metered_months <= s.min_metered_months:
        failed.append(
            Text(
                "rules.kw.ahsemha.metered_too_recent",
                {"count": facts.metered_months, "min": s.min_metered_months},
            )
        )
    if facts.days_between_last_reading_and_registration > s.reading_max_age_days:
        failed.append(
            Text(
                "rules.kw.ahsemha.reading_too_old",
                {
                    "count": facts.days_between_last_reading_and_registration,
                    "max": s.reading_max_age_days,
                },
            )
        )
    if not facts.readings_entered_monthly:
        failed.append(Text("rules.kw.ahsemha.readings_not_monthly"))
    if not facts.dues_paid:
        failed.append(Text("rules.kw.ahsemha.dues_unpaid"))
    if facts.has_violation:
        failed.append(Text("rules.kw.ahsemha.violation"))
    if facts.consecutive_unpaid_months >= s.exclusion_consecutive_unpaid_months:
        failed.append(
            Text(
                "rules.kw.ahsemha.consecutive_unpaid",
                {
                    "count": facts.consecutive_unpaid_months,
                    "max": s.exclusion_consecutive_unpaid_months,
                },
            )
        )
    if facts.total_unpaid_months >= s.exclusion_total_unpaid_months:
        failed.append(
            Text(
                "rules.kw.ahsemha.total_unpaid",
                {"count": facts.total_unpaid_months, "max": s.exclusion_total_unpaid_months},
            )
        )
    sold = facts.months_since_registration_at_sale
    if sold is not None and sold < s.exclusion_sale_within_months:
        failed.append(
            Text(
                "rules.kw.ahsemha.sold_early",
                {"count": sold, "min": s.exclusion_sale_within_months},
            )
        )
    if failed:
        return Decision(False, tuple(failed))
    return Decision(True, (Text("rules.kw.ahsemha.eligible"),))


# --- Ahsemha discounts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AhsemhaDiscount:
    """Year-end discounts, in percent of the electricity and of the water bill."""

    electricity_pct: Decimal
    water_pct: Decimal
    reasons: tuple[Text, ...]


def _check_pct(name: str, value: Decimal) -> None:
    if not value.is_finite() or value < 0 or value > HUNDRED:
        raise ValueError(f"{name} must be between 0 and 100 percent, got {value}")


def _saving_incentive(
    saving: Decimal, slope: Decimal, full_from: Decimal, full_discount: Decimal, key: str
) -> tuple[Decimal, Text]:
    """Incentives 1 and 3: below the threshold, `slope` times the saving; from it, the flat
    discount."""
    if saving < full_from:
        discount = slope * saving
        params = {"count": percent(saving), "min": percent(full_from)}
        return discount, Text(
            f"{key}_partial", params | {"length": percent(slope), "max": percent(discount)}
        )
    return full_discount, Text(
        f"{key}_full",
        {"count": percent(saving), "min": percent(full_from), "max": percent(full_discount)},
    )


def _pv_incentive(
    saving: Decimal, capacity: Decimal, s: AhsemhaSettings
) -> tuple[Decimal, tuple[Text, ...]]:
    """Incentive 2 (see the package docstring for the interpretation)."""
    if not s.pv_capacity_min_pct <= capacity <= s.pv_capacity_max_pct:
        out_of_range = Text(
            "rules.kw.ahsemha.incentive2_capacity_range",
            {
                "count": percent(capacity),
                "min": percent(s.pv_capacity_min_pct),
                "max": percent(s.pv_capacity_max_pct),
            },
        )
        return Decimal(0), (out_of_range,)
    if saving < capacity:
        below = Text(
            "rules.kw.ahsemha.incentive2_saving_below",
            {"count": percent(saving), "min": percent(capacity)},
        )
        return Decimal(0), (below,)
    earned = s.pv_discount_per_capacity_pct * capacity
    granted = Text(
        "rules.kw.ahsemha.incentive2_granted",
        {
            "count": percent(saving),
            "min": percent(capacity),
            "length": percent(s.pv_discount_per_capacity_pct),
            "max": percent(earned),
        },
    )
    if earned <= s.pv_max_discount_pct:
        return earned, (granted,)
    capped = Text("rules.kw.ahsemha.incentive2_capped", {"max": percent(s.pv_max_discount_pct)})
    return s.pv_max_discount_pct, (granted, capped)


def ahsemha_discount(
    electricity_saving_pct: Decimal,
    water_saving_pct: Decimal,
    pv_capacity_pct: Decimal | None,
    s: AhsemhaSettings,
) -> AhsemhaDiscount:
    """The incentives for a year's savings (percent less than the reference consumption) and
    the installed photovoltaic capacity (percent, None without panels), combined and capped."""
    _check_pct("electricity saving", electricity_saving_pct)
    _check_pct("water saving", water_saving_pct)
    if pv_capacity_pct is not None:
        _check_pct("photovoltaic capacity", pv_capacity_pct)
    reasons: list[Text] = []

    first, why = _saving_incentive(
        electricity_saving_pct,
        s.electricity_saving_slope,
        s.electricity_saving_full_from_pct,
        s.electricity_saving_full_discount_pct,
        "rules.kw.ahsemha.incentive1",
    )
    reasons.append(why)
    second = Decimal(0)
    if pv_capacity_pct is not None:
        second, pv_reasons = _pv_incentive(electricity_saving_pct, pv_capacity_pct, s)
        reasons.extend(pv_reasons)
    third, why = _saving_incentive(
        water_saving_pct,
        s.water_saving_slope,
        s.water_saving_full_from_pct,
        s.water_saving_full_discount_pct,
        "rules.kw.ahsemha.incentive3",
    )
    reasons.append(why)

    electricity = first + second
    if electricity > s.cap_electricity_pct:
        reasons.append(
            Text(
                "rules.kw.ahsemha.electricity_capped",
                {"count": percent(electricity), "max": percent(s.cap_electricity_pct)},
            )
        )
        electricity = s.cap_electricity_pct
    water = third
    if water > s.cap_water_pct:
        reasons.append(
            Text(
                "rules.kw.ahsemha.water_capped",
                {"count": percent(water), "max": percent(s.cap_water_pct)},
            )
        )
        water = s.cap_water_pct
    reasons.append(Text(TOTAL, {"count": percent(electricity), "max": percent(water)}))
    return AhsemhaDiscount(electricity, water, tuple(reasons))


# --- Ahsemha savings and the calculator ------------------------------------------------------

SAVING_STEP = Decimal("0.1")


def saving_pct(reference: Decimal, current: Decimal) -> Decimal:
    """Percent less consumed than the reference (the same period a year before), to a tenth
    of a percent rounded down, so a saving never reaches a threshold it did not (19.96 % is
    not 20 %). 0 when there is no reference consumption or consumption did not fall."""
    for name, value in (("reference", reference), ("current", current)):
        if not value.is_finite() or value < 0:
            raise ValueError(f"{name} consumption must be a finite number of at least 0")
    if reference == 0 or current >= reference:
        return Decimal(0)
    saved = (reference - current) * HUNDRED / reference
    return saved.quantize(SAVING_STEP, rounding=ROUND_DOWN)


def ahsemha_estimate(
    electricity: tuple[Decimal, Decimal],
    water: tuple[Decimal, Decimal],
    pv_capacity_pct: Decimal | None,
    s: AhsemhaSettings,
) -> AhsemhaDiscount:
    """The calculator: the year-end discount for the consumption a person states (last
    year's, then this year's, for electricity and for water) and their installed
    photovoltaic capacity (None without panels), before registering. The same rule as for
    stored readings (`saving_pct`, then `ahsemha_discount`); the year-end total comes first
    and the caps are always said, whether or not these figures reach them."""
    discount = ahsemha_discount(saving_pct(*electricity), saving_pct(*water), pv_capacity_pct, s)
    caps = Text(
        "rules.kw.ahsemha.caps",
        {"count": percent(s.cap_electricity_pct), "max": percent(s.cap_water_pct)},
    )
    total = tuple(reason for reason in discount.reasons if reason.key == TOTAL)
    rest = tuple(reason for reason in discount.reasons if reason.key != TOTAL)
    return AhsemhaDiscount(discount.electricity_pct, discount.water_pct, total + rest + (caps,))
