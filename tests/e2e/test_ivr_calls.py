"""Whole calls through the gateway's Twilio Voice webhooks. Requests are signed exactly as
Twilio signs them (the twilio library's RequestValidator over the public URL and the POST
parameters); every TwiML answer is parsed and checked against what Twilio accepts, and each
Gather's action URL is followed with Digits or SpeechResult."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator

from tests.e2e.conftest import Stack, StackFactory
from tests.twiml_rules import check_twiml

PUBLIC = "https://ivr.tasdeed.example"  # what Twilio calls, in front of a TLS proxy
TOKEN = "test-auth-token-0123456789abcdef"


async def ivr_stack(make_stack: StackFactory, profile_id: str = "eg") -> Stack:
    return await make_stack(profile_id, public_base_url=PUBLIC, twilio_auth_token=TOKEN)


class Caller:
    """Plays Twilio: signs each webhook, follows the TwiML's Gather and Redirect URLs."""

    def __init__(self, stack: Stack, phone: str = "+201001234567"):
        self.stack = stack
        self.call_sid = "CA" + uuid.uuid4().hex
        self.phone = phone
        self.validator = RequestValidator(TOKEN)
        self.twiml: ET.Element | None = None
        self.raw = ""

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": "+20121",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    async def post(
        self, public_url: str, params: dict[str, str], signature: str | None = None
    ) -> tuple[int, str]:
        assert public_url.startswith(PUBLIC)
        local = self.stack.gateway_url + public_url[len(PUBLIC) :]
        headers = {}
        signature = (
            signature
            if signature is not None
            else self.validator.compute_signature(public_url, params)
        )
        if signature:
            headers["X-Twilio-Signature"] = signature
        async with self.stack.http.post(local, data=params, headers=headers) as response:
            return response.status, await response.text()

    async def _follow(self, public_url: str, params: dict[str, str]) -> str:
        status, body = await self.post(public_url, params)
        assert status == 200, body
        self.raw = body
        self.twiml = check_twiml(body)
        return self.spoken()

    def spoken(self) -> str:
        assert self.twiml is not None
        return " | ".join((say.text or "") for say in self.twiml.iter("Say"))

    def gather(self) -> ET.Element:
        assert self.twiml is not None
        gather = self.twiml.find("Gather")
        assert gather is not None, self.raw
        return gather

    async def ring(self) -> str:
        return await self._follow(PUBLIC + "/ivr/voice", self.params(CallStatus="ringing"))

    async def press(self, digits: str) -> str:
        return await self._follow(self.gather().attrib["action"], self.params(Digits=digits))

    async def say(self, speech: str) -> str:
        params = self.params(SpeechResult=speech, Confidence="0.91")
        return await self._follow(self.gather().attrib["action"], params)

    async def stay_silent(self) -> str:
        assert self.twiml is not None
        redirect = self.twiml.find("Redirect")
        assert redirect is not None and redirect.text
        return await self._follow(redirect.text, self.params())

    def ended(self) -> bool:
        assert self.twiml is not None
        return self.twiml.find("Hangup") is not None

    def dialled(self) -> str | None:
        assert self.twiml is not None
        dial = self.twiml.find("Dial")
        return None if dial is None else (dial.text or "")


async def to_confirm(caller: Caller, code: str) -> str:
    await caller.ring()
    await caller.press("1")  # Arabic
    await caller.press("2")  # pay a bill
    return await caller.press(code)  # Twilio leaves the finishing "#" out of Digits


