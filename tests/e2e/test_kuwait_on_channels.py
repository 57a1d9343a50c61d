"""Kuwait on every channel: the Ahsemha calculator (issue 16, item 6) and, in chat, an
installment plan with the debt acknowledgment (item 8).

The Ahsemha calculator end to end, through the real gateway on every
channel: USSD in Africa's Talking's format and IVR in Twilio's signed webhooks (real Redis, the
real backend on PostgreSQL), and WhatsApp through Rasa with the trained model and the action
server, in the Kuwait profile. A person enters their own consumption and solar capacity, with
no account and nothing registered, and gets the discount, its explanation and the caps; bad
input is answered and asked again, and "cancel" or 00 leave. Egypt's menus never offer it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.e2e.chat_stack import ChatBackends, Phone, chat_backends, gateway_phone, texts
from tests.e2e.conftest import StackFactory
from tests.e2e.test_ivr_calls import Caller, ivr_stack
from tests.e2e.test_ussd_sessions import ARABIC_INDIC, Handset

TOTAL = "الخصم في نهاية السنة: الكهرباء ٧٠٪، والمياه ٥٠٪."
CAPS = "حد الخصم المجتمع: ٧٠٪ من فاتورة الكهرباء و٥٠٪ من فاتورة المياه."
NOT_A_NUMBER = "أدخل رقما واحدا بالأرقام، بلا حروف."
NEGATIVE = "لا يقبل رقم سالب: أدخل صفرا أو أكثر."
TOO_LONG = "الرقم طويل جدا: ٩ أرقام على الأكثر."
REFERENCE_ZERO = "استهلاك السنة الماضية يلزم أن يزيد على صفر"
CANCELLED = "تم الإلغاء"


async def pages(handset: Handset, first: str) -> list[str]:
    """Every page of the answer, paging with 99 until the END page."""
    seen = [first]
    while not seen[-1].startswith("END "):
        seen.append(await handset.press("99"))
    return seen


# --- USSD ---------------------------------------------------------------------------------------


async def test_ussd_calculator_with_bad_input_at_each_step(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    handset = Handset(stack, phone="+96550000101")
    menu = await handset.walk("1", "6")
    assert "4 حاسبة احسمها" in menu
    prompt = await handset.press("4")
    assert prompt.startswith("CON ") and "كيلوواط ساعة" in prompt and len(prompt) <= 84
    assert NOT_A_NUMBER in await handset.press("abc")
    assert REFERENCE_ZERO in await handset.press("0")  # no reference, no saving
    assert "هالسنة" in await handset.press("12000".translate(ARABIC_INDIC))
    assert NEGATIVE in await handset.press("-9600")
    assert "الماي" in await handset.press("9600")  # the Gulf wording (kw's dialect)
    assert TOO_LONG in await handset.press("1234567890")
    assert "بنفس الوحدة" in await handset.press("400")
    pv = await handset.press("٣٠٠")
    assert "١٪ إلى ١٠٪" in pv and "0" in pv
    answer = await pages(handset, await handset.press("10"))
    assert all(len(page) <= len("CON ") + 80 for page in answer)
    shown = "\n".join(page[len("CON ") :] for page in answer)
    lines = shown.split("\n")
    assert lines[0] == TOTAL  # the answer on the first page
    assert "الحافز الثاني: ترشيد ٢٠٪ لا يقل عن سعة الألواح الشمسية ١٠٪." in lines
    assert CAPS in lines
    assert await stack.payments() == 0


async def test_ussd_calculator_without_panels_and_leaving(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    saver = Handset(stack, phone="+96550000102")
    await saver.walk("1", "6", "4", "12000", "10800", "400", "350")
    answer = "\n".join(await pages(saver, await saver.press("0")))  # 0: no solar panels
    assert "الخصم في نهاية السنة: الكهرباء ٢٠٪، والمياه ٢٥٪." in answer
    assert "الحافز الثاني" not in answer and CAPS in answer
    leaver = Handset(stack, phone="+96550000103")
    home = await leaver.walk("1", "6", "4", "12000", "00")  # 00 at a data step: home
    assert home.startswith("CON ") and "1 " in home and "كيلوواط" not in home
    canceller = Handset(stack, phone="+96550000104")
    cancelled = await canceller.walk("1", "6", "4", "12000", "9600", "الغاء")
    assert cancelled.startswith("END ") and CANCELLED in cancelled


async def test_egypt_rules_menu_has_no_calculator(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    menu = await Handset(stack).walk("1", "6")
    assert "احسمها" not in menu and "4 " not in menu


# --- IVR ----------------------------------------------------------------------------------------


async def test_ivr_calculator_by_keys_and_speech(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "kw")
    caller = Caller(stack, phone="+96550000105")
    await caller.ring()
    await caller.press("1")  # Arabic
    topics = await caller.press("6")
    assert "حاسبة احسمها، اضغط 4" in topics
    prompt = await caller.press("4")
    assert "كيلوواط ساعة" in prompt and "علامة المربع" in prompt
    assert caller.gather().attrib["finishOnKey"] == "#"
    assert "هالسنة" in await caller.press("12000")
    assert "الماي" in await caller.say("تسعة ستة صفر صفر")  # digits said aloud
    assert NOT_A_NUMBER in await caller.say("كثير")  # words that are no number
    assert "بنفس الوحدة" in await caller.press("400")
    assert "الألواح الشمسية" in await caller.press("300")
    spoken = await caller.press("10")
    assert "الخصم في نهاية السنة: الكهرباء سبعون٪، والمياه خمسون٪." in spoken
    assert "حد الخصم المجتمع: سبعون٪ من فاتورة الكهرباء وخمسون٪ من فاتورة المياه." in spoken
    assert caller.ended()
    # "*" on a data step goes home; a leaving word cancels.
    other = Caller(stack, phone="+96550000105")
    await other.ring()  # the language is remembered: the main menu
    await other.press("6")
    await other.press("4")
    home = await other.press("*")
    assert "كيلوواط" not in home and "اضغط 6" in home
    await other.press("6")
    await other.press("4")
    assert CANCELLED in await other.say("الغاء")
    assert other.ended()
    assert await stack.payments() == 0


# --- chat (WhatsApp through Rasa and the action server, Kuwait) -----------------------------------

KW_PORTS = {"billing": 18191, "actions": 18156, "rasa": 18106}


@pytest.fixture(scope="module")
def kuwait_chat(pg_template: str) -> Iterator[ChatBackends]:
    """The backend, the action server and Rasa (the trained model) in the Kuwait profile."""
    with chat_backends(pg_template, "kw", KW_PORTS, 12) as started:
        yield started


@pytest.fixture
async def kuwait_phone(kuwait_chat: ChatBackends) -> AsyncIterator[Phone]:
    async with gateway_phone(kuwait_chat, "whatsapp:+96550000106") as made:
        yield made


@pytest.mark.slow
async def test_chat_calculator_by_a_question(kuwait_phone: Phone) -> None:
    async def say(message: str) -> str:
        return texts(await kuwait_phone.say(message))

    first = await say("احسبلي خصم احسمها")
    assert "حاسبة احسمها" in first and "كيلوواط ساعة" in first, first
    assert "هالسنة" in await say("استهلاكي ١٢٠٠٠ كيلوواط")  # a sentence around the number
    assert NOT_A_NUMBER in await say("كثير")
    assert NEGATIVE in await say("-9600")
    assert "الماي" in await say("9600")
    assert "بنفس الوحدة" in await say("400")
    assert "الألواح الشمسية" in await say("٣٠٠")
    answer = await say("10")
    assert TOTAL in answer and CAPS in answer, answer
    assert "تقدير من أرقامك قبل التسجيل" in answer
    # The walk is over: a new question starts a new one, and cancel leaves it.
    again = await say("احسب خصم احسمها")
    assert "كيلوواط ساعة" in again, again
    assert CANCELLED in await say("الغاء")


@pytest.mark.slow
async def test_chat_installment_plan_with_debt_acknowledgment(
    kuwait_chat: ChatBackends, kuwait_phone: Phone
) -> None:
    """Chat requests a plan like USSD and IVR do: the code, the number of installments, the
    debt acknowledgment, and only an explicit yes files it."""
    demo = kuwait_chat.accounts[1]  # two bills unpaid

    async def say(message: str) -> str:
        return texts(await kuwait_phone.say(message))

    assert "كود السداد" in await say("ابي اقسط الفاتورة")
    ask = await say(demo.code)
    assert "عدد الأقساط (من ٢ إلى ٢٤)" in ask, ask
    assert "إقرارك بمديونية" in await say("6")
    assert "إقرارك بمديونية" in await say("يمكن")  # not a yes: asked again
    done = await say("نعم")
    assert "قسطناها على ٦ أقساط" in done, done
