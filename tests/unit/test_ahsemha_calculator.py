"""The Ahsemha calculator (issue 16, item 6): a person states their own consumption (last year,
this year; electricity, water) and their solar capacity, and gets the discount with the rule's
explanation and the caps, before registering.

The computation is the rule's (`tasdeed.rules.kuwait`): `saving_pct` (which the backend's
stored-readings answer uses too), then `ahsemha_discount`, with the profile's figures. The
walk (`calc.*` steps, tasdeed/flows/walks.py) is driven here through the engine every channel
uses, with a billing client pointing at a closed port: the calculator never needs the backend.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.rule_answers import RuleAnswers
from tasdeed.billing_client import BillingClient
from tasdeed.flows.calls import CALCULATOR, rule_topics
from tasdeed.flows.engine import FlowEngine, FlowState
from tasdeed.flows.screens import Expects, Screen
from tasdeed.flows.text_render import TextRenderer
from tasdeed.flows.walks import STEPS, WALK_STARTS
from tasdeed.profile import available_profiles, load_profile
from tasdeed.quantity import QuantityProblem, read_quantity
from tasdeed.rules.decision import percent
from tasdeed.rules.kuwait import ahsemha_estimate, saving_pct
from tasdeed.rules.settings import AhsemhaSettings, rule_settings
from tasdeed.state_store import MemoryStore
from tasdeed.text import Text, text_to_json
from ussd.pages import page_limit
from ussd.service import UssdService

KW = load_profile("kw")
_SETTINGS = rule_settings(KW).ahsemha
assert _SETTINGS is not None
AHSEMHA: AhsemhaSettings = _SETTINGS
D = Decimal
CALC_STEPS = [name for name in STEPS if name.startswith("calc.")]


def keys(reasons: tuple[Text, ...]) -> list[str]:
    return [reason.key for reason in reasons]


# --- the saving, as the rule computes it ------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now", "saving"),
    [
        ("12000", "9600", "20"),
        ("10000", "8004", "19.9"),  # 19.96 %: rounded down, never up to the 20 % threshold
        ("10000", "8000.5", "19.9"),
        ("3", "2", "33.3"),
        ("400", "300", "25"),
        ("400", "0", "100"),
        ("400", "400", "0"),  # nothing saved
        ("400", "500", "0"),  # consumption rose
        ("0", "0", "0"),  # no reference: no saving
        ("0", "100", "0"),
    ],
)
def test_saving_is_the_share_less_than_last_year_rounded_down(
    before: str, now: str, saving: str
) -> None:
    assert saving_pct(D(before), D(now)) == D(saving)


@pytest.mark.parametrize(("before", "now"), [("-1", "0"), ("10", "-1"), ("NaN", "1"), ("1", "Inf")])
def test_saving_refuses_what_no_meter_reads(before: str, now: str) -> None:
    with pytest.raises(ValueError, match="consumption"):
        saving_pct(D(before), D(now))


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_saving_is_a_percentage(before: int, now: int) -> None:
    saving = saving_pct(D(before), D(now))
    assert D(0) <= saving <= D(100)
    assert saving == saving.quantize(D("0.1"))


def test_the_backend_judges_stored_readings_with_the_same_saving() -> None:
    """One rule, one place: the stored-readings answer's saving is `saving_pct`."""

    class Reading:
        def __init__(self, month: str, consumption: int) -> None:
            self.month, self.consumption, self.kind = month, consumption, "electricity"

    readings = [Reading("2025-10", 10000), Reading("2026-10", 8004)]
    assert RuleAnswers._saving(readings, "electricity") == D("19.9")  # type: ignore[arg-type]
    assert saving_pct(D(10000), D(8004)) == D("19.9")


# --- the estimate: the rule's discount for the calculator's inputs ----------------------------


