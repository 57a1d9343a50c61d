"""Tests for tasdeed.profile and the three shipped utility profiles.

The figures are copied by hand from shared/RULES.md (the source articles), not from the
profile files.
"""

from __future__ import annotations

import tomllib

import pydantic
import pytest
from babel.numbers import get_currency_precision

from tasdeed.money import currency_exponent
from tasdeed.profile import PROFILE_DIR, Profile, available_profiles, load_profile

SHIPPED = {
    # id: (currency, exponent, contact line, locale, code length)
    "eg": ("EGP", 2, "121", "ar_EG", 12),
    "kw": ("KWD", 3, "153", "ar_KW", 10),
    "sa": ("SAR", 2, "920001100", "ar_SA", 11),
}


def test_available_profiles() -> None:
    assert available_profiles() == ["eg", "kw", "sa"]


@pytest.mark.parametrize("profile_id", sorted(SHIPPED))
def test_shipped_profile_loads(profile_id: str) -> None:
    currency, exponent, contact, locale, code_length = SHIPPED[profile_id]
    profile = load_profile(profile_id)
    assert profile.id == profile_id
    assert profile.currency == currency
    assert int(get_currency_precision(currency)) == exponent
    assert currency_exponent(profile.currency) == exponent
    assert profile.contact_line == contact
    assert profile.agent_number.endswith(contact)
    assert profile.locale == locale
    assert profile.locale_for("ar") == locale
    assert profile.locale_for("en") == "en"
    assert profile.payment_code.length == code_length
    assert profile.payment_code.check == "damm"
    assert profile.areas
    assert all(any("\u0621" <= ch <= "\u064a" for ch in area) for area in profile.areas)
    assert any("\u0621" <= ch <= "\u064a" for ch in profile.utility_name_ar)


def test_dialects_digits_and_voices() -> None:
    eg, kw, sa = (load_profile(p) for p in ("eg", "kw", "sa"))
    assert (eg.dialect, kw.dialect, sa.dialect) == ("egyptian", "gulf", "gulf")
    assert (eg.digits, kw.digits, sa.digits) == ("arab", "arab", "latn")
    # No Egyptian Polly voice exists: Zeina (standard Arabic); Gulf voices for KW and SA.
    assert eg.voice.voice_ar == "Polly.Zeina"
    assert kw.voice.voice_ar.startswith("Polly.Zayd")
    assert sa.voice.voice_ar.startswith("Polly.Hala")
    assert (eg.voice.speech_language, kw.voice.speech_language, sa.voice.speech_language) == (
        "ar-EG",
        "ar-KW",
        "ar-SA",
    )


def test_egypt_rules() -> None:
    eg = load_profile("eg")
    # Arrears of at least two bills -> prepaid meter.
    assert eg.rules["prepaid_conversion"]["min_unpaid_bills"] == 2
    assert eg.payments.allow_partial is False


def test_kuwait_transaction_block() -> None:
    block = load_profile("kw").rules["transaction_block"]
    assert block["debt_over_minor"] == 500_000  # 500 KD in fils
    assert block["consecutive_missed_installments"] == 3


def test_kuwait_installments_need_a_debt_acknowledgment() -> None:
    kw = load_profile("kw")
    assert kw.installments.requires_debt_acknowledgment is True
    assert kw.payments.min_partial_minor == 1000  # 1.000 KD


def test_kuwait_ahsemha() -> None:
    a = load_profile("kw").rules["ahsemha"]
    assert a["reading_max_age_days"] == 7
    assert a["min_metered_months"] == 12
    assert a["exclusion_consecutive_unpaid_months"] == 2
    assert a["exclusion_total_unpaid_months"] == 3
    assert a["exclusion_sale_within_months"] == 12
    # Electricity saving s%: s < 20 -> 2*s %, s >= 20 -> 40 %.
    assert a["electricity_saving_slope"] == 2
    assert a["electricity_saving_full_from_pct"] == 20
    assert a["electricity_saving_full_discount_pct"] == 40
    # PV capacity 1-10 %, up to 30 %.
    assert (a["pv_capacity_min_pct"], a["pv_capacity_max_pct"]) == (1, 10)
    assert a["pv_max_discount_pct"] == 30
    # Water saving w%: w < 25 -> 2*w %, w >= 25 -> 50 %.
    assert a["water_saving_slope"] == 2
    assert a["water_saving_full_from_pct"] == 25
    assert a["water_saving_full_discount_pct"] == 50
    # Combined caps.
    assert a["cap_electricity_pct"] == 70
    assert a["cap_water_pct"] == 50