async def test_call_opens_with_arabic_first_and_english(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    caller = Caller(stack)
    spoken = await caller.ring()
    says = list(caller.gather().iter("Say"))
    assert says[0].attrib == {"voice": "Polly.Zeina", "language": "arb"}
    assert says[-1].attrib == {"voice": "Polly.Joanna", "language": "en-US"}
    assert "للعربية اضغط 1" in spoken and "For English, press 2" in spoken
    assert caller.gather().attrib["language"] == "ar-EG"
    assert caller.gather().attrib["input"] == "dtmf speech"


async def test_full_payment_by_keypad_to_a_receipt(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    demo = stack.world.account(0)  # EGP 1,128.50 due
    caller = Caller(stack)
    confirm = await to_confirm(caller, demo.code)
    assert "كود السداد " + "، ".join(demo.code) in confirm  # read back digit by digit
    assert "ألف ومائة وثمانية وعشرون جنيهًا وخمسون قرشًا" in confirm  # the amount in words
    assert "لا يمكن استرداد المبلغ بعد الدفع" in confirm
    assert "ادفع، اضغط 1" in confirm
    receipt = await caller.press("1")
    assert "تم الدفع: ألف ومائة وثمانية وعشرون جنيهًا" in receipt
    assert caller.ended()
    assert await stack.payments() == 1


async def test_wrong_code_is_refused_and_asked_again(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    code = stack.world.account(0).code
    caller = Caller(stack)
    spoken = await to_confirm(caller, code[:-1] + str((int(code[-1]) + 1) % 10))
    assert spoken.startswith("كود السداد به رقم خطأ")
    assert caller.gather().attrib["finishOnKey"] == "#"
    assert await stack.payments() == 0


async def test_declined_confirmation_hangs_up_without_charging(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    caller = Caller(stack)
    await to_confirm(caller, stack.world.account(0).code)
    spoken = await caller.press("2")
    assert "تم الإلغاء ولم يخصم أي مبلغ" in spoken and caller.ended()
    assert await stack.payments() == 0


async def test_code_spoken_in_arabic_words(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    demo = stack.world.account(0)
    words = {"0": "صفر", "1": "واحد", "2": "اتنين", "3": "تلاتة", "4": "أربعة", "5": "خمسة",
             "6": "ستة", "7": "سبعة", "8": "تمانية", "9": "تسعة"}  # fmt: skip
    caller = Caller(stack)
    await caller.ring()
    await caller.say("واحد")
    await caller.say("اتنين")
    spoken = await caller.say(" ".join(words[d] for d in demo.code))
    assert "ألف ومائة وثمانية وعشرون جنيهًا" in spoken


async def test_silence_repeats_then_offers_then_transfers(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "kw")
    caller = Caller(stack)
    await caller.ring()
    await caller.press("1")
    first = await caller.stay_silent()
    assert first.startswith("لم نسمع اختيارك") and "دفع فاتورة، اضغط 2" in first
    offer = await caller.stay_silent()
    assert "للتحدث مع موظف اضغط 1" in offer
    await caller.stay_silent()
    assert caller.dialled() == stack.world.profile.agent_number


async def test_agent_on_request_by_key_and_by_speech(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "sa")
    by_key = Caller(stack)
    await by_key.ring()
    await by_key.press("1")
    await by_key.press("0")
    assert by_key.dialled() == "+966920001100"
    by_voice = Caller(stack)
    await by_voice.ring()
    await by_voice.press("1")
    await by_voice.say("أبغى أكلم موظف")
    assert by_voice.dialled() == "+966920001100"


async def test_two_wrong_answers_offer_an_agent(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    caller = Caller(stack)
    await caller.ring()
    await caller.press("1")
    await caller.press("2")
    await caller.press("123")
    offer = await caller.press("456")
    assert "للتحدث مع موظف اضغط 1" in offer
    back = await caller.press("2")  # try again: the code prompt once more
    assert "أدخل كود السداد" in back


async def test_unsigned_and_forged_requests_are_refused(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    caller = Caller(stack)
    params = caller.params()
    assert (await caller.post(PUBLIC + "/ivr/voice", params, signature=""))[0] == 403
    forged = RequestValidator("not-the-token").compute_signature(PUBLIC + "/ivr/voice", params)
    assert (await caller.post(PUBLIC + "/ivr/voice", params, signature=forged))[0] == 403
    # Signed for the address the gateway sees rather than the public one: refused too.
    local_signature = caller.validator.compute_signature(stack.gateway_url + "/ivr/voice", params)
    assert (await caller.post(PUBLIC + "/ivr/voice", params, signature=local_signature))[0] == 403
    # A signed request whose parameters were changed in transit.
    good = caller.validator.compute_signature(PUBLIC + "/ivr/voice", params)
    tampered = {**params, "From": "+201009999999"}
    assert (await caller.post(PUBLIC + "/ivr/voice", tampered, signature=good))[0] == 403


async def test_replayed_confirm_is_charged_once(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    caller = Caller(stack)
    await to_confirm(caller, stack.world.account(0).code)
    action = caller.gather().attrib["action"]
    params = caller.params(Digits="1")
    first, second = await asyncio.gather(caller.post(action, params), caller.post(action, params))
    third = await caller.post(action, params)  # Twilio's retry after a timeout
    assert first == second == third
    assert "تم الدفع" in first[1]
    assert await stack.payments() == 1


async def test_english_call_speaks_english_amounts(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "kw")
    caller = Caller(stack)
    await caller.ring()
    await caller.press("2")
    await caller.press("1")  # my bill
    spoken = await caller.press(stack.world.account(0).code)
    assert "ninety Kuwaiti dinars and five hundred fils" in spoken
    assert all(say.attrib["voice"] == "Polly.Joanna" for say in caller.gather().iter("Say"))


async def test_complaint_by_phone_to_a_ticket(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "sa")
    caller = Caller(stack)
    await caller.ring()
    await caller.press("1")
    await caller.press("3")
    await caller.press("2")  # outage
    await caller.press(stack.world.account(0).code)
    spoken = await caller.say("الكهرباء مقطوعة من الفجر")
    assert "تم تسجيل شكواك رقم" in spoken and caller.ended()


async def test_a_returning_caller_skips_the_language_menu(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack)
    first = Caller(stack, phone="+201007770000")
    assert "For English, press 2" in await first.ring()
    await first.press("2")  # English, once
    again = Caller(stack, phone="+201007770000")
    menu = await again.ring()
    assert "For English, press 2" not in menu and "Pay a bill" in menu, menu
    other = Caller(stack, phone="+201007770001")
    assert "For English, press 2" in await other.ring()