@pytest.mark.parametrize(
    ("electricity", "water", "pv", "expected_electricity", "expected_water"),
    [
        # incentive 1 alone: 2 × saving below 20 %, 40 % from 20 %
        (("12000", "10800"), ("400", "400"), None, "20", "0"),  # saved 10 %
        (("10000", "8004"), ("400", "400"), None, "39.8", "0"),  # 19.96 % counts as 19.9 %
        (("12000", "9600"), ("400", "400"), None, "40", "0"),  # exactly 20 %
        (("12000", "3000"), ("400", "400"), None, "40", "0"),  # 75 %: still 40
        # incentive 3 alone: 2 × saving below 25 %, 50 % from 25 %
        (("100", "100"), ("400", "350"), None, "0", "25"),  # 12.5 %
        (("100", "100"), ("400", "300"), None, "0", "50"),  # exactly 25 %
        (("100", "100"), ("400", "0"), None, "0", "50"),
        # incentive 2: 3 × capacity (1 %–10 %) when the saving is at least the capacity
        (("12000", "10800"), ("1", "1"), "5", "35", "0"),  # 20 + 15
        (("12000", "11400"), ("1", "1"), "5", "25", "0"),  # saved 5 %: equal is enough, 10 + 15
        (("12000", "11500"), ("1", "1"), "5", "8.2", "0"),  # saved 4.1 %: below 5, no PV
        (("12000", "9600"), ("400", "300"), "10", "70", "50"),  # 40 + 30: the cap exactly
        (("12000", "9600"), ("400", "300"), "15", "40", "50"),  # capacity above 10 %: no PV
        (("12000", "9600"), ("400", "300"), "0.5", "40", "50"),  # below 1 %: no PV
        (("12000", "10560"), ("400", "352"), "2.5", "31.5", "24"),  # 24 + 7.5; 2 × 12
        # consumption rose: nothing saved, no discount
        (("9000", "12000"), ("300", "400"), "3", "0", "0"),
    ],
)
def test_estimate(
    electricity: tuple[str, str],
    water: tuple[str, str],
    pv: str | None,
    expected_electricity: str,
    expected_water: str,
) -> None:
    estimate = ahsemha_estimate(
        (D(electricity[0]), D(electricity[1])),
        (D(water[0]), D(water[1])),
        None if pv is None else D(pv),
        AHSEMHA,
    )
    assert estimate.electricity_pct == D(expected_electricity)
    assert estimate.water_pct == D(expected_water)
    # The year-end total first, the rule's reasons, and the caps always last.
    assert estimate.reasons[0] == Text(
        "rules.kw.ahsemha.total",
        {"count": percent(D(expected_electricity)), "max": percent(D(expected_water))},
    )
    assert estimate.reasons[-1] == Text("rules.kw.ahsemha.caps", {"count": 70, "max": 50})
    assert keys(estimate.reasons).count("rules.kw.ahsemha.total") == 1
    assert ("rules.kw.ahsemha.incentive1_partial" in keys(estimate.reasons)) != (
        "rules.kw.ahsemha.incentive1_full" in keys(estimate.reasons)
    )
    has_pv = any(key.startswith("rules.kw.ahsemha.incentive2") for key in keys(estimate.reasons))
    assert has_pv == (pv is not None)


def test_the_estimate_explains_the_solar_capacity_it_did_not_count() -> None:
    out_of_range = ahsemha_estimate((D(100), D(80)), (D(1), D(1)), D(15), AHSEMHA)
    assert (
        Text("rules.kw.ahsemha.incentive2_capacity_range", {"count": 15, "min": 1, "max": 10})
        in out_of_range.reasons
    )
    below = ahsemha_estimate((D(100), D(96)), (D(1), D(1)), D(5), AHSEMHA)
    assert Text("rules.kw.ahsemha.incentive2_saving_below", {"count": 4, "min": 5}) in (
        below.reasons
    )


def test_the_caps_bind_and_are_said_when_the_profile_figures_reach_them() -> None:
    """Tiers, caps and the PV rate are profile data: other figures, other answers."""
    generous = AHSEMHA.model_copy(
        update={"pv_discount_per_capacity_pct": D(5), "pv_max_discount_pct": D(50)}
    )
    estimate = ahsemha_estimate((D(100), D(80)), (D(100), D(60)), D(10), generous)
    assert (estimate.electricity_pct, estimate.water_pct) == (D(70), D(50))
    assert Text("rules.kw.ahsemha.electricity_capped", {"count": 90, "max": 70}) in (
        estimate.reasons
    )
    tight = AHSEMHA.model_copy(update={"cap_electricity_pct": D(60), "cap_water_pct": D(40)})
    estimate = ahsemha_estimate((D(100), D(80)), (D(100), D(60)), D(10), tight)
    assert (estimate.electricity_pct, estimate.water_pct) == (D(60), D(40))
    assert "rules.kw.ahsemha.water_capped" in keys(estimate.reasons)
    assert estimate.reasons[-1] == Text("rules.kw.ahsemha.caps", {"count": 60, "max": 40})


