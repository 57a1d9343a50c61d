"""Typed rule settings, parsed from a profile's `[rules.*]` sections.

The figures live in `tasdeed/profiles/<id>.toml` (the source articles' values). A field with a
default here is one the articles do not state outright: an interpretation (Ahsemha incentive 2)
or a fact of the place (the Saudi weekend), kept overridable in the profile.
Money figures are minor units; their currency is the profile's, filled in by `rule_settings`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tasdeed.profile import Profile


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- Kuwait ----------------------------------------------------------------------------------


class TransactionBlockSettings(_Settings):
    """Government transactions stop when debt exceeds a figure or installments are missed."""

    currency: str
    debt_over_minor: int = Field(ge=0)
    consecutive_missed_installments: int = Field(ge=1)


class AhsemhaSettings(_Settings):
    """The "Ahsemha" (احسمها) saving incentives; percentages are of the yearly bill."""

    reading_max_age_days: int = Field(ge=0)
    min_metered_months: int = Field(ge=0)
    exclusion_consecutive_unpaid_months: int = Field(ge=1)
    exclusion_total_unpaid_months: int = Field(ge=1)
    exclusion_sale_within_months: int = Field(ge=0)
    electricity_saving_slope: Decimal = Field(ge=0)
    electricity_saving_full_from_pct: Decimal = Field(ge=0, le=100)
    electricity_saving_full_discount_pct: Decimal = Field(ge=0, le=100)
    pv_capacity_min_pct: Decimal = Field(ge=0, le=100)
    pv_capacity_max_pct: Decimal = Field(ge=0, le=100)
    pv_max_discount_pct: Decimal = Field(ge=0, le=100)
    # Interpretation of incentive 2 (see tasdeed.rules): the discount is this many percent per
    # percent of installed PV capacity, so the top of the capacity range (10 %) reaches the
    # article's maximum (30 %).
    pv_discount_per_capacity_pct: Decimal = Field(default=Decimal(3), ge=0)
    water_saving_slope: Decimal = Field(ge=0)
    water_saving_full_from_pct: Decimal = Field(ge=0, le=100)
    water_saving_full_discount_pct: Decimal = Field(ge=0, le=100)
    cap_electricity_pct: Decimal = Field(ge=0, le=100)
    cap_water_pct: Decimal = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _capacity_range(self) -> Self:
        if self.pv_capacity_min_pct > self.pv_capacity_max_pct:
            raise ValueError("pv_capacity_min_pct is above pv_capacity_max_pct")
        return self


# --- Saudi Arabia ----------------------------------------------------------------------------


class HoursStandard(_Settings):
    amount_minor: int = Field(ge=0)
    hours: int = Field(ge=0)


class ConnectionStandard(_Settings):
    amount_minor: int = Field(ge=0)
    working_days_low_voltage: int = Field(ge=0)
    working_days_medium_voltage: int = Field(ge=0)


class OutageCountStandard(_Settings):
    amount_minor: int = Field(ge=0)
    max_outages_per_year: int = Field(ge=0)
    min_outage_hours: int = Field(ge=0)


class WorkingDaysStandard(_Settings):
    amount_minor: int = Field(ge=0)
    working_days: int = Field(ge=0)


class ComplaintStandard(WorkingDaysStandard):
    """A complaint not handled within `working_days` of its filing earns `amount_minor`.
    `complaint_categories` names the Tasdeed complaint categories (tasdeed.contract) the
    standard covers: their deadline is this standard's, not the profile's `sla_hours`, and a
    breach is credited automatically (billing/notices.py, the sweep)."""

    complaint_categories: tuple[str, ...] = ()


class NoticeStandard(_Settings):
    amount_minor: int = Field(ge=0)
    days: int = Field(ge=0)


class FlatStandard(_Settings):
    amount_minor: int = Field(ge=0)


class CompensationSettings(_Settings):
    """The eight guaranteed service standards: what a breach is and what it pays."""

    currency: str
    reconnection_after_payment: HoursStandard
    connection_after_payment: ConnectionStandard
    outage_count: OutageCountStandard
    outage_restoration: HoursStandard
    register_actual_consumer: WorkingDaysStandard
    billing_complaint: ComplaintStandard
    planned_outage_notice: NoticeStandard
    prohibited_disconnection: FlatStandard
    # Python weekday numbers (Monday = 0): the Saudi weekend is Friday and Saturday.
    weekend_days: tuple[int, ...] = (4, 5)
    # Public holidays (local dates) the working-day standards skip, as well as the weekend.
    holidays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _weekend(self) -> Self:
        if not set(self.weekend_days) <= set(range(7)):
            raise ValueError("weekend_days are weekday numbers 0 (Monday) to 6 (Sunday)")
        if len(set(self.weekend_days)) == 7:
            raise ValueError("a week needs at least one working day")
        return self


class ExamPeriod(_Settings):
    """Public-school exams, both days included. `region` empty: the whole country; otherwise
    the accounts whose area is the region or lies in it ("الرياض" covers "الرياض - العليا";
    see `tasdeed.rules.disconnection.in_region`). `source` says where the dates come from."""

    start: date
    end: date
    region: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"exam period ends {self.end} before it starts {self.start}")
        return self


class ProtectedDisconnectionSettings(_Settings):
    """When a disconnection for non-payment is prohibited (four of the seven cases are named
    by the article; the other three are unknown and not modelled)."""

    no_disconnection_from_hour: int = Field(ge=0, le=23)
    ramadan: bool
    special_needs: bool
    exam_periods: tuple[ExamPeriod, ...] = ()


class EbillSettings(_Settings):
    issue_day_of_month: int = Field(ge=1, le=31)


# --- Egypt -----------------------------------------------------------------------------------


class PrepaidConversionSettings(_Settings):
    """Arrears of this many bills get the meter replaced by a prepaid one."""

    min_unpaid_bills: int = Field(ge=1)


# --- all of a profile's rules ----------------------------------------------------------------


class RuleSettings(_Settings):
    """A profile's rules; a section the profile does not have is None (the rule does not apply
    to that utility). An unknown section is an error, not ignored."""

    transaction_block: TransactionBlockSettings | None = None
    ahsemha: AhsemhaSettings | None = None
    compensation: CompensationSettings | None = None
    protected_disconnection: ProtectedDisconnectionSettings | None = None
    prepaid_conversion: PrepaidConversionSettings | None = None
    ebill: EbillSettings | None = None


_WITH_CURRENCY = ("transaction_block", "compensation")


def rule_settings(profile: Profile) -> RuleSettings:
    """The typed rules of a profile. Raises pydantic.ValidationError on a malformed section."""
    sections: dict[str, Any] = dict(profile.rules)
    for name in _WITH_CURRENCY:
        if name in sections:
            section = dict(sections[name])
            if "currency" in section:
                raise ValueError(f"[rules.{name}] takes its currency from the profile")
            section["currency"] = profile.currency
            sections[name] = section
    return RuleSettings.model_validate(sections)
