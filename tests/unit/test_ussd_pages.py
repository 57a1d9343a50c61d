"""USSD pages: every screen of every flow, in every profile and language, with worst-case
values and every error that can sit on top of it, fits one USSD string."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import SCREEN_NAMES
from tasdeed.i18n import catalogue
from tasdeed.money import Money
from tasdeed.profile import available_profiles, load_profile
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
    return {name: values[name] for name in re.findall(r"\{(\w+)\}", message)}


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
        "ticket": DigitString("OUT-SA000001-1"),
    }
    for language in ("ar", "en"):
        for key in RULE_KEYS:
            names = re.findall(r"\{(\w+)\}", catalogue(language)[key])
            state = worst_state("rules.answer", language, profile_id)
            params = {name: worst[name] for name in names}
            state.data["answer"] = [text_to_json(Text(key, params))]  # type: ignore[arg-type]
            for page in ussd.pages(state, ussd.engine.render(state)):
                assert len(page) <= page_limit(page), f"{key}: {page!r}"