@given(
    st.integers(1, 10**9),
    st.integers(0, 10**9),
    st.integers(1, 10**9),
    st.integers(0, 10**9),
    st.none() | st.decimals(0, 100, places=1, allow_nan=False, allow_infinity=False),
)
def test_any_figures_stay_within_the_caps(
    e_before: int, e_now: int, w_before: int, w_now: int, pv: Decimal | None
) -> None:
    estimate = ahsemha_estimate((D(e_before), D(e_now)), (D(w_before), D(w_now)), pv, AHSEMHA)
    assert D(0) <= estimate.electricity_pct <= AHSEMHA.cap_electricity_pct
    assert D(0) <= estimate.water_pct <= AHSEMHA.cap_water_pct


# --- reading what a person typed or said ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12000", D(12000)),
        ("١٢٠٠٠", D(12000)),  # Arabic-Indic digits
        ("۱۲۰۰۰", D(12000)),  # Persian digits
        ("١٢٬٠٠٠", D(12000)),  # the Arabic thousands separator
        ("12,000", D(12000)),
        ("12 000", D(12000)),
        ("٤٥٫٥", D("45.5")),  # the Arabic decimal separator
        ("استهلاكي 12000 كيلوواط", D(12000)),  # a sentence in chat
        ("12000.", D(12000)),
        ("0", D(0)),
        ("٠", D(0)),
        ("007", D(7)),
        ("+5", D(5)),
        ("abc", QuantityProblem.NOT_A_NUMBER),
        ("اثنا عشر ألف", QuantityProblem.NOT_A_NUMBER),
        ("", QuantityProblem.NOT_A_NUMBER),
        ("الغاء", QuantityProblem.NOT_A_NUMBER),
        ("12,5", QuantityProblem.NOT_A_NUMBER),  # a decimal comma is not a thousands one
        ("12 000 000", D(12_000_000)),
        ("2024 12000", QuantityProblem.NOT_A_NUMBER),  # two numbers, not 202412000
        ("السنة 2024 استهلكت 12000", QuantityProblem.NOT_A_NUMBER),  # which one?
        ("-500", QuantityProblem.NEGATIVE),
        ("−500", QuantityProblem.NEGATIVE),  # the minus sign
        ("- ٥٠٠", QuantityProblem.NEGATIVE),
        ("1234567890", QuantityProblem.TOO_LONG),
        ("١٢٣٤٥٦٧٨٩٠", QuantityProblem.TOO_LONG),
        ("1" * 400, QuantityProblem.TOO_LONG),
        ("0.0001", QuantityProblem.TOO_PRECISE),
    ],
)
def test_read_quantity(raw: str, expected: Decimal | QuantityProblem) -> None:
    assert read_quantity(raw, max_digits=9, max_decimals=3) == expected


@given(st.text(max_size=60))
def test_read_quantity_is_a_non_negative_number_or_a_reason(raw: str) -> None:
    found = read_quantity(raw, max_digits=9, max_decimals=3)
    if isinstance(found, Decimal):
        assert found.is_finite() and D(0) <= found < D(10**9)
        assert -found.as_tuple().exponent <= 3  # type: ignore[operator]
    else:
        assert found in QuantityProblem


# --- the walk, on the engine every channel drives ---------------------------------------------


def engine(profile_id: str = "kw") -> FlowEngine:
    return FlowEngine(load_profile(profile_id), BillingClient("http://127.0.0.1:9"), "ussd")


def shown(screen: Screen, language: str = "ar") -> str:
    renderer = TextRenderer(KW, language)
    return "\n".join(renderer.body_lines(screen) + renderer.option_lines(screen))


async def to_calculator(flow: FlowEngine, language: str = "ar") -> tuple[FlowState, Screen]:
    state = FlowState()
    flow.start(state, language=language)
    menu = await flow.handle(state, "6", "c")
    assert "4 حاسبة احسمها" in shown(menu, language) or language != "ar"
    return state, await flow.handle(state, "4", "c")


