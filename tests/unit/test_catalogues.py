"""Tests for tasdeed.i18n and the catalogues in tasdeed/locale/.

A missing or broken translation is a blank or garbled screen in front of someone about to pay,
so every key, placeholder and Arabic line is checked here, with worst-case values filled in.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tasdeed.codes import CodeProblem
from tasdeed.contract import RefusalReason
from tasdeed.i18n import LOCALE_DIR, catalogue, translate
from tasdeed.money import Money, format_money
from tasdeed.profile import available_profiles, load_profile

USSD_LINE_BUDGET = 75  # 80 UCS-2 characters per screen, minus the navigation footer
OVERLAYS = ("egyptian", "gulf")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


def _po_paths(name: str) -> list[Path]:
    return sorted((LOCALE_DIR / name / "LC_MESSAGES").glob("*.po"))


def _read(name: str) -> dict[str, str]:
    """Each message by key; a counted (plural) one by its last, general form (the plural
    forms themselves are checked in tests/unit/test_plurals.py)."""
    messages: dict[str, str] = {}
    for path in _po_paths(name):
        with path.open("rb") as fh:
            for m in read_po(fh):
                if not m.id:
                    continue
                plural = isinstance(m.id, tuple)
                key = m.id[0] if plural else m.id
                messages[str(key)] = str(m.string[-1] if plural else m.string)
    return messages


def placeholders(message: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(message) if field is not None}


AR = _read("ar")
EN = _read("en")


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ar", "en", "ar@egyptian", "ar@gulf"])
def test_catalogue_file_has_no_empty_or_duplicate_entries(name: str) -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in _po_paths(name))
    ids = re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE)
    assert ids, name
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    messages = _read(name)
    assert set(messages) == set(ids)
    assert all(messages.values()), [k for k, v in messages.items() if not v]


# --- keys ------------------------------------------------------------------------------------


def test_arabic_and_english_have_the_same_keys() -> None:
    assert set(AR) - set(EN) == set()
    assert set(EN) - set(AR) == set()


def test_catalogue_function_agrees_with_the_files() -> None:
    assert catalogue("ar") == AR
    assert catalogue("en") == EN


@pytest.mark.parametrize("reason", list(RefusalReason))
@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_refusal_reason_has_a_message(reason: RefusalReason, language: str) -> None:
    assert f"refusal.{reason.value}" in catalogue(language)


@pytest.mark.parametrize("problem", list(CodeProblem))
@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_code_problem_has_a_message(problem: CodeProblem, language: str) -> None:
    assert f"code.{problem.value}" in catalogue(language)


@pytest.mark.parametrize("dialect", OVERLAYS)
def test_overlays_only_reword_base_keys(dialect: str) -> None:
    overlay = _read(f"ar@{dialect}")
    assert overlay, dialect
    assert set(overlay) <= set(AR), set(overlay) - set(AR)
    for key, message in overlay.items():
        assert placeholders(message) == placeholders(AR[key]), key
        assert message != AR[key], f"{key} repeats the MSA wording"


@pytest.mark.parametrize("key", sorted(AR))
def test_placeholders_match_between_arabic_and_english(key: str) -> None:
    assert placeholders(AR[key]) == placeholders(EN[key])


# --- translate -----------------------------------------------------------------------------


def test_translate_fills_placeholders() -> None:
    assert (
        translate("receipt.summary", "ar", amount="١٥٠٫٠٠ ج.م.", receipt="EG261124ABCDEF12")
        == "تم الدفع: ١٥٠٫٠٠ ج.م.\nرقم الإيصال EG261124ABCDEF12"
    )
    assert translate("code.code_wrong_length", "ar", length=12) == "كود السداد 12 رقما."
    assert translate("code.code_wrong_length", "en", length=12) == (
        "The payment code has 12 digits."
    )
    assert translate("refusal.invalid_months", "en", min=2, max=24) == (
        "Installments run from 2 to 24 months."
    )


def test_translate_without_placeholders() -> None:
    assert translate("quote.no_refund", "ar") == "لا يسترد"
    assert translate("quote.no_refund", "en") == "Payments cannot be refunded."


def test_translate_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        translate("refusal.no_such_reason", "ar")
    with pytest.raises(KeyError):
        translate("refusal.no_such_reason", "en")


def test_translate_missing_placeholder_raises() -> None:
    with pytest.raises(KeyError):
        translate("receipt.summary", "ar", amount="١٥٠")


def test_translate_unsupported_language() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        translate("quote.no_refund", "fr")


def test_dialects() -> None:
    assert translate("refusal.quote_expired", "ar") == "انتهت مهلة التأكيد. ابدأ الدفع من جديد."
    assert translate("refusal.quote_expired", "ar", "egyptian") == (
        "الوقت خلص قبل التأكيد. ابدأ الدفع تاني."
    )
    assert translate("refusal.quote_expired", "ar", "gulf") == (
        "خلص الوقت قبل التأكيد. ابدأ الدفع من جديد."
    )
    # Keys an overlay does not reword fall back to the MSA base.
    assert translate("quote.no_refund", "ar", "egyptian") == "لا يسترد"
    assert translate("quote.no_refund", "ar", "gulf") == "لا يسترد"
    # English has no dialects.
    assert translate("refusal.quote_expired", "en", "egyptian") == (
        "Time to confirm ran out. Please start again."
    )


@pytest.mark.parametrize("dialect", OVERLAYS)
def test_merged_dialect_catalogue_has_every_base_key(dialect: str) -> None:
    assert set(catalogue("ar", dialect)) == set(AR)


# --- Arabic text fits a USSD screen --------------------------------------------------------


def _worst_amount() -> str:
    shown = []
    for profile_id in available_profiles():
        profile = load_profile(profile_id)
        exponent = {"EGP": 2, "SAR": 2, "KWD": 3}[profile.currency]
        largest = Money(10**9 * 10**exponent - 1, profile.currency)  # 999,999,999.99(9)
        for digits in ("arab", "latn"):
            shown.append(format_money(largest, profile.locale, digits))
    return max([*shown, "٩" * 20], key=len)


def _longest_area() -> str:
    return max((a for p in available_profiles() for a in load_profile(p).areas), key=len)


WORST = {
    "amount": _worst_amount(),
    "minimum": _worst_amount(),
    "due": _worst_amount(),
    "receipt": "EG261124ABCDEF12",  # billing.ledger: profile id + yymmdd + 8 hex digits
    "length": "20",  # PaymentCodeFormat allows up to 20 digits
    "account": "12",  # AccountNumberFormat allows up to 12 digits
    "min": "24",
    "max": "120",
    "payee": "عبدالرحمن ع. م. ع. ا.",
    "area": _longest_area(),
    "months": "أغسطس ٢٠٢٦ - أكتوبر ٢٠٢٦",
    "count": "24",
    "installment": _worst_amount(),
    "ticket": "12345678",
    "date": "٣١/١٢/٢٠٢٦",
    "status": "قيد المعالجة",
    "code": "********2241",
    "previous": "999999999",
    "value": "999999999",
    "consumption": "999999999",
    "kind": "الكهرباء",
    "line": "920001100",
    "month": "سبتمبر ٢٠٢٦",
    "ussd": "*153#",
    "wa": "wa.me/966920001100",
    "utility": "وزارة الكهرباء والماء والطاقة المتجددة",
    "time": "٢٣:٥٩",
    "hours": "999",
    "minutes": "59",
}
# Language-choice lines are bilingual on purpose, and some lines are only values.
BILINGUAL = frozenset({"lang.prompt", "lang.arabic", "lang.english", "main.language"})


def _only_placeholders(message: str) -> bool:
    return not re.search(r"\w", re.sub(r"\{[a-z_]+(?::[a-z_.]+)?\}", "", message))


def test_worst_case_values_are_at_least_as_long_as_the_brief() -> None:
    assert len(WORST["amount"]) >= 20
    assert len(WORST["receipt"]) >= 12
    assert len(WORST["area"]) >= 17


ARABIC_CATALOGUES = [("msa", key) for key in sorted(AR)] + [
    (dialect, key) for dialect in OVERLAYS for key in sorted(_read(f"ar@{dialect}"))
]


@pytest.mark.parametrize(("dialect", "key"), ARABIC_CATALOGUES)
def test_arabic_message_is_arabic(dialect: str, key: str) -> None:
    message = catalogue("ar", dialect)[key]
    if key in BILINGUAL or _only_placeholders(message):
        return
    assert ARABIC_LETTER.search(message), message


@pytest.mark.parametrize(("dialect", "key"), ARABIC_CATALOGUES)
def test_arabic_message_fits_a_ussd_line_with_worst_case_values(dialect: str, key: str) -> None:
    message = catalogue("ar", dialect)[key]
    if key.startswith(("ivr.", "notice.")):
        return  # spoken on calls, or SMS/WhatsApp notices (budgeted in tests/unit/test_notices.py)
    params = {name: WORST[name] for name in placeholders(message)}
    filled = translate(key, "ar", dialect, **params)
    for line in filled.split("\n"):
        assert len(line) <= USSD_LINE_BUDGET, f"{len(line)} characters: {line!r}"


@pytest.mark.parametrize("key", sorted(EN))
def test_english_message_is_english(key: str) -> None:
    if key in BILINGUAL or _only_placeholders(EN[key]):
        return
    assert not ARABIC_LETTER.search(EN[key])
    assert re.search(r"[A-Za-z]", EN[key])
