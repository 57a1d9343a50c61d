"""What a caller says, understood: at the main menu an NLU's intent picks the menu item; on
every other step only spoken digits and the reviewed answer lists count. The NLU here is a
stand-in returning a fixed intent and recording what it was asked, so a test can tell that it
was never consulted at the payment confirmation. The billing client is real and points at a
closed port: a confirm that is attempted ends at `pay.unknown`, one that is not stays put."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from ivr.calls import IvrService, _call_key
from ivr.voice import TwimlBuilder
from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import FlowState
from tasdeed.flows.walks import MENU_INTENTS, MENU_TARGETS, menu_choice_for, menu_items
from tasdeed.profile import available_profiles, load_profile
from tasdeed.state_store import MemoryStore
from tests.flow_states import worst_state
from tests.twiml_rules import check_twiml

PUBLIC = "https://ivr.example"
PAY_SPEECH = "عايز ادفع الفاتورة"


class FakeNlu:
    """Answers every parse with one fixed (intent, confidence), and remembers the texts."""

    def __init__(self, answer: tuple[str, float] | None = ("pay_bill", 0.97)):
        self.answer = answer
        self.asked: list[str] = []

    async def parse(self, text: str) -> tuple[str, float] | None:
        self.asked.append(text)
        return self.answer


class Call:
    def __init__(self, ivr: IvrService):
        self.ivr = ivr
        self.sid = "CA" + uuid.uuid4().hex
        self.step = 1
        self.spoken = ""
        self.raw = ""

    async def ring(self, at: str = "language", profile_id: str = "eg") -> None:
        await self.ivr.incoming({"CallSid": self.sid})
        if at != "language":
            record = await self.ivr.store.get(_call_key(self.sid))
            assert record is not None
            record["state"] = worst_state(at, "ar", profile_id).to_dict()
            await self.ivr.store.set(_call_key(self.sid), record, 60)

    async def _send(self, **form: str) -> str:
        self.raw = await self.ivr.gather(self.step, {"CallSid": self.sid, **form})
        self.step += 1
        root = check_twiml(self.raw)
        self.spoken = " | ".join(say.text or "" for say in root.iter("Say"))
        return self.spoken

    async def say(self, speech: str) -> str:
        return await self._send(SpeechResult=speech, Confidence="0.9")

    async def press(self, digits: str) -> str:
        return await self._send(Digits=digits)

    async def state(self) -> FlowState:
        record = await self.ivr.store.get(_call_key(self.sid))
        assert record is not None
        return FlowState.from_dict(record["state"])


@pytest.fixture
async def billing() -> AsyncIterator[BillingClient]:
    client = BillingClient("http://127.0.0.1:9", retries=0)
    yield client
    await client.close()


def service(billing: BillingClient, nlu: FakeNlu | None, profile_id: str = "eg") -> IvrService:
    profile = load_profile(profile_id)
    return IvrService(profile, billing, MemoryStore(), TwimlBuilder(profile, PUBLIC), nlu=nlu)


# ---- the core's mapping ----------------------------------------------------------------------


@pytest.mark.parametrize("profile_id", available_profiles())
def test_menu_choice_is_the_key_the_menu_shows(profile_id: str) -> None:
    profile = load_profile(profile_id)
    for key, item in enumerate(menu_items(profile), start=1):
        assert menu_choice_for(profile, item) == str(key)
    assert menu_choice_for(profile, "no-such-item") is None
    assert set(MENU_INTENTS.values()) <= set(MENU_TARGETS)


# ---- the main menu ---------------------------------------------------------------------------


async def test_pay_said_at_the_main_menu_asks_for_the_code(billing: BillingClient) -> None:
    nlu = FakeNlu(("pay_bill", 0.93))
    call = Call(service(billing, nlu))
    await call.ring()
    await call.press("1")  # Arabic
    spoken = await call.say(PAY_SPEECH)
    assert "أدخل كود السداد" in spoken
    assert (await call.state()).screen == "pay.code"
    assert nlu.asked == ["عايز ادفع الفاتوره"]  # normalised as chat messages are


@pytest.mark.parametrize(
    ("intent", "screen"),
    [
        ("check_balance", "balance.code"),
        ("report_outage", "complaint.category"),
        ("complaint_status", "follow.ticket"),
        ("installment_request", "installments.code"),
        ("compensation_inquiry", "rules.menu"),
    ],
)
async def test_each_menu_intent_leads_to_its_walk(
    billing: BillingClient, intent: str, screen: str
) -> None:
    call = Call(service(billing, FakeNlu((intent, 0.9))))
    await call.ring("main")
    await call.say("كلام")
    assert (await call.state()).screen == screen


@pytest.mark.parametrize(
    "answer", [("pay_bill", 0.59), ("affirm", 0.99), ("out_of_scope", 0.95), ("greet", 0.9), None]
)
async def test_unsure_or_other_intents_or_no_nlu_ask_the_menu_again(
    billing: BillingClient, answer: tuple[str, float] | None
) -> None:
    call = Call(service(billing, FakeNlu(answer)))
    await call.ring("main")
    spoken = await call.say(PAY_SPEECH)
    assert spoken.startswith("اختيار غير صحيح")
    assert (await call.state()).screen == "main"


async def test_without_an_nlu_speech_at_the_menu_is_not_a_choice(billing: BillingClient) -> None:
    call = Call(service(billing, None))
    await call.ring("main")
    assert (await call.say(PAY_SPEECH)).startswith("اختيار غير صحيح")
    assert (await call.say("اتنين")) and (await call.state()).screen == "pay.code"


# ---- the confirmation: the yes-list only, never the NLU --------------------------------------


@pytest.mark.parametrize(
    "speech", [PAY_SPEECH, "ادفع الفاتورة لو سمحت", "وش عملة تدعم", "نعم؟", "نعم بس كم العمولة"]
)
async def test_pay_speech_at_the_confirmation_pays_nothing(
    billing: BillingClient, speech: str
) -> None:
    nlu = FakeNlu(("pay_bill", 0.99))
    call = Call(service(billing, nlu))
    await call.ring("pay.confirm")
    spoken = await call.say(speech)
    assert spoken.startswith("اختيار غير صحيح")
    state = await call.state()
    assert state.screen == "pay.confirm" and "payment_key" not in state.data
    # Said again: the second wrong answer offers a person; still nothing is paid.
    assert "للتحدث مع موظف اضغط 1" in await call.say(speech)
    assert "payment_key" not in (await call.state()).data
    assert nlu.asked == []


@pytest.mark.parametrize("answer", [("1", "digits"), ("نعم", "speech"), ("أيوه.", "speech")])
async def test_yes_from_the_reviewed_list_confirms_like_pressing_1(
    billing: BillingClient, answer: tuple[str, str]
) -> None:
    nlu = FakeNlu(("deny", 0.99))  # whatever a classifier would say, it is not asked
    call = Call(service(billing, nlu))
    await call.ring("pay.confirm")
    said, how = answer
    await (call.press(said) if how == "digits" else call.say(said))
    state = await call.state()
    # The confirm was sent (to a backend that is not there): the outcome is unknown.
    assert state.screen == "pay.unknown" and "payment_key" in state.data
    assert nlu.asked == []


async def test_no_by_voice_cancels_the_payment(billing: BillingClient) -> None:
    call = Call(service(billing, FakeNlu()))
    await call.ring("pay.confirm")
    spoken = await call.say("لا")
    assert "تم الإلغاء ولم يخصم أي مبلغ" in spoken
    assert (await call.state()).screen == "pay.cancelled"


# ---- leaving by voice, from any step ---------------------------------------------------------


@pytest.mark.parametrize("at", ["main", "pay.code", "pay.confirm", "pay.amount", "complaint.code"])
@pytest.mark.parametrize("speech", ["الغاء", "خلاص شكرا", "مع السلامة"])
async def test_leaving_words_leave_from_any_step(
    billing: BillingClient, at: str, speech: str
) -> None:
    nlu = FakeNlu()
    call = Call(service(billing, nlu))
    await call.ring(at)
    spoken = await call.say(speech)
    assert (await call.state()).screen == "walk.cancelled"
    assert "<Hangup" in call.raw and spoken
    assert nlu.asked == []


@pytest.mark.parametrize("at", ["main", "pay.code", "pay.confirm", "complaint.description"])
async def test_asking_for_a_person_transfers_from_any_step(billing: BillingClient, at: str) -> None:
    call = Call(service(billing, FakeNlu(("human_handoff", 0.99))))
    await call.ring(at)
    await call.say("عايز اكلم موظف")
    root = check_twiml(call.raw)
    dial = root.find("Dial")
    assert dial is not None and dial.text == load_profile("eg").agent_number


async def test_yes_at_the_agent_offer_transfers(billing: BillingClient) -> None:
    call = Call(service(billing, FakeNlu(("greet", 0.99))))
    await call.ring("main")
    await call.say("بلا بلا")
    offer = await call.say("بلا بلا")
    assert "للتحدث مع موظف اضغط 1" in offer
    await call.say("نعم")
    dial = check_twiml(call.raw).find("Dial")
    assert dial is not None and dial.text == load_profile("eg").agent_number
