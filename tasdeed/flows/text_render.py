"""Screens as plain text, for channels that show text (USSD pages, SMS, chat).

Money in the profile's locale and digits with babel (marks stripped, they cost characters);
identifiers (codes, tickets, receipts) keep their digits in the profile's style; months as
names. Voice has its own renderer (amounts in words, codes digit by digit).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel.dates import format_date

from tasdeed.flows.screens import Screen
from tasdeed.i18n import SayCount, fill
from tasdeed.money import Money, babel_locale, format_money
from tasdeed.normalise import localise_digits, strip_invisible
from tasdeed.profile import Profile
from tasdeed.text import DigitString, Months, Param, Text


class TextRenderer:
    def __init__(self, profile: Profile, language: str):
        self.profile = profile
        self.language = language
        self.locale = profile.locale_for(language)
        self.digits = profile.digits if language == "ar" else "latn"

    def _digits(self, text: str) -> str:
        return localise_digits(text, self.digits)

    def _month(self, month: str, pattern: str) -> str:
        return _month_name(month, pattern, self.locale, self.digits)

    def value(self, param: Param) -> str:
        if isinstance(param, Money):
            return format_money(param, self.locale, self.digits, plain=True)
        if isinstance(param, DigitString):
            digits = param.digits
            return self._digits(digits) if digits.isascii() and digits.isdigit() else digits
        if isinstance(param, Months):
            months = param.months
            if not months:
                return ""
            single, several = ("MMMM", "MMM") if param.short else ("MMMM y", "MMM y")
            if len(months) == 1:
                return self._month(months[0], single)
            return f"{self._month(months[0], several)} - {self._month(months[-1], several)}"
        if isinstance(param, Text):
            return self.text(param)
        if isinstance(param, int):
            return self._digits(str(param))
        if looks_like_iso_date(param):
            return _short_date(param, self.digits)
        if looks_like_clock_time(param):
            return self._digits(param)
        return param

    def text(self, text: Text) -> str:
        """The Text in words. A counted message (and each `{name:count.…}` phrase in it)
        takes its plural form from the number in the Text's own param, whatever digits or
        words show it (tasdeed.i18n)."""
        values = {name: self.value(param) for name, param in text.params.items()}
        numbers = {
            name: param
            for name, param in text.params.items()
            if isinstance(param, int) and not isinstance(param, bool)
        }
        return fill(text.key, self.language, self.profile.dialect, values, numbers, self.say_count)

    # Figures have no gender; a voice's words do (tasdeed.i18n.SayCount).
    say_count: SayCount | None = None

    def body_lines(self, screen: Screen) -> list[str]:
        lines = [self.text(screen.error)] if screen.error else []
        lines.extend(self.text(part) for part in screen.body)
        return lines

    def option_lines(self, screen: Screen) -> list[str]:
        # Keys stay in Latin digits: they name the keypad buttons a person presses.
        return [f"{o.choice} {self.text(o.label)}" for o in screen.options]


# A few dozen distinct months and dates recur across a bill cycle's millions of messages.
@lru_cache(maxsize=4096)
def _month_name(month: str, pattern: str, locale: str, digits: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    shown = format_date(date(year, number, 1), pattern, locale=babel_locale(locale))
    return localise_digits(strip_invisible(shown), digits)


@lru_cache(maxsize=4096)
def _short_date(iso: str, digits: str) -> str:
    return localise_digits(format_date(date.fromisoformat(iso), "d/M/y", locale="en"), digits)


def looks_like_iso_date(value: str) -> bool:
    return (
        len(value) == 10
        and value[4] == "-"
        and value[7] == "-"
        and value.replace("-", "").isascii()
        and value.replace("-", "").isdigit()
    )


def looks_like_clock_time(value: str) -> bool:
    """A local time of day as the rules give it ("07:30"), shown in the profile's digits."""
    return (
        len(value) == 5
        and value[2] == ":"
        and value.replace(":", "").isascii()
        and value.replace(":", "").isdigit()
    )