def test_only_a_utility_with_the_incentive_offers_the_calculator() -> None:
    for profile_id in available_profiles():
        profile = load_profile(profile_id)
        offered = "ahsemha" in profile.rules
        assert ("calculator" in rule_topics(profile)) == offered, profile_id
        state = FlowState()
        started = engine(profile_id).begin(state, "calculator", "c")
        assert (started is not None) == offered, profile_id
        if offered:
            assert state.screen == CALCULATOR == WALK_STARTS["calculator"][0]
    assert [name for name in STEPS if name.startswith("calc.")] == [
        "calc.electricity_before",
        "calc.electricity_now",
        "calc.water_before",
        "calc.water_now",
        "calc.pv",
    ]
    assert all(STEPS[name].expects is Expects.NUMBER for name in CALC_STEPS)


async def test_egypt_and_saudi_rules_menus_do_not_show_it() -> None:
    for profile_id in ("eg", "sa"):
        flow = engine(profile_id)
        state = FlowState()
        flow.start(state, language="ar")
        menu = await flow.handle(state, "6", "c")
        assert "احسمها" not in shown(menu)
        assert all(option.label.key != "topic.calculator" for option in menu.options)


async def test_the_calculator_from_the_rules_menu_to_the_discount() -> None:
    flow = engine()
    state, screen = await to_calculator(flow)
    assert state.screen == "calc.electricity_before"
    assert "كيلوواط ساعة" in shown(screen)
    for answer, then in [
        ("١٢٠٠٠", "calc.electricity_now"),
        ("9600", "calc.water_before"),
        ("400", "calc.water_now"),
        ("٣٠٠", "calc.pv"),
    ]:
        screen = await flow.handle(state, answer, "c")
        assert screen.error is None and state.screen == then, shown(screen)
    assert "١٪ إلى ١٠٪" in shown(screen)
    screen = await flow.handle(state, "10", "c")
    assert screen.name == "rules.answer" and screen.final
    text = shown(screen)
    lines = text.split("\n")
    assert lines[0] == "الخصم في نهاية السنة: الكهرباء ٧٠٪، والمياه ٥٠٪."
    assert "الحافز الأول: ترشيد الكهرباء ٢٠٪، أي ٢٠٪ فأكثر." in lines
    assert "الحافز الثاني: ترشيد ٢٠٪ لا يقل عن سعة الألواح الشمسية ١٠٪." in lines
    assert "الخصم ٣ × السعة = ٣٠٪." in lines
    assert "الحافز الثالث: ترشيد المياه ٢٥٪، أي ٢٥٪ فأكثر." in lines
    assert "حد الخصم المجتمع: ٧٠٪ من فاتورة الكهرباء و٥٠٪ من فاتورة المياه." in lines
    assert lines[-1].startswith("تقدير من أرقامك قبل التسجيل")


async def test_no_solar_panels_and_english() -> None:
    flow = engine()
    state, _ = await to_calculator(flow, "en")
    for answer in ("12000", "10800", "400", "350"):
        await flow.handle(state, answer, "c")
    screen = await flow.handle(state, "0", "c")  # 0: no panels
    text = shown(screen, "en")
    assert text.startswith("Year-end discount: electricity 20%, water 25%.")
    assert "Incentive 2" not in text
    assert "Combined discount cap: 70% of the electricity bill, 50% of the water bill." in text


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("abc", "أدخل رقما واحدا بالأرقام، بلا حروف."),
        ("كثير", "أدخل رقما واحدا بالأرقام، بلا حروف."),
        ("-500", "لا يقبل رقم سالب: أدخل صفرا أو أكثر."),
        ("1234567890", "الرقم طويل جدا: ٩ أرقام على الأكثر."),
        ("١٢٣٤٥٦٧٨٩٠١٢", "الرقم طويل جدا: ٩ أرقام على الأكثر."),
        ("12.3456", "بعد الفاصلة ٣ أرقام على الأكثر."),
        ("0", "استهلاك السنة الماضية يلزم أن يزيد على صفر، فمنه يحسب الترشيد."),
    ],
)
async def test_bad_input_is_answered_clearly_and_asked_again(answer: str, reason: str) -> None:
    flow = engine()
    state, _ = await to_calculator(flow)
    screen = await flow.handle(state, answer, "c")
    assert state.screen == "calc.electricity_before"
    assert screen.error is not None and TextRenderer(KW, "ar").text(screen.error) == reason


