"""USSD pages: every screen of every flow, in every profile and language, with worst-case
values and every error that can sit on top of it, fits one USSD string."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import SCREEN_NAMES
from tasdeed.flows.text_render import TextRenderer
from tasdeed.i18n import catalogue
from tasdeed.money import Money
from tasdeed.profile import available_profiles, load_profile
from tasdeed.rules.saudi import ServiceEvent, compensations, working_calendar
from tasdeed.rules.settings import rule_settings
from tasdeed.state_store import MemoryStore
from tasdeed.text import DigitString, Text, text_to_json
from tests.flow_states import LARGEST_MINOR, worst_state
from ussd.pages import GSM7_LIMIT, UCS2_LIMIT, for_unshaped_handset, page_limit, paginate
from ussd.service import UssdService


def worst_params(message: str, profile_id: str) -> dict[str, object]:
    currency = load_profile(profile_id).currency
    values: dict[str, object] = {
        "minimum": Money(LARGEST_MINOR, currency),
        "due": Money(LARGEST_MINOR, currency),
        "receipt": "EG261124ABCDEF12",
        "length": 20,
        "min": 24,
        "max": 120,
        "previous": 999_999_999,
    }
    return {name: values[name] for name in re.findall(r"\{(\w+)[:}]", message)}


ERROR_KEYS = sorted(
    key for key in catalogue("ar") if key.split(".")[0] in ("refusal", "code", "error")
)
CASES = list(itertools.product(available_profiles(), ("ar", "en"), SCREEN_NAMES))


def service(profile_id: str) -> UssdService:
    return UssdService(load_profile(profile_id), BillingClient("http://127.0.0.1:9"), MemoryStore())


@pytest.mark.parametrize(("profile_id", "language", "screen_name"), CASES)
def test_every_screen_fits_with_every_error(
    profile_id: str, language: str, screen_name: str
) -> None:
    ussd = service(profile_id)
    for error in [None, *ERROR_KEYS]:
        state = worst_state(screen_name, language, profile_id)
        if error is not None:
            message = catalogue(language)[error]
            params = worst_params(message, profile_id)
            state.error = text_to_json(Text(error, params))  # type: ignore[arg-type]
        screen = ussd.engine.render(state)
        pages = ussd.pages(state, screen)
        assert 1 <= len(pages) <= 4, pages
        for page in pages:
            assert len(page) <= page_limit(page), f"{len(page)}: {page!r}"
            assert len(for_unshaped_handset(page)) <= page_limit(page)
        if screen.expects.is_data:
            # "99" could be data on these screens: they must never need paging.
            assert len(pages) == 1, pages


def test_arabic_pages_use_the_ucs2_limit() -> None:
    assert page_limit("ادفع") == UCS2_LIMIT
    assert page_limit("Pay your bill") == GSM7_LIMIT
    assert page_limit("Pay £5 é") == GSM7_LIMIT


def test_paginate_keeps_the_footer_on_the_last_page_and_more_on_the_others() -> None:
    lines = [f"{i} سطر طويل نسبيا للتجربة" for i in range(1, 8)]
    pages = paginate(lines, "0 رجوع  00 الرئيسية", "المزيد")
    assert len(pages) > 1
    assert all(p.endswith("99 المزيد") for p in pages[:-1])
    assert all(len(p) <= UCS2_LIMIT for p in pages)
    joined = "\n".join(pages)
    assert all(line in joined for line in lines)


words = st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي abcdef0123456789", min_size=1, max_size=12)


@given(st.lists(st.lists(words, min_size=1, max_size=20).map(" ".join), min_size=1, max_size=12))
def test_paginate_fits_and_loses_no_words(lines: list[str]) -> None:
    pages = paginate(lines, "00 الرئيسية", "المزيد")
    for page in pages:
        assert len(page) <= page_limit(page)
    shown = " ".join(p.removesuffix("99 المزيد").removesuffix("00 الرئيسية") for p in pages).split()
    assert shown == " ".join(lines).split()


RULE_KEYS = sorted(key for key in catalogue("ar") if key.startswith("rules."))


@pytest.mark.parametrize("profile_id", available_profiles())
def test_every_rule_explanation_fits_on_the_answer_screen(profile_id: str) -> None:
    """A rule's answer is a final screen of explanations: each fits, paging if needed."""
    ussd = service(profile_id)
    currency = load_profile(profile_id).currency
    worst: dict[str, object] = {
        "amount": Money(LARGEST_MINOR, currency),
        "due": Money(LARGEST_MINOR, currency),
        "count": 999_999,
        "min": 100,
        "max": 100,
        "length": 20,
        "date": "2026-12-31",
        "time": "23:59",
        "ticket": DigitString("99"),
    }
    for language in ("ar", "en"):
        for key in RULE_KEYS:
            names = re.findall(r"\{(\w+)[:}]", catalogue(language)[key])
            state = worst_state("rules.answer", language, profile_id)
            params = {name: worst[name] for name in names}
            state.data["answer"] = [text_to_json(Text(key, params))]  # type: ignore[arg-type]
            for page in ussd.pages(state, ussd.engine.render(state)):
                assert len(page) <= page_limit(page), f"{key}: {page!r}"


