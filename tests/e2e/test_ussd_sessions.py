"""Whole USSD sessions through the gateway's HTTP endpoints, in Africa's Talking's exact
format (and the JSON aggregator's), against real Redis and the real billing backend."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from billing.models import OutboxMessage, Quote
from tests.e2e.conftest import Stack, StackFactory
from tests.faults import lose_payment_answers

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


class Handset:
    """A feature phone on Africa's Talking: every request carries the whole input chain."""

    def __init__(self, stack: Stack, phone: str = "+201001234567", network: str = "60201"):
        self.stack = stack
        self.phone = phone
        self.network = network
        self.session_id = f"ATUid_{uuid.uuid4().hex}"
        self.inputs: list[str] = []

    async def send(self, text: str, *, phone: str | None = None, session: str | None = None) -> str:
        form = {
            "sessionId": session or self.session_id,
            "serviceCode": self.stack.world.profile.ussd_service_code,
            "phoneNumber": phone or self.phone,
            "networkCode": self.network,
            "text": text,
        }
        async with self.stack.http.post(self.stack.gateway_url + "/ussd/at", data=form) as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            return await response.text()

    async def send_status(self, text: str) -> int:
        form = {"sessionId": self.session_id, "serviceCode": "*121#", "phoneNumber": self.phone,
                "networkCode": self.network, "text": text}  # fmt: skip
        async with self.stack.http.post(self.stack.gateway_url + "/ussd/at", data=form) as response:
            return response.status

    async def dial(self) -> str:
        self.inputs = []
        return await self.send("")

    async def press(self, value: str) -> str:
        self.inputs.append(value)
        return await self.send("*".join(self.inputs))

    async def walk(self, *values: str) -> str:
        screen = await self.dial()
        for value in values:
            screen = await self.press(value)
        return screen


async def to_confirm_page(handset: Handset, code: str) -> str:
    """Arabic, pay a bill, the code, then page through to the confirm options."""
    screen = await handset.walk("1", "2", code)
    while "1 ادفع" not in screen:
        assert "99 " in screen, screen
        screen = await handset.press("99")
    return screen


async def quotes(stack: Stack) -> int:
    async with stack.world.sessions() as s:
        return int(await s.scalar(select(func.count(Quote.id))) or 0)


