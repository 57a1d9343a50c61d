"""Translation catalogues: every user-facing string, Arabic first, English second.

Catalogues are gettext .po files read with babel (no compile step). Arabic has a Modern
Standard base (`ar`) and dialect overlays (`ar@egyptian`, `ar@gulf`) holding only the
keys whose wording differs; a profile's dialect picks the overlay.

Counted nouns use gettext plural forms, in the order of babel's plural rules for the
language (CLDR): Arabic has six (zero, one, two, few, many, other: "٠ يوم", "يوم واحد",
"يومان", "٣ أيام", "١١ يوما", "١٠٠ يوم"), English two (one, other). Each .po
header says so (`Plural-Forms: nplurals=6; …`). Two conventions tell a renderer what counts:

- A counted message is a plural entry whose `msgid_plural` names the param holding the
  number, as a placeholder: `msgid "installments.plan"`, `msgid_plural "{count}"`,
  `msgstr[0]` … `msgstr[5]`. The form is picked from that param's number, so a translator
  writes whole sentences and gets case and agreement right ("تم التقسيط على قسطين").
- A message with a second counted noun names a counted phrase in that field's format spec:
  `{account:count.digits}` is the plural entry `count.digits` (param `count`) filled with the
  number in `account` ("رقم الحساب (٦ أرقام)"). The `count.*` phrases are nominative: the
  message puts them where the noun is a subject or stands alone ("والمهلة ساعتان").

Numbers come as ints (the renderers pass the Text's own params) or, in `translate`, as digit
strings in any script ("١٢"). An Arabic counted entry flagged `#, feminine` counts a feminine
noun (ساعة، دقيقة، مرة، فاتورة): a voice says its number in the feminine ("سبع ساعات").
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("ar", "en")
# CLDR's plural categories in gettext's msgstr[] order (those a language has, "other" last).
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Counted:
    """A plural entry: `forms` in the language's plural order, picked by the number in the
    param `counts` (named by the entry's msgid_plural)."""

    counts: str
    forms: tuple[str, ...]
    feminine: bool = False

    @property
    def general(self) -> str:
        """The "other" form: it holds every placeholder, so it stands for the message where
        only its wording matters (keys, placeholders, lengths)."""
        return self.forms[-1]


Entry = str | Counted
# How a voice says a counted number: the number and whether its noun is feminine.
SayCount = Callable[[int, bool], str]


@cache
def plural_categories(language: str) -> tuple[str, ...]:
    """The language's plural categories in msgstr[] order: ("one", "other") for English."""
    tags = Locale.parse(language).plural_form.tags | {"other"}
    return tuple(category for category in PLURAL_CATEGORIES if category in tags)


@lru_cache(maxsize=4096)
def plural_index(language: str, count: int) -> int:
    """Which msgstr[] of a counted message says `count` (babel's plural rule)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"a count is a whole number of at least 0, got {count!r}")
    category = Locale.parse(language).plural_form(count)
    return plural_categories(language).index(category)


def _counted_param(msgid_plural: str, key: str) -> str:
    names = [field for _, field, _, _ in _FORMATTER.parse(msgid_plural) if field is not None]
    if len(names) != 1 or msgid_plural != "{" + names[0] + "}" or not names[0].isidentifier():
        raise ValueError(f"{key!r}: msgid_plural must name the counting param, like {{count}}")
    return names[0]


def _read_catalogue(name: str) -> dict[str, Entry]:
    """Every .po file of one language merged (`tasdeed.po` for flows, `rules.po` for the
    utility rules' explanations, …); a key defined twice is a bug."""
    language = name.split("@")[0]
    expected = len(plural_categories(language))
    merged: dict[str, Entry] = {}
    for path in sorted((LOCALE_DIR / name / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id or not message.string:
                continue
            entry: Entry
            if isinstance(message.id, tuple):
                key = str(message.id[0])
                forms = tuple(str(form) for form in message.string)
                if catalog.num_plurals != expected or len(forms) != expected or not all(forms):
                    raise ValueError(
                        f"{path.name}: {key!r} needs {expected} plural forms "
                        f"(header nplurals={catalog.num_plurals}, {len(forms)} given)"
                    )
                counts = _counted_param(str(message.id[1]), key)
                entry = Counted(counts, forms, feminine="feminine" in message.flags)
            else:
                key = str(message.id)
                entry = str(message.string)
            if key in merged:
                raise ValueError(f"{key!r} is defined twice in the {name} catalogues")
            merged[key] = entry
    return merged


@cache
def entries(language: str, dialect: str = "msa") -> dict[str, Entry]:
    """Every message of a language and dialect: plain strings and counted entries."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    merged = _read_catalogue(language)
    if language == "ar" and dialect != "msa":
        merged = merged | _read_catalogue(f"ar@{dialect}")
    return merged


@cache
def catalogue(language: str, dialect: str = "msa") -> dict[str, str]:
    """The merged messages for a language ("ar"/"en") and, for Arabic, a dialect; a counted
    message is given by its general ("other") form."""
    return {
        key: entry.general if isinstance(entry, Counted) else entry
        for key, entry in entries(language, dialect).items()
    }


def counted_param(key: str, language: str, dialect: str = "msa") -> str | None:
    """The param whose number picks the form of `key`, or None when `key` is not counted."""
    entry = entries(language, dialect)[key]
    return entry.counts if isinstance(entry, Counted) else None


def _number(value: object, key: str, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        digits = value.replace(",", "").replace("٬", "")
        if digits.isdecimal():
            return int(digits)  # int() reads every script's digits: "١٢" is 12
    raise ValueError(f"{key!r} counts with {{{name}}}, which must be a number, got {value!r}")


@lru_cache(maxsize=8192)
def _has_phrases(message: str) -> bool:
    """Whether a message names a counted phrase in a field (`{max:count.hours}`)."""
    return any(spec for _, name, spec, _ in _FORMATTER.parse(message) if name is not None)


def fill(
    key: str,
    language: str,
    dialect: str,
    shown: Mapping[str, object],
    numbers: Mapping[str, int] | None = None,
    say: SayCount | None = None,
) -> str:
    """The message for `key` with `shown` in its placeholders. The form of a counted message,
    and every `{name:count.…}` phrase, follow the number of their param: from `numbers` when
    given there (a renderer shows "اثنا عشر" for 12), else read from `shown`. `say`, when
    given, says each counted number of `numbers` in words agreeing with its noun."""
    numbers = numbers or {}
    messages = entries(language, dialect)
    entry = messages[key]

    def number(name: str) -> int:
        return numbers[name] if name in numbers else _number(shown[name], key, name)

    if isinstance(entry, Counted):
        message = entry.forms[plural_index(language, number(entry.counts))]
        if say is not None and entry.counts in numbers:
            shown = {**shown, entry.counts: say(numbers[entry.counts], entry.feminine)}
    else:
        message = entry
    if not _has_phrases(message):
        return message.format_map(shown)  # the common case, at bill-day rates
    parts: list[str] = []
    for literal, name, spec, conversion in _FORMATTER.parse(message):
        parts.append(literal)
        if name is None:
            continue
        if conversion or not name.isidentifier():
            raise ValueError(f"{key!r}: placeholders are plain names, got {{{name}}}")
        if spec:
            phrase = messages.get(spec)
            if not isinstance(phrase, Counted) or phrase.counts != "count":
                raise ValueError(f"{key!r}: {{{name}:{spec}}} names no counted phrase")
            count = number(name)
            said = say(count, phrase.feminine) if say is not None and name in numbers else None
            parts.append(
                fill(spec, language, dialect, {"count": said or shown[name]}, {"count": count})
            )
        else:
            parts.append(str(shown[name]))
    return "".join(parts)


def translate(key: str, language: str, dialect: str = "msa", **params: object) -> str:
    """The message for `key`, with `{name}` placeholders filled. Unknown keys raise KeyError:
    a missing translation is a bug the catalogue tests catch, never a blank screen. A counted
    message takes its form from the number in its counting param."""
    return fill(key, language, dialect, params)


def translate_count(
    key: str, count: int, language: str, dialect: str = "msa", /, **params: object
) -> str:
    """A counted message in the form for `count`, its placeholders filled with `params` as
    they are to be shown (the counted one included, in whatever digits or words)."""
    counts = counted_param(key, language, dialect)
    if counts is None:
        raise KeyError(f"{key!r} is not a counted message")
    return fill(key, language, dialect, params, {counts: count})