def test_ahsemha_slopes_meet_the_full_discounts() -> None:
    # The two halves of each rule agree: 2 x 20 = 40 and 2 x 25 = 50.
    a = load_profile("kw").rules["ahsemha"]
    assert (
        a["electricity_saving_slope"] * a["electricity_saving_full_from_pct"]
        == a["electricity_saving_full_discount_pct"]
    )
    assert (
        a["water_saving_slope"] * a["water_saving_full_from_pct"]
        == a["water_saving_full_discount_pct"]
    )


SAUDI_COMPENSATION_SAR = {
    "reconnection_after_payment": 100,
    "connection_after_payment": 400,
    "outage_count": 400,
    "outage_restoration": 200,
    "register_actual_consumer": 100,
    "billing_complaint": 100,
    "planned_outage_notice": 100,
    "prohibited_disconnection": 500,
}


def test_saudi_compensation_amounts() -> None:
    compensation = load_profile("sa").rules["compensation"]
    # Besides the standards, the section holds the calendar they count working days on.
    assert set(compensation) - {"holidays", "weekend_days"} == set(SAUDI_COMPENSATION_SAR)
    for standard, sar in SAUDI_COMPENSATION_SAR.items():
        assert compensation[standard]["amount_minor"] == sar * 100, standard


def test_saudi_compensation_thresholds() -> None:
    c = load_profile("sa").rules["compensation"]
    assert c["reconnection_after_payment"]["hours"] == 2
    assert c["connection_after_payment"]["working_days_low_voltage"] == 20
    assert c["connection_after_payment"]["working_days_medium_voltage"] == 60
    assert c["outage_count"]["max_outages_per_year"] == 2
    assert c["outage_count"]["min_outage_hours"] == 2
    assert c["outage_restoration"]["hours"] == 6
    assert c["register_actual_consumer"]["working_days"] == 3
    assert c["billing_complaint"]["working_days"] == 10
    assert c["planned_outage_notice"]["days"] == 2


def test_saudi_other_rules() -> None:
    sa = load_profile("sa")
    assert sa.rules["ebill"]["issue_day_of_month"] == 28
    protected = sa.rules["protected_disconnection"]
    assert protected["no_disconnection_from_hour"] == 12
    assert protected["ramadan"] is True
    assert protected["special_needs"] is True
    assert sa.payments.min_partial_minor == 1000  # 10.00 SAR


@pytest.mark.parametrize("bad", ["xx", "EG", "", "eg.toml", "egypt"])
def test_unknown_profile_names_the_available_ones(bad: str) -> None:
    with pytest.raises(ValueError, match=r"available: eg, kw, sa$"):
        load_profile(bad)


def test_unknown_profile_message() -> None:
    with pytest.raises(ValueError, match=r"^unknown utility profile 'xx'; available: eg, kw, sa$"):
        load_profile("xx")


def test_a_path_to_a_real_profile_still_fails_on_its_declared_id() -> None:
    with pytest.raises(ValueError, match=r"declares id 'eg', expected '../profiles/eg'"):
        load_profile("../profiles/eg")


def _eg_data() -> dict[str, object]:
    with (PROFILE_DIR / "eg.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_profile_forbids_unknown_fields() -> None:
    data = _eg_data() | {"currrency": "EGP"}
    with pytest.raises(pydantic.ValidationError):
        Profile.model_validate(data)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("currency", "USD"),
        ("digits", "roman"),
        ("dialect", "levantine"),
        ("payment_code", {"length": 5}),
        ("payment_code", {"length": 21}),
        ("payment_code", {"length": 12, "check": "luhn"}),
    ],
)
def test_profile_rejects_bad_values(key: str, value: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        Profile.model_validate(_eg_data() | {key: value})


def test_profiles_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        load_profile("eg").currency = "KWD"  # type: ignore[misc]
