"""The call: one Twilio webhook at a time, exactly once per step.

Every action URL carries the step it was issued at (`?step=N`) and is covered by Twilio's
signature, so a retried or replayed webhook for a step already handled gets the TwiML it got
the first time and changes nothing; the payment's idempotency key comes from the CallSid and
the quote, so even a confirm processed twice pays once.

Keys on a call: digits as on the USSD menus; on menus 9 repeats, 0 asks for an agent and *
goes back; on code and amount prompts the caller ends with # and * returns to the main menu.
Two silences or two wrong answers in a row offer an agent; silence at that offer transfers.

Words on a call: spoken digits count as keys everywhere. An answer on the reviewed lists
(`tasdeed.answers`: yes, no, cancel, goodbye, a person) goes to the engine as said, which
takes yes/no only where the step names the option they stand for and leaving words at any
step; a request for a person transfers. Only at the main menu is anything else said handed
to the NLU (`ivr.understanding`), whose intent picks a menu item when it is sure enough.
Nothing the NLU says is used on any other step: at a confirmation only the yes-list pays.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from ivr.understanding import Understands
from ivr.voice import TwimlBuilder, VoiceRenderer
from tasdeed.answers import Answer, read_answer
from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import BACK, HOME, FlowEngine, FlowState
from tasdeed.flows.screens import Expects, Screen
from tasdeed.flows.walks import MENU_INTENTS, menu_choice_for
from tasdeed.i18n import translate
from tasdeed.logs import get_logger
from tasdeed.metrics import HOP_SECONDS, HOPS, PAYMENTS
from tasdeed.normalise import normalise_input
from tasdeed.profile import Profile
from tasdeed.spoken import spoken_digits
from tasdeed.state_store import StateStore
from tasdeed.text import DigitString, Text

log = get_logger("ivr")
CHANNEL = "ivr"
CALL_TTL_S = 3600
LANGUAGE_TTL_S = 180 * 86_400
MAX_FAILURES = 2
MAX_SILENCES = 2
REPEAT, AGENT, STAR = "9", "0", "*"
AGENT_WORDS = frozenset({"موظف", "خدمه العملاء", "agent", "operator", "representative"})
KEPT_REPLIES = 3
# The NLU picks a main-menu item only this sure; below it the menu is asked again.
MIN_MENU_CONFIDENCE = 0.6
MAIN_MENU = "main"
HANDOFF = "walk.handoff"


def _call_key(call_sid: str) -> str:
    return "ivr:c:" + hashlib.sha256(call_sid.encode()).hexdigest()[:24]


class IvrService:
    def __init__(
        self,
        profile: Profile,
        billing: BillingClient,
        store: StateStore,
        twiml: TwimlBuilder,
        nlu: Understands | None = None,
        phone_salt: str = "",
    ):
        self.phone_salt = phone_salt.encode()
        self.profile = profile
        self.store = store
        self.twiml = twiml
        self.nlu = nlu  # None: spoken digits and the reviewed answer lists only
        self.engine = FlowEngine(profile, billing, CHANNEL)

    # ---- webhooks -------------------------------------------------------------------

    async def incoming(self, form: dict[str, str]) -> str:
        call_sid = form.get("CallSid", "")
        if not call_sid:
            return self._ended("ar")
        async with self.store.lock(_call_key(call_sid)):
            record = await self.store.get(_call_key(call_sid))
            if record is not None:  # Twilio retried the first webhook
                return str(record["replies"][str(record["step"])])
            state = FlowState()
            # A returning caller hears the main menu in the language they chose before.
            remembered = await self.store.get(self._language_key(form.get("From", "")))
            language = str(remembered["language"]) if remembered else None
            screen = self.engine.start(state, language=language)
            reply = self._screen_reply(1, state, screen)
            record = {
                "state": state.to_dict(),
                "conversation": hashlib.sha256(call_sid.encode()).hexdigest()[:20],
                "step": 1,
                "replies": {"1": reply},
                "silences": 0,
                "failures": 0,
                "mode": "flow",
            }
            await self.store.set(_call_key(call_sid), record, CALL_TTL_S)
            await self.store.mark_live(CHANNEL, _call_key(call_sid))  # the operator view
            HOPS.labels(CHANNEL, "start").inc()
            return reply

    def _language_key(self, caller: str) -> str:
        digest = hmac.new(self.phone_salt, caller.encode(), hashlib.sha256).hexdigest()[:24]
        return f"ivr:lang:{digest}"

    async def gather(self, step: int, form: dict[str, str]) -> str:
        return await self._step(step, form, silent=False)

    async def silence(self, step: int, form: dict[str, str]) -> str:
        return await self._step(step, form, silent=True)

    async def completed(self, form: dict[str, str]) -> None:
        call_sid = form.get("CallSid", "")
        if call_sid and form.get("CallStatus") in ("completed", "failed", "busy", "no-answer"):
            await self.store.delete(_call_key(call_sid))

    # ---- one step ---------------------------------------------------------------------

    async def _step(self, step: int, form: dict[str, str], *, silent: bool) -> str:
        started = time.perf_counter()
        call_sid = form.get("CallSid", "")
        try:
            async with self.store.lock(_call_key(call_sid)):
                record = await self.store.get(_call_key(call_sid))
                if record is None:
                    HOPS.labels(CHANNEL, "unknown_call").inc()
                    return self._ended("ar")
                current: int = record["step"]
                if step < current:
                    HOPS.labels(CHANNEL, "replay").inc()
                    replies = record["replies"]
                    return str(replies.get(str(step + 1), replies[str(current)]))
                if step > current:
                    log.warning("ivr step from the future", step=step, current=current)
                    return self._ended(record["state"]["language"])
                state = FlowState.from_dict(record["state"])
                if silent:
                    reply = await self._on_silence(record, state)
                else:
                    reply = await self._on_input(record, state, form)
                record["state"] = state.to_dict()
                record["step"] = current + 1
                record["replies"][str(current + 1)] = reply
                for old in [k for k in record["replies"] if int(k) <= current + 1 - KEPT_REPLIES]:
                    del record["replies"][old]
                await self.store.set(_call_key(call_sid), record, CALL_TTL_S)
                HOPS.labels(CHANNEL, "silence" if silent else "input").inc()
                return reply
        finally:
            HOP_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)

    async def _on_silence(self, record: dict[str, Any], state: FlowState) -> str:
        record["silences"] += 1
        next_step = record["step"] + 1
        if record["mode"] == "agent_offer":
            return self.twiml.transfer(state.language)
        if record["silences"] >= MAX_SILENCES:
            record["mode"] = "agent_offer"
            return self._agent_offer(next_step, state.language)
        return self._screen_reply(next_step, state, self.engine.render(state), Text("ivr.no_input"))

    async def _on_input(
        self, record: dict[str, Any], state: FlowState, form: dict[str, str]
    ) -> str:
        record["silences"] = 0
        next_step = record["step"] + 1
        screen = self.engine.render(state)
        if record["mode"] == "agent_offer":
            value = await self._interpret(form, screen, offer=True)
            if value in ("1", "agent") or (value is not None and read_answer(value) is Answer.YES):
                return self.twiml.transfer(state.language)
            record["mode"], record["failures"] = "flow", 0
            return self._screen_reply(next_step, state, screen)
        value = await self._interpret(form, screen)
        if value == "agent" or (value == AGENT and not screen.expects.is_data):
            return self.twiml.transfer(state.language)
        if value == REPEAT and not screen.expects.is_data:
            return self._screen_reply(next_step, state, screen)
        if value == STAR:
            value = HOME if screen.expects.is_data else BACK
        before = state.screen
        screen = await self.engine.handle(state, value or "", record["conversation"])
        if before == "language" and state.screen == "main" and form.get("From"):
            remembered = {"language": state.language}
            await self.store.set(self._language_key(form["From"]), remembered, LANGUAGE_TTL_S)
        if screen.name == "pay.receipt" and before != "pay.receipt":
            PAYMENTS.labels(CHANNEL).inc()
        if screen.name == HANDOFF:
            return self.twiml.transfer(state.language)
        record["failures"] = record["failures"] + 1 if screen.error else 0
        if record["failures"] >= MAX_FAILURES:
            record["mode"] = "agent_offer"
            return self._agent_offer(next_step, state.language)
        return self._screen_reply(next_step, state, screen)

    async def _interpret(
        self, form: dict[str, str], screen: Screen, *, offer: bool = False
    ) -> str | None:
        """Keys pressed, or what was said: digits, a request for a person, an answer from the
        reviewed lists, a main-menu item the NLU recognised, or free text where it is asked for.
        `offer`: the agent offer is being answered (its own yes/no question, not `screen`)."""
        digits = form.get("Digits", "").strip().rstrip("#")
        if digits:
            return digits
        speech = form.get("SpeechResult", "").strip()
        if not speech:
            return None
        said = spoken_digits(speech)
        if said is not None:
            return said
        answer = read_answer(speech)
        if answer is Answer.AGENT or any(
            word in normalise_input(speech).text.lower() for word in AGENT_WORDS
        ):
            return "agent"
        if answer is not None and (offer or answer.leaves or not screen.expects.is_data):
            # As said: the engine reads it against the same lists, so yes/no pick an option
            # only where the step says which, and leaving words leave from any step.
            return speech
        if screen.name == MAIN_MENU and not offer:
            return await self._menu_choice(speech)
        # Free text is an answer only where free text is asked for.
        return speech if screen.expects is Expects.TEXT and not offer else None

    async def _menu_choice(self, speech: str) -> str | None:
        """The main-menu key for what the NLU reads in `speech`, when it is sure enough and this
        utility's menu has that item. Asked at the main menu only: never at a confirmation."""
        if self.nlu is None:
            return None
        parsed = await self.nlu.parse(normalise_input(speech).text)
        if parsed is None:
            HOPS.labels(CHANNEL, "nlu_unavailable").inc()
            return None
        intent, confidence = parsed
        item = MENU_INTENTS.get(intent)
        choice = menu_choice_for(self.profile, item) if item is not None else None
        log.info("ivr menu speech", intent=intent, confidence=round(confidence, 3), key=choice)
        if choice is None or confidence < MIN_MENU_CONFIDENCE:
            return None
        return choice

    # ---- replies ----------------------------------------------------------------------

    def _screen_reply(self, step: int, state: FlowState, screen: Screen, *extra: Text) -> str:
        if screen.name == "language":
            return self.twiml.language_menu(step)
        renderer = VoiceRenderer(self.profile, state.language)
        if screen.name == "pay.confirm" and not screen.error:
            # The code read back digit by digit before the payee and the amount in words,
            # in the hop it was keyed in; later (a repeat) its last digits, since the call's
            # stored state keeps only the masked code.
            if state.entered_code:
                code = Text("ivr.code_readback", {"code": DigitString(state.entered_code)})
            else:
                ending = DigitString(str(state.data.get("code", ""))[-4:])
                code = Text("ivr.code_ending", {"code": ending})
            extra = (*extra, code)
        sentences = [(state.language, s) for s in renderer.sentences(screen, extra)]
        if screen.final:
            goodbye = renderer.text(Text("ivr.goodbye"))
            return self.twiml.close([*sentences, (state.language, goodbye)])
        return self.twiml.ask(step, sentences, screen.expects)

    def _agent_offer(self, step: int, language: str) -> str:
        sentence = translate("ivr.agent_offer", language, self.profile.dialect)
        return self.twiml.ask(step, [(language, sentence)], Expects.CHOICE)

    def _ended(self, language: str) -> str:
        return self.twiml.close(
            [(language, translate("ivr.call_ended", language, self.profile.dialect))]
        )
