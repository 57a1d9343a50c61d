"""Tests for tasdeed.rules.egypt: arrears of at least two bills bring a prepaid meter
(shared/RULES.md, sources/000)."""

from __future__ import annotations

import pytest

from tasdeed.flows.text_render import TextRenderer
from tasdeed.profile import load_profile
from tasdeed.rules.egypt import prepaid_conversion
from tasdeed.rules.settings import PrepaidConversionSettings, rule_settings
from tasdeed.text import Text

EG = load_profile("eg")
RULES = rule_settings(EG)
assert RULES.prepaid_conversion is not None
PREPAID: PrepaidConversionSettings = RULES.prepaid_conversion
AVOID = Text("rules.eg.prepaid.avoid")


def test_egypt_profile_settings() -> None:
    assert PREPAID.min_unpaid_bills == 2
    assert RULES.compensation is None
    assert RULES.transaction_block is None


@pytest.mark.parametrize(
    ("unpaid", "flagged", "reasons"),
    [
        (0, False, (Text("rules.eg.prepaid.clear", {"count": 0, "max": 2}),)),
        (1, False, (Text("rules.eg.prepaid.clear", {"count": 1, "max": 2}), AVOID)),
        (2, True, (Text("rules.eg.prepaid.flagged", {"count": 2, "max": 2}), AVOID)),
        (3, True, (Text("rules.eg.prepaid.flagged", {"count": 3, "max": 2}), AVOID)),
    ],
)
def test_prepaid_conversion(unpaid: int, flagged: bool, reasons: tuple[Text, ...]) -> None:
    decision = prepaid_conversion(unpaid, PREPAID)
    assert decision.outcome is flagged
    assert decision.reasons == reasons
    for language in ("ar", "en"):
        renderer = TextRenderer(EG, language)
        for reason in decision.reasons:
            shown = renderer.text(reason)
            assert "{" not in shown
            assert all(len(line) <= 75 for line in shown.split("\n")), shown


def test_the_figure_is_a_setting() -> None:
    three = PREPAID.model_copy(update={"min_unpaid_bills": 3})
    assert prepaid_conversion(2, three).outcome is False
    assert prepaid_conversion(3, three).outcome is True


def test_arabic_reasons_say_how_to_avoid_it() -> None:
    renderer = TextRenderer(EG, "ar")
    shown = [renderer.text(r) for r in prepaid_conversion(2, PREPAID).reasons]
    # Egyptian profile: Arabic-Indic digits; two bills are the dual, not "٢ فواتير"
    assert shown[0] == "عليك فاتورتان غير مسددتين، والحد ٢.\nسيستبدل العداد بعداد مسبق الدفع."
    assert shown[1] == "لتجنب ذلك سدد المتأخرات أو اطلب التقسيط."
    english = [TextRenderer(EG, "en").text(r) for r in prepaid_conversion(2, PREPAID).reasons]
    assert english[1] == "To avoid it, pay the arrears or ask for installments."


def test_negative_arrears_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        prepaid_conversion(-1, PREPAID)