# --- what belongs together stays together (issue 16, item 12) ---------------------------------


def test_an_over_long_line_is_never_cut_between_an_amount_and_its_currency() -> None:
    # The naive cut (the last space that fits) falls between "200.00" and "ر.س.".
    line = "ا" * 55 + " تعويض 200.00 ر.س. " + "ب" * 30
    for page in paginate([line], "", "المزيد"):
        assert not page.split("\n")[0].endswith("200.00"), page
    joined = "\n".join(paginate([line], "", "المزيد"))
    assert "200.00 ر.س." in joined


# 44: the naive cut fell inside "تعويض ٢٠٠٫٠٠ ر.س." (the text's second line); 57: after "٦".
@pytest.mark.parametrize("padding", [44, 57])
def test_a_number_keeps_its_unit_and_a_text_breaks_at_its_own_lines(padding: int) -> None:
    pages = paginate(["ا" * padding + " والمهلة ٦ ساعات فقط\nتعويض ٢٠٠٫٠٠ ر.س."], "", "المزيد")
    shown = [line for page in pages for line in page.split("\n")]
    assert "تعويض ٢٠٠٫٠٠ ر.س." in shown  # the text's own second line, whole
    assert not any(line.endswith(("٦", "٢٠٠٫٠٠")) for line in shown), shown


SAUDI_DEMO_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _saudi_demo_answer() -> list[Text]:
    """The first Saudi demo account's events (billing/demo_rules.py): a 7-hour outage and a
    3-hour reconnection, judged as billing/rule_answers.py does."""
    profile = load_profile("sa")
    settings = rule_settings(profile).compensation
    assert settings is not None
    outage = SAUDI_DEMO_NOW - timedelta(days=10, hours=8)
    back = SAUDI_DEMO_NOW - timedelta(days=5, hours=5)
    events = [
        ServiceEvent("OUT-SA000001-1", "outage", outage, outage + timedelta(hours=7), {}),
        ServiceEvent("REC-SA000001-1", "reconnection", back, back + timedelta(hours=3), {}),
    ]
    found = compensations(
        events,
        settings,
        now=SAUDI_DEMO_NOW,
        working_days=working_calendar(settings, profile.timezone),
    )
    total = Money(sum(c.amount.minor for c in found), "SAR")
    return [
        *(r for c in found for r in c.reasons),
        Text("topic.compensation.total", {"amount": total}),
    ]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_saudi_compensation_pages_keep_amounts_whole_and_say_when_and_how_long(
    language: str,
) -> None:
    ussd = service("sa")
    state = worst_state("rules.answer", language, "sa")
    state.data["answer"] = [text_to_json(t) for t in _saudi_demo_answer()]  # type: ignore[misc]
    pages = ussd.pages(state, ussd.engine.render(state))
    lines = [line for page in pages for line in page.split("\n")]
    renderer = TextRenderer(load_profile("sa"), language)
    for minor in (20000, 10000, 30000):
        amount = renderer.value(Money(minor, "SAR"))
        assert any(amount in line for line in lines), (amount, pages)
    shown = "\n".join(pages)
    assert "OUT-" not in shown and "REC-" not in shown  # internal event ids
    # The outage began on 10 November 2026 at 07:00 in Riyadh (04:00 UTC).
    if language == "ar":
        assert "انقطاع 10/11/2026 الساعة 07:00: 7 ساعات، والمهلة 6 ساعات." in lines
        assert "إعادة الخدمة بعد السداد: المدة 3 ساعات، والمهلة ساعتان." in lines
        assert "دقيقة" not in shown and "420" not in shown
    else:
        assert "Outage on 10/11/2026 at 07:00: 7 hours; the limit is 6 hours." in lines
        assert "minutes" not in shown
    for page in pages:
        assert len(page) <= page_limit(page)
