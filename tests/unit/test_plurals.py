"""Counted nouns in every catalogue: gettext plural forms by babel's plural rules.

Arabic has six forms (zero, one, two, few, many, other), English two; "٦ قسطا" must read
"٦ أقساط", "(١٠ رقما)" "(١٠ أرقام)" and "والمهلة 2 ساعة" "والمهلة ساعتان". Every counted
message is rendered here for 0, 1, 2, 3, 11, 100 and 101 in every catalogue, and through the
renderers, which take the form from the number in the Text's own params.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from ivr.voice import VoiceRenderer
from tasdeed.flows.text_render import TextRenderer
from tasdeed.i18n import (
    LOCALE_DIR,
    Counted,
    catalogue,
    counted_param,
    entries,
    plural_categories,
    plural_index,
    translate,
    translate_count,
)
from tasdeed.money import Money
from tasdeed.notices.text import _renderer as notice_renderer
from tasdeed.profile import load_profile
from tasdeed.text import Text

NUMBERS = (0, 1, 2, 3, 11, 100, 101)
CATALOGUES = [("ar", "msa"), ("ar", "egyptian"), ("ar", "gulf"), ("en", "msa")]
USSD_LINE_BUDGET = 75
# Values for the placeholders that are not counts (long ones: lines must still fit).
OTHER_VALUES = {
    "amount": "٩٬٩٩٩٬٩٩٩٬٩٩٩٫٩٩ ج.م.",
    "installment": "٩٬٩٩٩٬٩٩٩٬٩٩٩٫٩٩ ج.م.",
    "date": "٣١/١٢/٢٠٢٦",
    "time": "٢٣:٥٩",
    "count": "٩٩ ساعة و٥٩ دقيقة",  # a duration, where {count} is not the counted param
}


def _fields(message: str) -> list[tuple[str, str]]:
    return [(name, spec) for _, name, spec, _ in string.Formatter().parse(message) if name]


def _counted_keys(language: str, dialect: str) -> list[str]:
    """Messages with a plural form or a `{name:count.…}` phrase."""
    return sorted(
        key
        for key, entry in entries(language, dialect).items()
        if isinstance(entry, Counted) or any(spec for _, spec in _fields(entry))
    )


def _numeric(key: str, language: str, dialect: str) -> set[str]:
    entry = entries(language, dialect)[key]
    forms = entry.forms if isinstance(entry, Counted) else (entry,)
    numeric = {name for form in forms for name, spec in _fields(form) if spec}
    if isinstance(entry, Counted):
        numeric.add(entry.counts)
    return numeric


# --- the .po files -------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")), ids=str)
def test_every_po_header_states_babels_plural_forms(path: Path) -> None:
    language = path.parts[-3].split("@")[0]
    with path.open("rb") as fh:
        catalog = read_po(fh)
    expected = get_plural(language)
    assert catalog.num_plurals == expected.num_plurals == len(plural_categories(language))
    assert f"nplurals={expected.num_plurals}; plural={expected.plural_expr};" in path.read_text(
        encoding="utf-8"
    )


def test_plural_order_is_babels() -> None:
    assert plural_categories("ar") == ("zero", "one", "two", "few", "many", "other")
    assert plural_categories("en") == ("one", "other")
    arabic = Locale.parse("ar").plural_form
    for n in (*NUMBERS, 102, 111, 1000):
        assert plural_categories("ar")[plural_index("ar", n)] == arabic(n)
    assert [plural_index("en", n) for n in (0, 1, 2)] == [1, 0, 1]


@pytest.mark.parametrize(("language", "dialect"), CATALOGUES)
def test_counted_entries_are_well_formed(language: str, dialect: str) -> None:
    messages = entries(language, dialect)
    counted = [key for key, entry in messages.items() if isinstance(entry, Counted)]
    assert len(counted) >= 25, counted  # the catalogues really count their nouns
    for key in counted:
        entry = messages[key]
        assert isinstance(entry, Counted)
        assert len(entry.forms) == len(plural_categories(language)), key
        general = {name for name, _ in _fields(entry.general)}
        assert entry.counts in general, key
        for form in entry.forms:
            assert {name for name, _ in _fields(form)} <= general, (key, form)
    for key in _counted_keys(language, dialect):
        entry = messages[key]
        for form in entry.forms if isinstance(entry, Counted) else (entry,):
            for _, spec in _fields(form):
                if spec:
                    phrase = messages.get(spec)
                    assert isinstance(phrase, Counted), (key, spec)
                    assert spec.startswith("count.") and phrase.counts == "count", (key, spec)


def test_both_languages_count_the_same_messages_by_the_same_param() -> None:
    arabic = {k: e.counts for k, e in entries("ar").items() if isinstance(e, Counted)}
    english = {k: e.counts for k, e in entries("en").items() if isinstance(e, Counted)}
    assert arabic == english


def test_overlays_count_by_the_base_param() -> None:
    for dialect in ("egyptian", "gulf"):
        for key, entry in entries("ar", dialect).items():
            if isinstance(entry, Counted):
                assert counted_param(key, "ar") == entry.counts, (dialect, key)


# --- every counted message, every catalogue, every kind of number ------------------------------


CASES = [
    (language, dialect, key)
    for language, dialect in CATALOGUES
    for key in _counted_keys(language, dialect)
]


@pytest.mark.parametrize(("language", "dialect", "key"), CASES)
def test_every_counted_message_renders_for_every_kind_of_number(
    language: str, dialect: str, key: str
) -> None:
    numeric = _numeric(key, language, dialect)
    names = {name for name, _ in _fields(catalogue(language, dialect)[key])}
    for n in NUMBERS:
        params: dict[str, object] = {name: OTHER_VALUES.get(name, "٢٤") for name in names}
        params |= dict.fromkeys(numeric, n)
        shown = translate(key, language, dialect, **params)
        assert "{" not in shown and "}" not in shown, shown
        if language == "ar" and not key.startswith(("ivr.", "notice.", "sim.")):
            for line in shown.split("\n"):
                assert len(line) <= USSD_LINE_BUDGET, f"{len(line)}: {line!r}"


KNOWN = [
    # (language, dialect, key, params, expected within the text)
    ("ar", "msa", "installments.plan", {"count": 6}, "تم التقسيط على 6 أقساط،"),
    ("ar", "msa", "installments.plan", {"count": 1}, "تم التقسيط على قسط واحد،"),
    ("ar", "msa", "installments.plan", {"count": 2}, "تم التقسيط على قسطين،"),
    ("ar", "msa", "installments.plan", {"count": 12}, "تم التقسيط على 12 قسطا،"),
    ("ar", "msa", "installments.plan", {"count": 100}, "تم التقسيط على 100 قسط،"),
    ("ar", "egyptian", "installments.plan", {"count": 6}, "اتقسطت على 6 أقساط،"),
    ("ar", "egyptian", "installments.plan", {"count": 12}, "اتقسطت على 12 قسط،"),
    ("ar", "gulf", "installments.plan", {"count": 2}, "قسطناها على قسطين،"),
    ("ar", "msa", "ask.code", {"length": 10}, "أدخل كود السداد (10 أرقام)"),
    ("ar", "msa", "ask.code", {"length": 12}, "أدخل كود السداد (12 رقما)"),
    ("ar", "msa", "ask.ticket", {"length": 8}, "أدخل رقم الشكوى (8 أرقام)"),
    ("ar", "msa", "ask.ticket", {"length": 11}, "أدخل رقم الشكوى (11 رقما)"),
    ("ar", "msa", "code.code_wrong_length", {"length": 2}, "كود السداد من رقمين."),
    ("ar", "msa", "resume.prove", {"count": 4}, "آخر 4 أرقام من كود السداد"),
    ("ar", "msa", "resume.prove", {"count": 1}, "آخر رقم من كود السداد"),
    ("ar", "msa", "refusal.invalid_months", {"min": 2, "max": 24}, "من 2 إلى 24 شهرا."),
    ("ar", "msa", "refusal.invalid_months", {"min": 1, "max": 2}, "من 1 إلى شهرين."),
    ("ar", "msa", "refusal.invalid_months", {"min": 2, "max": 6}, "من 2 إلى 6 أشهر."),
    (
        "ar",
        "msa",
        "ask.code_or_account",
        {"length": 12, "account": 6},
        "(12 رقما) أو رقم الحساب (6 أرقام)",
    ),
    ("ar", "msa", "ask.code_or_account", {"length": 10, "account": 12}, "الحساب (12 رقما)"),
    (
        "ar",
        "msa",
        "rules.sa.reconnection",
        {"count": "3 ساعات", "max": 2, "amount": "100.00 ر.س."},
        "المدة 3 ساعات، والمهلة ساعتان.",
    ),
    ("ar", "msa", "rules.kw.block.missed", {"count": 3, "max": 3}, "فات سداد 3 أقساط متتالية"),
    ("ar", "msa", "rules.eg.prepaid.flagged", {"count": 2, "max": 2}, "عليك فاتورتان غير"),
    ("ar", "msa", "rules.eg.prepaid.clear", {"count": 0, "max": 3}, "ليس عليك فواتير غير مسددة."),
    ("ar", "msa", "count.hours", {"count": 7}, "7 ساعات"),
    ("ar", "msa", "count.minutes", {"count": 45}, "45 دقيقة"),
    ("ar", "msa", "count.days", {"count": 2}, "يومان"),
    ("ar", "msa", "sim.op.live", {"min": 5}, "الجلسات الحية: آخر 5 دقائق"),
    ("en", "msa", "ask.code", {"length": 1}, "Enter the payment code (1 digit)"),
    ("en", "msa", "ask.code", {"length": 12}, "Enter the payment code (12 digits)"),
    ("en", "msa", "installments.plan", {"count": 1}, "Plan of 1 installment of"),
    ("en", "msa", "count.hours", {"count": 1}, "1 hour"),
    ("en", "msa", "sim.op.live", {"min": 1}, "Live sessions: last minute"),
]


@pytest.mark.parametrize(("language", "dialect", "key", "params", "expected"), KNOWN)
def test_known_noun_forms(
    language: str, dialect: str, key: str, params: dict[str, object], expected: str
) -> None:
    names = {name for name, _ in _fields(catalogue(language, dialect)[key])}
    filled = {name: OTHER_VALUES.get(name, "x") for name in names} | params
    assert expected in translate(key, language, dialect, **filled)


def test_counts_may_be_digits_in_any_script() -> None:
    assert translate("ask.code", "ar", length="١٠") == "أدخل كود السداد (١٠ أرقام)"
    assert translate("ask.code", "ar", length="١٢") == "أدخل كود السداد (١٢ رقما)"


def test_translate_count_takes_the_number_apart_from_how_it_is_shown() -> None:
    assert translate_count("ask.code", 12, "ar", "msa", length="اثنا عشر") == (
        "أدخل كود السداد (اثنا عشر رقما)"
    )
    assert translate_count("installments.plan", 2, "ar", "msa", count="٢", installment="X") == (
        "تم التقسيط على قسطين، القسط X"
    )
    with pytest.raises(KeyError, match="not a counted message"):
        translate_count("quote.no_refund", 1, "ar")


def test_a_count_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a number"):
        translate("ask.code", "ar", length="twelve")
    with pytest.raises(ValueError, match="at least 0"):
        translate("ask.code", "ar", length=-1)


# --- the renderers pick the form from the Text's params ------------------------------------------


def _msa(profile_id: str):  # type: ignore[no-untyped-def]
    return load_profile(profile_id).model_copy(update={"dialect": "msa"})


def test_text_renderer_picks_the_form_from_the_texts_number() -> None:
    eg = load_profile("eg")  # Arabic-Indic digits, Egyptian overlay
    plan = Text("installments.plan", {"count": 6, "installment": Money(50000, "EGP")})
    assert TextRenderer(eg, "ar").text(plan) == "اتقسطت على ٦ أقساط، القسط ٥٠٠٫٠٠ ج.م."
    assert TextRenderer(_msa("eg"), "ar").text(plan) == "تم التقسيط على ٦ أقساط، القسط ٥٠٠٫٠٠ ج.م."
    assert TextRenderer(eg, "en").text(plan) == "Plan of 6 installments of EGP500.00"
    ask = Text("ask.code", {"length": 10})
    assert TextRenderer(load_profile("kw"), "ar").text(ask) == "أدخل كود السداد (١٠ أرقام)"
    both = Text("ask.code_or_account", {"length": 12, "account": 6})
    assert TextRenderer(eg, "ar").text(both).endswith("(١٢ رقما) أو رقم الحساب (٦ أرقام)")
    # A nested Text counts with its own number.
    hours = Text("count.hours", {"count": 2})
    late = Text("rules.sa.reconnection", {"count": hours, "max": 2, "amount": Money(1, "SAR")})
    assert "المدة ساعتان، والمهلة ساعتان." in TextRenderer(load_profile("sa"), "ar").text(late)


def test_voice_renderer_picks_the_form_though_it_says_numbers_in_words() -> None:
    voice = VoiceRenderer(_msa("eg"), "ar")
    plan = Text("installments.plan", {"count": 12, "installment": Money(50000, "EGP")})
    assert voice.text(plan).startswith("تم التقسيط على اثنا عشر قسطا، القسط")
    assert voice.text(Text("ask.code", {"length": 2})) == "أدخل كود السداد (رقمان)"
    # Said in words, the number agrees with its noun's gender (ساعة is feminine, قسط not).
    six = Text("installments.plan", {"count": 6, "installment": Money(50000, "EGP")})
    assert voice.text(six).startswith("تم التقسيط على ستة أقساط،")
    sa = VoiceRenderer(load_profile("sa"), "ar")
    assert sa.text(Text("count.hours", {"count": 7})) == "سبع ساعات"
    late = Text("rules.sa.reconnection", {"count": Text("count.hours", {"count": 3}), "max": 12})
    assert "المدة ثلاث ساعات، والمهلة اثنتا عشرة ساعة." in sa.text(
        Text(late.key, {**late.params, "amount": Money(10000, "SAR")})
    )
    english = VoiceRenderer(load_profile("eg"), "en")
    assert english.text(Text("ask.code", {"length": 1})) == "Enter the payment code (one digit)"


def test_notices_render_counted_texts_like_every_other_screen() -> None:
    renderer = notice_renderer(load_profile("kw"), "ar")
    assert renderer.text(Text("count.bills", {"count": 3})) == "٣ فواتير"
    assert renderer.text(Text("count.bills", {"count": 2})) == "فاتورتان"


def test_the_simulator_page_gets_every_form_of_its_counted_words() -> None:
    from gateway.page_shell import plurals as _plurals

    forms = _plurals("ar")["ussd.counter"]
    assert forms["counts"] == "max"
    assert forms["forms"]["many"] == "{count} من {max} حرفا"
    assert forms["forms"]["other"] == "{count} من {max} حرف"
    assert set(_plurals("en")["op.live"]["forms"]) == {"one", "other"}


def test_no_catalogue_says_a_number_with_the_wrong_noun_any_more() -> None:
    """The reported phrases: a number before a plural or accusative noun that only some
    numbers take, written into a message that any number could fill."""
    wrong = re.compile(r"\{\w+\} (قسطا|رقما|شهرا|يوما|أقساط|أرقام|أشهر|أيام|ساعات|دقائق)")
    for language, dialect in CATALOGUES:
        for key, entry in entries(language, dialect).items():
            if isinstance(entry, str):
                assert not wrong.search(entry), (dialect, key, entry)
