"""Opt-out and opt-in keywords for SMS and WhatsApp: a message that is only the keyword.

Only the unambiguous words: "cancel" and "إلغاء" already mean "cancel this payment" inside a
conversation, so they are not opt-out words here.
"""

from __future__ import annotations

from typing import Literal

from tasdeed.normalise import normalise_input

ConsentChange = Literal["opt_out", "opt_in"]

# Written as normalise_input leaves them (hamza on alef dropped, ة → ه).
_OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "ايقاف", "اوقف", "وقف", "ايقاف الرسائل"})
_OPT_IN = frozenset({"start", "unstop", "subscribe", "اشتراك", "اشترك", "تفعيل", "تفعيل الرسائل"})


def consent_keyword(text: str) -> ConsentChange | None:
    """The change a raw message asks for, if it is only an opt-out or opt-in word."""
    return consent_in_normalised(normalise_input(text).text)


def consent_in_normalised(text: str) -> ConsentChange | None:
    """The same for text `normalise_input` already produced (a channel that has it)."""
    words = text.casefold().strip(" .!؟?")
    if words in _OPT_OUT:
        return "opt_out"
    if words in _OPT_IN:
        return "opt_in"
    return None
