"""Screens spoken: sentences for the caller's language, and the TwiML that says them.

Amounts are spoken in words (the core's tested Arabic and English spelling: num2words gets
KWD wrong), identifiers digit by digit, dates with month names. TwiML is built only with the
twilio library's VoiceResponse, Gather, Say, Redirect, Dial and Hangup.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from twilio.twiml.voice_response import Gather, VoiceResponse

from tasdeed.amount_words import (
    amount_in_words_ar,
    amount_in_words_en,
    number_in_words_ar,
    number_in_words_en,
)
from tasdeed.flows.screens import Expects, Screen
from tasdeed.flows.text_render import TextRenderer, looks_like_iso_date
from tasdeed.i18n import translate
from tasdeed.money import Money
from tasdeed.profile import Profile
from tasdeed.text import DigitString, Months, Param, Text

SILENCE_TIMEOUT_S = 6
DATA_TIMEOUT_S = 10


def spell_out(identifier: str, language: str) -> str:
    """ "EG2611" → "E G 2 6 1 1": each character on its own, with pauses."""
    separator = "، " if language == "ar" else ", "
    return separator.join(identifier)


# Screen texts kept short for an 80-character USSD page that a call says in full.
SPOKEN_IN_FULL = {"quote.no_refund": "ivr.no_refund"}


class VoiceRenderer(TextRenderer):
    def __init__(self, profile: Profile, language: str):
        super().__init__(profile, language)
        self.digits = "latn"  # voices read Latin digits in every language
        if language == "ar":
            # A counted noun's number agrees with it: "سبع ساعات", "ستة أقساط".
            self.say_count = _say_count_ar

    def text(self, text: Text) -> str:
        if text.key in SPOKEN_IN_FULL:
            text = Text(SPOKEN_IN_FULL[text.key], text.params)
        return super().text(text)

    def value(self, param: Param) -> str:
        if isinstance(param, Months) and param.short:
            # A call has room for the year.
            param = Months(param.months)
        return self._value(param)

    def _value(self, param: Param) -> str:
        if isinstance(param, Money):
            spell = amount_in_words_ar if self.language == "ar" else amount_in_words_en
            return spell(param.minor, param.currency)
        if isinstance(param, DigitString):
            return spell_out(param.digits, self.language)
        if isinstance(param, int) and not isinstance(param, bool) and 0 <= param < 10**12:
            return number_in_words_ar(param) if self.language == "ar" else number_in_words_en(param)
        if isinstance(param, str) and looks_like_iso_date(param):
            return format_date(date.fromisoformat(param), "d MMMM y", locale=self.locale)
        return super().value(param)

    def sentences(self, screen: Screen, extra: tuple[Text, ...] = ()) -> list[str]:
        spoken = [self.text(part) for part in extra] + self.body_lines(screen)
        for option in screen.options:
            label = self.text(option.label)
            spoken.append(self.text(Text("ivr.option", {"label": label, "digit": option.choice})))
        if screen.expects.is_data:
            spoken.append(self.text(Text("ivr.data_entry")))
        elif not screen.final:
            spoken.append(self.text(Text("ivr.repeat_hint")))
        return spoken


def _say_count_ar(count: int, feminine: bool) -> str:
    return (
        number_in_words_ar(count, "f" if feminine else "m") if 0 <= count < 10**12 else str(count)
    )


class TwimlBuilder:
    def __init__(self, profile: Profile, public_base_url: str):
        self.profile = profile
        self.base = public_base_url.rstrip("/")

    def url(self, hook: str, step: int) -> str:
        return f"{self.base}/ivr/{hook}?step={step}"

    def _voice(self, language: str) -> dict[str, str]:
        voice = self.profile.voice
        if language == "ar":
            return {"voice": voice.voice_ar, "language": voice.say_language_ar}
        return {"voice": voice.voice_en, "language": voice.say_language_en}

    def _gather(self, step: int, expects: Expects) -> Gather:
        choice = expects is Expects.CHOICE
        return Gather(
            input="dtmf speech",
            action=self.url("gather", step),
            method="POST",
            language=self.profile.voice.speech_language,
            timeout=SILENCE_TIMEOUT_S if choice else DATA_TIMEOUT_S,
            speech_timeout="auto",
            action_on_empty_result=False,
            **({"num_digits": 1} if choice else {"finish_on_key": "#"}),
        )

    def ask(self, step: int, sentences: list[tuple[str, str]], expects: Expects) -> str:
        """Say the sentences inside a Gather (the caller can answer any time: barge-in),
        then redirect to the silence hook that counts silences."""
        response = VoiceResponse()
        gather = self._gather(step, expects)
        for language, sentence in sentences:
            gather.say(sentence, **self._voice(language))
        response.append(gather)
        response.redirect(self.url("silence", step), method="POST")
        return str(response)

    def close(self, sentences: list[tuple[str, str]]) -> str:
        response = VoiceResponse()
        for language, sentence in sentences:
            response.say(sentence, **self._voice(language))
        response.hangup()
        return str(response)

    def transfer(self, language: str) -> str:
        response = VoiceResponse()
        response.say(
            translate("ivr.transfer", language, self.profile.dialect), **self._voice(language)
        )
        response.dial(self.profile.agent_number)
        return str(response)

    def language_menu(self, step: int) -> str:
        utility = {"ar": self.profile.utility_name_ar, "en": self.profile.utility_name_en}
        sentences = [
            ("ar", translate("ivr.welcome", "ar", self.profile.dialect, utility=utility["ar"])),
            ("ar", translate("ivr.language_choice", "ar", self.profile.dialect)),
            ("en", translate("ivr.language_choice", "en")),
        ]
        return self.ask(step, sentences, Expects.CHOICE)
