"""Whole chat conversations through the gateway's Twilio Messaging webhook (signed exactly as
Twilio signs), a really trained Rasa model, the rasa-sdk action server and the reference
billing backend on PostgreSQL. Rasa, the action server and the backend run as their own
processes for the module; the gateway is built per test with its own Redis prefix."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.chat_stack import PUBLIC, ChatBackends, Phone, texts

pytestmark = pytest.mark.slow


async def test_egyptian_whatsapp_payment_to_a_receipt(phone: Phone, backends: ChatBackends) -> None:
    before = await backends.payments()
    demo = backends.accounts[3]  # one unpaid bill, EGP 787.75
    ask = texts(await phone.say("عايز أدفع الفاتورة"))
    assert "أدخل كود السداد" in ask
    quote = texts(await phone.say(demo.code))
    assert "٧٨٧٫٧٥ ج.م." in quote and "لا يسترد" in quote
    assert demo.payee_name.split()[1] not in quote  # the payee only masked
    receipt = await phone.say("ايوه")
    assert "تم الدفع: ٧٨٧٫٧٥ ج.م." in texts(receipt)
    media = [m.findtext("Media") for m in receipt if m.find("Media") is not None]
    assert media and media[0].startswith(PUBLIC + "/chat/receipts/")
    async with phone.http.get(phone.gateway + media[0][len(PUBLIC) :]) as image:
        assert image.status == 200 and (await image.read())[:8] == b"\x89PNG\r\n\x1a\n"
    assert await backends.payments() == before + 1


async def test_duplicate_message_does_not_pay_twice(phone: Phone, backends: ChatBackends) -> None:
    before = await backends.payments()
    await phone.say("عايز أدفع الفاتورة")
    await phone.say(backends.accounts[0].code)
    sid = "SM" + uuid.uuid4().hex
    first = await phone.send("ايوه", sid=sid)
    retried = await phone.send("ايوه", sid=sid)  # Twilio's retry of the same message
    assert first == retried and "تم الدفع" in first[1]
    resent = await phone.send("ايوه")  # the person sends "yes" again: a new message
    assert "تم الدفع" not in resent[1]
    assert await backends.payments() == before + 1


async def test_no_at_the_confirmation_moves_no_money(phone: Phone, backends: ChatBackends) -> None:
    before = await backends.payments()
    await phone.say("ابي اسدد الفاتورة")
    await phone.say(backends.accounts[1].code)
    answer = texts(await phone.say("لا"))
    assert "لم يخصم أي مبلغ" in answer
    assert await backends.payments() == before


async def test_gulf_outage_complaint_to_a_ticket(phone: Phone, backends: ChatBackends) -> None:
    ask = texts(await phone.say("الكهربا مقطوعة عندنا من الصبح"))
    assert "أدخل كود السداد" in ask
    await phone.say(backends.accounts[2].code)
    filed = texts(await phone.say("البيت كله بدون كهربا من الفجر والجيران عندهم"))
    assert "تم تسجيل شكواك رقم" in filed
    ticket = filed.split("رقم ")[1].split("\n")[0].strip()
    status = texts(await phone.say(f"وين وصلت شكوتي {ticket}"))
    assert "مفتوحة" in status


async def test_forged_and_unsigned_messages_are_refused(phone: Phone) -> None:
    assert (await phone.send("عايز أدفع", signature=""))[0] == 403
    assert (await phone.send("عايز أدفع", signature="bm90LXRoZS1zaWduYXR1cmU="))[0] == 403


async def test_arabizi_and_english(phone: Phone) -> None:
    assert "أدخل كود السداد" in texts(await phone.say("3ayez adfa3 el fatora"))
    await phone.say("la2")
    english = texts(await phone.say("how much do I owe?"))
    assert "Enter the payment code" in english


@pytest.mark.parametrize(
    "question",
    [
        "هل هيركبولي عداد مسبق الدفع؟",  # the message a person sent in the first week
        "هو انتو هتركبولي عداد مسبق الدفع عشان الفواتير المتأخرة؟",
        "هل سيتم تركيب عداد مسبق الدفع لي",
        "صج بيركبون لي عداد مسبق الدفع؟",
        "hayrakbouly 3adad mosba2 el daf3?",
    ],
)
async def test_a_prepaid_meter_question_answers_the_rule(
    phone: Phone, backends: ChatBackends, question: str
) -> None:
    """Not the complaint form: the prepaid rule's answer for the account whose code follows."""
    ask = texts(await phone.say(question))
    assert "أدخل كود السداد" in ask and "رقم الحساب" not in ask, ask  # the rule's own prompt
    answer = texts(await phone.say(backends.accounts[1].code))  # three unpaid bills
    assert "سيستبدل العداد بعداد مسبق الدفع" in answer, answer
    assert "شكوى" not in answer


async def test_a_prepaid_meter_question_in_english(phone: Phone, backends: ChatBackends) -> None:
    ask = texts(await phone.say("will I get a prepaid meter?"))
    assert "Enter the payment code" in ask and "account number" not in ask, ask
    answer = texts(await phone.say(backends.accounts[1].code))
    assert "prepaid" in answer, answer


async def test_a_flagged_account_is_warned_on_the_chat_quote(
    phone: Phone, backends: ChatBackends
) -> None:
    await phone.say("عايز أدفع الفاتورة")
    quote = texts(await phone.say(backends.accounts[1].code))
    assert "لا يسترد" in quote and "عداد مسبق الدفع" in quote, quote
    assert "لم يخصم" in texts(await phone.say("لا"))