async def test_first_screen_offers_arabic_first(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    screen = await Handset(stack).dial()
    assert screen.startswith("CON ")
    lines = screen[4:].split("\n")
    assert lines[1] == "1 العربية" and lines[2] == "2 English"


async def test_balance_in_arabic_with_the_profiles_digits(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(1)  # three unpaid bills
    handset = Handset(stack)
    screen = await handset.walk("1", "1", demo.code)
    assert screen.startswith("CON ")
    assert "٢٬٥٨٠٫٧٥ ج.م." in screen  # EGP 2,580.75 in Arabic-Indic digits
    assert demo.payee_name.split()[1] not in screen  # father's name never shown in full
    # Flagged for a prepaid meter: the warning and the pay option on the next page.
    rest = await handset.press("99")
    assert "عداد مسبق الدفع" in rest and "1 ادفع الآن" in rest


async def test_full_payment_to_a_receipt(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    handset = Handset(stack)
    confirm = await to_confirm_page(handset, demo.code)
    assert "لا يسترد" in confirm
    receipt = await handset.press("1")
    assert receipt.startswith("END تم الدفع: ١٬١٢٨٫٥٠ ج.م.")
    assert await stack.payments() == 1
    balance = await stack.world.ledger.balance(code=demo.code)
    assert balance["amount_due_minor"] == 0
    async with stack.world.sessions() as s:
        queued = (await s.scalars(select(OutboxMessage))).all()
    assert [m.kind for m in queued] == ["payment_receipt"]  # the SMS receipt is queued


async def test_every_page_of_a_payment_fits_one_ussd_string(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    handset = Handset(stack)
    screens = [await handset.dial()]
    for value in ("1", "2", stack.world.account(1).code, "99", "99", "1"):
        screens.append(await handset.press(value))
    for screen in screens:
        assert len(screen[4:]) <= 80, screen


async def test_wrong_code_is_caught_by_the_check_digit(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    code = stack.world.account(0).code
    typo = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
    screen = await Handset(stack).walk("1", "2", typo)
    assert screen.startswith("CON كود السداد به رقم خطأ")
    assert "أدخل كود السداد" in screen
    assert await quotes(stack) == 0  # refused before any look-up


async def test_code_typed_in_arabic_indic_digits_with_spaces(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    spaced = " ".join(demo.code[i : i + 4] for i in range(0, 12, 4)).translate(ARABIC_INDIC)
    screen = await Handset(stack).walk("1", "2", spaced)
    assert "١٬١٢٨٫٥٠ ج.م." in screen


async def test_zero_on_a_code_screen_is_data_not_back(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    screen = await Handset(stack).walk("1", "2", "0")
    assert "كود السداد ١٢ رقما" in screen  # read as a (too short) code
    home = await Handset(stack).walk("1", "2", "00")
    assert "2 دفع فاتورة" in home


async def test_declined_confirmation_moves_no_money(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    await to_confirm_page(handset, stack.world.account(0).code)
    screen = await handset.press("2")
    assert screen == "END تم الإلغاء ولم يخصم أي مبلغ."
    assert await stack.payments() == 0


async def test_replayed_confirm_is_charged_once(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    await to_confirm_page(handset, stack.world.account(0).code)
    chain = "*".join([*handset.inputs, "1"])
    first, second = await asyncio.gather(handset.send(chain), handset.send(chain))
    third = await handset.send(chain)
    assert first == second == third
    assert first.startswith("END تم الدفع")
    assert await stack.payments() == 1


async def test_old_and_forged_chains_change_nothing(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    confirm = await to_confirm_page(handset, stack.world.account(0).code)
    # An older chain of this session: the current page again.
    assert await handset.send("1*2") == confirm
    # A chain that never happened in this session: the session is closed, nothing charged.
    forged = await handset.send("1*2*" + stack.world.account(1).code + "*99*1")
    assert forged.startswith("END انتهت الجلسة")
    assert await stack.payments() == 0


async def test_unknown_session_and_changed_phone_are_refused(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    # A session id never seen, with inputs, is a shortcut dial from the main menu; one that
    # does not go through cleanly ("balance", then "2" as a code) ends: nothing looked up.
    unknown = await handset.send("1*2", session="ATUid_never_started")
    assert unknown.startswith("END انتهت الجلسة"), unknown
    await handset.walk("1", "2")
    stolen = await handset.send("1*2*" + stack.world.account(0).code, phone="+201009999999")
    assert stolen.startswith("END لا يمكن متابعة هذه الجلسة")
    # The real owner's session is untouched.
    assert "١٬١٢٨٫٥٠ ج.م." in await handset.press(stack.world.account(0).code)


async def test_hostile_input_gets_a_clear_screen(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    await handset.walk("1#")  # "#" from the handset is not part of the choice
    main = await handset.send("1#")
    assert "2 دفع فاتورة" in main
    empty = await handset.press("")
    assert "اختيار غير صحيح" in empty
    overlong = await handset.press("9" * 300)
    assert "النص طويل جدا" in overlong
    assert await quotes(stack) == 0


async def test_dropped_payment_resumes_with_a_fresh_quote(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    dropped = Handset(stack)
    await to_confirm_page(dropped, demo.code)  # then the network drops the session
    again = Handset(stack)  # same phone, new session
    prompt = await again.dial()
    assert "لديك دفع لم يكتمل" in prompt and "آخر ٤ أرقام" in prompt
    # Nothing about the payment before the proof: not the payee, the amount or the code.
    assert "١٬١٢٨" not in prompt and demo.code[-4:].translate(ARABIC_INDIC) not in prompt
    screen = await again.press(demo.code[-4:])
    assert "١٬١٢٨٫٥٠ ج.م." in screen and "1 ادفع" in screen
    assert await quotes(stack) == 2  # a fresh quote, never the old one confirmed blindly
    assert (await again.press("1")).startswith("END تم الدفع")
    assert await stack.payments() == 1
    # After the receipt there is nothing to resume: the main menu, in the remembered language.
    assert "1 الفاتورة" in await Handset(stack).dial()


async def test_lost_confirm_answer_is_reported_on_redial(make_stack: StackFactory) -> None:
    stack = await make_stack(
        "eg",
        billing_middlewares=(lose_payment_answers(1.5),),
        billing_total_timeout_s=0.5,
        billing_retries=1,
    )
    demo = stack.world.account(0)
    handset = Handset(stack)
    await to_confirm_page(handset, demo.code)
    unknown = await handset.press("1")
    # Egyptian profile: the dialect overlay's wording ("don't pay again, we'll send it").
    assert unknown.startswith("END مش متأكدين من نتيجة الدفع. متدفعش تاني")
    assert await stack.payments() == 1  # it did go through, once
    redial = Handset(stack)
    assert "لديك دفع لم يكتمل" in await redial.dial()
    status = await redial.press(demo.code[-4:])
    assert status.startswith("END تم الدفع: ١٬١٢٨٫٥٠ ج.م.")
    assert await stack.payments() == 1


async def test_paying_again_right_after_a_payment_needs_a_second_yes(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack("kw")
    demo = stack.world.account(0)
    first = Handset(stack)
    await to_confirm_page(first, demo.code)
    await first.press("1")
    second = Handset(stack, phone="+96550000001")  # someone else in the family
    screen = await second.walk("1", "2", demo.code)
    assert "هذه الفاتورة دفعت مؤخرا" in screen
    assert (await second.press("2")).startswith("END تم الإلغاء")
    assert await stack.payments() == 1


async def test_partial_payment_where_the_profile_allows_it(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    demo = stack.world.account(1)
    handset = Handset(stack)
    await to_confirm_page(handset, demo.code)
    ask = await handset.press("3")
    assert "أدخل المبلغ" in ask
    screen = await handset.press("١٠٫٥٠٠")  # 10.500 KD: the zeros are part of the amount
    pages = [screen]
    while "1 ادفع" not in screen:
        screen = await handset.press("99")
        pages.append(screen)
    assert "١٠٫٥٠٠ د.ك." in "\n".join(pages)
    assert (await handset.press("1")).startswith("END تم الدفع: ١٠٫٥٠٠ د.ك.")
    balance = await stack.world.ledger.balance(code=demo.code)
    assert balance["amount_due_minor"] == demo.amount_due_minor - 10500


async def test_complaint_to_a_ticket_and_following_it(make_stack: StackFactory) -> None:
    stack = await make_stack("sa")
    demo = stack.world.account(0)
    filed = await Handset(stack).walk("1", "3", "2", demo.code, "الكهرباء مقطوعة من الفجر")
    assert filed.startswith("END تم تسجيل شكواك رقم ")
    ticket = filed.split("رقم ")[1].split("\n")[0]
    assert len(ticket) == 8  # Saudi profile shows Latin digits
    followed = await Handset(stack, phone="+966500000002").walk("1", "4", ticket)
    assert followed.startswith(f"END الشكوى {ticket}: مفتوحة")


async def test_installment_plan_with_debt_acknowledgment(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    demo = stack.world.account(1)
    handset = Handset(stack)
    ask = await handset.walk("1", "5", demo.code)
    assert "عدد الأقساط (من ٢ إلى ٢٤)" in ask
    ack = await handset.press("6")
    assert "إقرارك بمديونية" in ack
    done = await handset.press("1")
    assert done.startswith("END قسطناها على ٦ أقساط")  # Gulf wording, six: plural


async def test_english_session(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    screen = await Handset(stack).walk("2", "1", stack.world.account(0).code)
    assert "Due EGP1,128.50" in screen


async def test_back_and_home(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack)
    categories = await handset.walk("1", "3")
    assert "2 انقطاع" in categories
    assert "5 تقسيط" in await handset.press("0")


class JsonAggregator:
    """A gateway that sends only the latest input, with a hop Sequence (Hubtel's format)."""

    def __init__(self, stack: Stack, phone: str = "233246912184"):
        self.stack, self.phone = stack, phone
        self.session_id = uuid.uuid4().hex
        self.sequence = 0

    async def send(self, kind: str, message: str, sequence: int) -> dict[str, str]:
        body = {
            "SessionId": self.session_id,
            "Mobile": self.phone,
            "ServiceCode": "*121#",
            "Type": kind,
            "Message": message,
            "Operator": "vodafone",
            "Sequence": str(sequence),
            "ClientState": "",
        }
        async with self.stack.http.post(self.stack.gateway_url + "/ussd/hubtel", json=body) as r:
            assert r.status == 200
            data: dict[str, str] = await r.json()
            return data

    async def step(self, message: str) -> dict[str, str]:
        self.sequence += 1
        kind = "Initiation" if self.sequence == 1 else "Response"
        return await self.send(kind, message, self.sequence)


async def test_json_aggregator_payment_and_replay(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    agg = JsonAggregator(stack)
    assert (await agg.step("*121#"))["Type"] == "Response"
    for message in ("1", "2", stack.world.account(0).code, "99"):
        answer = await agg.step(message)
    assert "1 ادفع" in answer["Message"]
    receipt = await agg.step("1")
    assert receipt["Type"] == "Release" and receipt["Message"].startswith("تم الدفع")
    replay = await agg.send("Response", "1", agg.sequence)  # the gateway retries the hop
    assert replay == receipt
    assert await stack.payments() == 1


@pytest.mark.parametrize(
    "form",
    [
        {"serviceCode": "*121#", "phoneNumber": "+20100", "text": ""},
        {"sessionId": "x", "serviceCode": "*121#", "text": ""},
    ],
)
async def test_malformed_callbacks_are_refused(
    make_stack: StackFactory, form: dict[str, str]
) -> None:
    stack = await make_stack("eg")
    async with stack.http.post(stack.gateway_url + "/ussd/at", data=form) as response:
        assert response.status == 400
        assert (await response.text()).startswith("END ")


async def test_handsets_without_shaping_get_preshaped_pages(make_stack: StackFactory) -> None:
    stack = await make_stack("eg", ussd_reshape_networks="60299")
    shaped = await Handset(stack, network="60201").walk("1")
    unshaped = await Handset(stack, phone="+201001111111", network="60299").walk("1")
    assert "دفع فاتورة" in shaped
    body = unshaped[4:]
    assert "دفع فاتورة" not in body
    # Arabic presentation forms (U+FE70-U+FEFF), laid out for a left-to-right display.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in body)
    assert len(body) <= 80


async def test_a_forged_redial_learns_nothing_of_a_dropped_payment(
    make_stack: StackFactory,
) -> None:
    """Anyone can send any phoneNumber: a new session on someone's number sees no payee, no
    amount and no digits of the code, and three wrong guesses end the offer for good."""
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    await to_confirm_page(Handset(stack), demo.code)  # dropped on the confirm page
    wrong = "0000" if not demo.code.endswith("0000") else "1111"
    for attempt in range(3):
        forged = Handset(stack)  # same phone number, a session of the attacker's
        prompt = await forged.dial()
        assert "لديك دفع لم يكتمل" in prompt, attempt
        assert "نورة" not in prompt and "١٬١٢٨" not in prompt
        answer = await forged.press(wrong)
        assert "الأرقام غير صحيحة" in answer and "١٬١٢٨" not in answer
    # The offer is gone: the next dial starts afresh, and the right digits no longer help.
    assert "لديك دفع لم يكتمل" not in await Handset(stack).dial()
    assert await stack.payments() == 0


@pytest.mark.parametrize(
    ("walk", "expected"),
    [
        ((), "1 ادفع"),  # the quote, and the resume record for a drop
        (("3", "1"), "وصف"),  # a complaint, asking for the description
        (("5",), "عدد الأقساط"),  # installments, asking for the months
    ],
)
async def test_no_full_code_is_kept_in_redis_mid_walk(
    make_stack: StackFactory, walk: tuple[str, ...], expected: str
) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    handset = Handset(stack)
    if walk:
        screen = await handset.walk("1", *walk, demo.code)
    else:
        screen = await to_confirm_page(handset, demo.code)
    assert expected in screen, screen
    redis = aioredis.Redis.from_url(stack.settings.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=stack.settings.redis_prefix + "*")]
        values = [await redis.get(key) for key in keys if await redis.type(key) == b"string"]
    finally:
        await redis.aclose()
    assert values
    assert not [v for v in values if v and demo.code.encode() in v]


async def test_callbacks_need_the_aggregator_s_secret_when_one_is_set(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack("eg", ussd_callback_secret="s3cret-from-the-aggregator-page")
    form = {"sessionId": "ATUid_x", "serviceCode": "*121#", "phoneNumber": "+201001234567",
            "networkCode": "60201", "text": ""}  # fmt: skip
    url = stack.gateway_url + "/ussd/at"
    for query in ("", "?key=wrong", "?key="):
        async with stack.http.post(url + query, data=form) as response:
            assert response.status == 403, query
    async with stack.http.post(url + "?key=s3cret-from-the-aggregator-page", data=form) as ok:
        assert ok.status == 200 and (await ok.text()).startswith("CON")
    headers = {"X-Tasdeed-Key": "s3cret-from-the-aggregator-page"}
    async with stack.http.post(url, data={**form, "sessionId": "ATUid_y"}, headers=headers) as ok:
        assert ok.status == 200
    # The end-of-session notice is guarded the same way: a stranger cannot end a session.
    async with stack.http.post(url + "/events", data={"sessionId": "ATUid_x"}) as ended:
        assert ended.status == 403
    async with stack.http.post(
        stack.gateway_url + "/ussd/hubtel", json={"SessionId": "h1", "Mobile": "233200000000",
                                                 "Type": "Initiation", "Sequence": 1},
    ) as hubtel:  # fmt: skip
        assert hubtel.status == 403


async def test_callbacks_from_outside_the_allowed_sources_are_refused(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack("eg", ussd_allowed_sources="10.20.30.0/24")
    assert (await Handset(stack).send_status("")) == 403
    allowed = await make_stack("eg", ussd_allowed_sources="10.20.30.0/24, 127.0.0.1")
    assert (await Handset(allowed).send_status("")) == 200


async def test_typed_ahead_inputs_are_budgeted_per_hop(make_stack: StackFactory) -> None:
    """`1*2*<code>*0*<code>*0*…`: forty quotes in one request before; now a clear END."""
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    handset = Handset(stack)
    await handset.dial()
    flood = "*".join(["1", "2", demo.code] + [f"0*{demo.code}"] * 40)
    screen = await handset.send(flood)
    assert screen.startswith("END مدخلات كثيرة")
    assert await quotes(stack) == 0


async def test_quotes_per_conversation_are_budgeted(make_stack: StackFactory) -> None:
    stack = await make_stack("eg", ussd_max_inputs_per_hop=100)
    demo = stack.world.account(0)
    handset = Handset(stack)
    await handset.dial()
    # Home from the quote, pay again, the code again: each code asks for a quote. (Typed
    # ahead in one request, a run stops at the first confirmation: one run per quote.)
    screen = await handset.press("1*2*" + demo.code)
    for _ in range(6):
        screen = await handset.press(f"00*2*{demo.code}")
    assert screen.startswith("END تجاوزت عدد المحاولات"), screen
    assert await quotes(stack) <= 6
    assert await stack.payments() == 0


async def test_sessions_per_phone_per_minute_are_budgeted(make_stack: StackFactory) -> None:
    stack = await make_stack("eg", ussd_sessions_per_minute=3)
    for _ in range(3):
        assert (await Handset(stack).dial()).startswith("CON")
    assert (await Handset(stack).dial()).startswith("END محاولات كثيرة")
    assert (await Handset(stack, phone="+201009999999").dial()).startswith("CON")


async def test_a_returning_caller_pays_in_four_screens(make_stack: StackFactory) -> None:
    """Dial → main menu (language remembered) → code → confirmation → receipt."""
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    arabic = Handset(stack, phone="+201005550001")
    await arabic.walk("1")  # Arabic chosen once; remembered from now on
    back = Handset(stack, phone="+201005550001")
    screens = [await back.dial()]
    assert screens[0].startswith("CON تسديد") and "7 English" in screens[0]
    screens.append(await back.press("2"))
    screens.append(await back.press(demo.code))
    assert "1 ادفع" in screens[-1] and "لا يسترد" in screens[-1]  # one page
    screens.append(await back.press("1"))
    assert screens[-1].startswith("END تم الدفع")
    assert len(screens) == 4 and await stack.payments() == 1


async def test_a_shortcut_dial_goes_straight_to_the_confirmation(make_stack: StackFactory) -> None:
    """*121*2*<code># reaches the gateway as a first request whose text is "2*<code>"."""
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    handset = Handset(stack, phone="+201005550002")
    handset.inputs = ["2", demo.code]
    confirm = await handset.send("*".join(handset.inputs))
    assert confirm.startswith("CON ") and "1 ادفع" in confirm
    assert (await handset.press("1")).startswith("END تم الدفع")
    assert await stack.payments() == 1


async def test_change_language_from_the_main_menu(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    handset = Handset(stack, phone="+201005550003")
    await handset.walk("1")
    languages = await Handset(stack, phone="+201005550003").walk("7")
    assert "1 العربية" in languages and "2 English" in languages
    english = await Handset(stack, phone="+201005550003").walk("7", "2")
    assert "1 My bill" in english and "7 Arabic" in english
    # Remembered: the next dial opens in English.
    assert "1 My bill" in await Handset(stack, phone="+201005550003").dial()


# --- issue 16: what the first week of real users would report -------------------------------


async def test_a_paid_bill_with_nothing_payable_says_what_was_paid_and_when(
    make_stack: StackFactory,
) -> None:
    """Egypt takes no overpayment: once the bill is paid, a "pay again" could only be refused
    ("nothing due"). The walk ends with the payment's amount, local date and receipt."""
    stack = await make_stack("eg")
    stack.world.clock.current = datetime(2026, 11, 24, 23, 30)  # 01:30 on the 25th in Cairo
    demo = stack.world.account(0)
    first = Handset(stack)
    await to_confirm_page(first, demo.code)
    receipt = (await first.press("1")).split("الإيصال ")[1].split("\n")[0]
    again = await Handset(stack, phone="+201009990001").walk("1", "2", demo.code)
    assert again.startswith("END الفاتورة دي اتدفعت: ١٬١٢٨٫٥٠ ج.م. يوم ٢٥/١١/٢٠٢٦"), again
    assert receipt in again
    assert "مرة أخرى" not in again and "مستحقة" not in again
    assert await stack.payments() == 1


async def test_pay_again_is_still_offered_where_the_profile_takes_overpayment(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack("kw")  # allow_overpayment: a second payment is credited
    demo = stack.world.account(0)
    first = Handset(stack)
    await to_confirm_page(first, demo.code)
    await first.press("1")
    second = Handset(stack, phone="+96550000009")
    offer = await second.walk("1", "2", demo.code)
    assert "1 ادفع مرة أخرى" in offer
    quote = await second.press("1")
    assert "لا يسترد" in quote and "مستحقة" not in quote  # a quote, not a refusal
    assert await stack.payments() == 1


async def test_typed_ahead_inputs_apply_one_by_one_on_any_step(make_stack: StackFactory) -> None:
    """Several inputs in one request ("2*<code>*99"), mid-session: each applies as if typed
    on its own, "99" included, on whatever screen the one before led to."""
    stack = await make_stack("sa")
    demo = stack.world.account(1)  # its quote takes two pages
    typed = Handset(stack, phone="+966500000011")
    one_by_one = await typed.walk("1", "2", demo.code)
    assert "\n99 " in one_by_one
    second_page = await typed.press("99")
    assert "1 ادفع" in second_page
    ahead = Handset(stack, phone="+966500000012")
    await ahead.walk("1")  # Arabic, then the main menu
    assert await ahead.press(f"2*{demo.code}*99") == second_page
    # From the language screen too: Arabic, my bill, the code, then the next page.
    eg = await make_stack("eg")
    flagged = eg.world.account(1)  # its balance takes two pages (the prepaid warning)
    handset = Handset(eg, phone="+201009990002")
    await handset.dial()
    page = await handset.press(f"1*1*{flagged.code}*99")
    assert "اختيار غير صحيح" not in page
    assert "عداد مسبق الدفع" in page and "1 ادفع الآن" in page


async def test_a_typed_ahead_run_stops_at_the_confirmation(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)
    handset = Handset(stack)
    await handset.walk("1", "2")
    # "<code>*1": the "1" was typed before the payee and the amount were shown.
    confirm = await handset.press(f"{demo.code}*1")
    assert confirm.startswith("CON ") and "لا يسترد" in confirm and "1 ادفع" in confirm
    assert await stack.payments() == 0
    assert await handset.send("*".join(handset.inputs)) == confirm  # a retry: the same page
    # Answered on its own screen, after it was shown: that pays.
    assert (await handset.press("1")).startswith("END تم الدفع")
    assert await stack.payments() == 1


async def test_typed_ahead_amounts_are_data(make_stack: StackFactory) -> None:
    """On the amount screen "99" and "0" are amounts, even typed ahead from a confirmation
    whose options were on its second page."""
    stack = await make_stack("sa")
    demo = stack.world.account(1)  # its quote takes two pages
    handset = Handset(stack)
    await to_confirm_page(handset, demo.code)
    assert handset.inputs[-1] == "99"  # the options are on the quote's second page
    screen = await handset.press("3*99")  # another amount: 99 SAR
    assert "أدخل المبلغ" not in screen, screen  # "99" was the amount, not "next page"
    pages = [screen]
    while "1 ادفع" not in screen:
        screen = await handset.press("99")
        pages.append(screen)
    assert "99.00 ر.س." in "\n".join(pages)
    zero = await handset.press("3*0")
    assert "أدخل المبلغ" in zero  # "0" was read as an amount (refused), not as "back"
    assert await stack.payments() == 0