async def test_bad_input_at_every_step_then_the_walk_ends_after_three() -> None:
    flow = engine()
    for at in range(len(CALC_STEPS)):
        state, _ = await to_calculator(flow)
        for answer in ("12000", "9600", "400", "300")[:at]:
            await flow.handle(state, answer, "c")
        step = state.screen
        assert step == CALC_STEPS[at]
        for bad in ("abc", "-1"):
            screen = await flow.handle(state, bad, "c")
            assert screen.error is not None and state.screen == step
        screen = await flow.handle(state, "1" * 12, "c")
        assert screen.name == "walk.too_many_tries" and screen.final


async def test_solar_capacity_over_100_percent_is_asked_again() -> None:
    flow = engine()
    state, _ = await to_calculator(flow)
    for answer in ("12000", "9600", "400", "300"):
        await flow.handle(state, answer, "c")
    screen = await flow.handle(state, "150", "c")
    assert state.screen == "calc.pv" and screen.error is not None
    assert TextRenderer(KW, "ar").text(screen.error) == "النسبة من ٠٪ إلى ١٠٠٪."
    screen = await flow.handle(state, "-3", "c")
    assert state.screen == "calc.pv" and screen.error is not None
    screen = await flow.handle(state, "٢٫٥", "c")  # a fraction of a percent is fine
    assert screen.name == "rules.answer"


@pytest.mark.parametrize("step", range(5))
@pytest.mark.parametrize(
    ("answer", "leads_to"),
    [("الغاء", "walk.cancelled"), ("cancel", "walk.cancelled"), ("00", "main")],
)
async def test_leaving_from_every_step(step: int, answer: str, leads_to: str) -> None:
    flow = engine()
    state, _ = await to_calculator(flow)
    for figure in ("12000", "9600", "400", "300")[:step]:
        await flow.handle(state, figure, "c")
    assert state.screen == CALC_STEPS[step]
    screen = await flow.handle(state, answer, "c")
    assert screen.name == leads_to


async def test_a_chat_starts_the_calculator_by_intent_in_kuwait_only() -> None:
    state = FlowState()
    screen = engine().begin(state, "calculator", "conversation")
    assert screen is not None and screen.name == CALCULATOR
    assert engine("eg").begin(FlowState(), "calculator", "conversation") is None
    assert engine("sa").begin(FlowState(), "calculator", "conversation") is None


# --- USSD pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_every_calculator_page_fits_and_keeps_numbers_whole(language: str) -> None:
    """The longest answer (fractions everywhere, solar panels counted): each page one USSD
    string, a prompt one page with any of its errors, and no page ends on a bare number."""
    ussd = UssdService(KW, BillingClient("http://127.0.0.1:9"), MemoryStore())
    state, screen = await to_calculator(ussd.engine, language)
    prompts = [screen]
    for answer in ("10000", "8004", "10000", "7510"):
        screen = await ussd.engine.handle(state, answer, "c")
        prompts.append(screen)
    for prompt in prompts:
        assert len(ussd.pages(state, prompt)) == 1
    errors = [
        Text("calc.not_a_number"),
        Text("calc.negative"),
        Text("calc.too_long", {"length": 9}),
        Text("calc.too_precise", {"count": 3}),
        Text("calc.reference_zero"),
        Text("calc.percent_range", {"min": 0, "max": 100}),
        Text("refusal.topic_not_offered"),
    ]
    for step in CALC_STEPS:
        for error in errors:
            probe = FlowState(screen=step, language=language, error=text_to_json(error))
            pages = ussd.pages(probe, ussd.engine.render(probe))
            assert len(pages) == 1 and len(pages[0]) <= page_limit(pages[0]), pages
    final = await ussd.engine.handle(state, "9.9", "c")
    assert final.name == "rules.answer"
    pages = ussd.pages(state, final)
    for page in pages:
        assert len(page) <= page_limit(page), page
        for line in page.split("\n"):
            assert not line.rstrip()[-1:].isdecimal(), (line, pages)
    shown_text = "\n".join(pages)
    assert ("٣٩٫٨٪" if language == "ar" else "39.8%") in shown_text  # 19.96 % → 19.9 → 39.8
