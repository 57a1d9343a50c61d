"""The utility rules answered on the keypad channels from each account's real data:
USSD (Africa's Talking format) and IVR (signed Twilio webhooks), real Redis and backend."""

from __future__ import annotations

from sqlalchemy import select

from billing.models import Credit, MeterReading
from tests.e2e.conftest import StackFactory
from tests.e2e.test_ivr_calls import Caller, ivr_stack
from tests.e2e.test_ussd_sessions import ARABIC_INDIC, Handset


async def pages(handset: Handset, first: str) -> str:
    """The whole answer, paging with 99 until the END page."""
    seen = [first]
    while not seen[-1].startswith("END "):
        seen.append(await handset.press("99"))
    return "\n".join(seen)


async def test_egypt_prepaid_meter_warning_by_ussd(make_stack: StackFactory) -> None:
    stack = await make_stack("eg")
    arrears = stack.world.account(1)  # three unpaid bills
    handset = Handset(stack)
    menu = await handset.walk("1", "6")
    assert "1 العداد مسبق الدفع" in menu
    await handset.press("1")
    answer = await pages(handset, await handset.press(arrears.code))
    assert "سيستبدل العداد بعداد مسبق الدفع" in answer
    assert "لتجنب ذلك سدد المتأخرات أو اطلب التقسيط" in answer
    clear = Handset(stack, phone="+201000000009")
    await clear.walk("1", "6", "1")
    answer = await pages(clear, await clear.press(stack.world.account(0).code))
    assert "سيستبدل العداد" not in answer


async def test_kuwait_block_and_incentive_by_ussd(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    handset = Handset(stack)
    await handset.walk("1", "6", "1")  # transaction block
    blocked = await pages(handset, await handset.press(stack.world.account(1).code))
    assert "فات سداد ٣ أقساط متتالية" in blocked
    saver = Handset(stack, phone="+96550000002")
    await saver.walk("1", "6", "2")  # Ahsemha
    answer = await pages(saver, await saver.press(stack.world.account(2).code))
    assert "مؤهل لبرنامج احسمها" in answer


async def test_meter_reading_by_ussd(make_stack: StackFactory) -> None:
    stack = await make_stack("kw")
    demo = stack.world.account(0)
    async with stack.world.sessions() as s:
        last = await s.scalar(
            select(MeterReading.value)
            .where(MeterReading.kind == "electricity", MeterReading.account_id == 1)
            .order_by(MeterReading.month.desc())
        )
    assert last is not None
    handset = Handset(stack)
    await handset.walk("1", "6", "3", demo.code, "1")
    lower = await handset.press(str(last - 1))
    assert "القراءة أقل من السابقة" in lower
    done = await handset.press(str(last + 1234).translate(ARABIC_INDIC))
    assert done.startswith("END سجلنا قراءة الكهرباء")
    assert "١٬٢٣٤" in done or "١٢٣٤" in done


async def test_saudi_compensation_by_phone_is_credited_once(make_stack: StackFactory) -> None:
    stack = await ivr_stack(make_stack, "sa")
    demo = stack.world.account(0)  # a 7-hour outage and a 3-hour reconnection
    for _ in range(2):
        caller = Caller(stack)
        if "للعربية اضغط 1" in await caller.ring():  # the second call: language remembered
            await caller.press("1")
        await caller.press("6")
        await caller.press("1")  # compensation
        spoken = await caller.press(demo.code)
        assert "تعويض مائتا ريال" in spoken and "تعويض مائة ريال" in spoken
        # Said in hours, the outage named by its local time, never by its internal id.
        assert "سبع ساعات، والمهلة ست ساعات" in spoken and "OUT-" not in spoken
        assert "المدة ثلاث ساعات، والمهلة ساعتان" in spoken
        assert "أضيف إلى فاتورتك القادمة ثلاثمائة ريال" in spoken
        assert caller.ended()
    async with stack.world.sessions() as s:
        credits = (await s.scalars(select(Credit))).all()
    assert sorted(c.amount_minor for c in credits) == [10000, 20000]
    balance = await stack.world.ledger.balance(code=demo.code)
    assert balance["credit_minor"] == 30000  # asked twice, credited once


async def test_saudi_disconnection_protection_by_ussd(make_stack: StackFactory) -> None:
    stack = await make_stack("sa")
    special_needs = stack.world.account(3)
    handset = Handset(stack)
    await handset.walk("1", "6", "2")
    answer = await pages(handset, await handset.press(special_needs.code))
    assert "ذوي الاحتياجات الخاصة" in answer


async def test_saudi_compensation_by_ussd_keeps_amounts_whole(make_stack: StackFactory) -> None:
    """Issue 16, item 12: no page ends on "تعويض 200.00" with "ر.س." on the next; the outage is
    named by its local date and time, not its internal id; durations in hours."""
    stack = await make_stack("sa")
    handset = Handset(stack)
    await handset.walk("1", "6", "1")  # compensation
    answer = await pages(handset, await handset.press(stack.world.account(0).code))
    lines = [line.removeprefix("CON ").removeprefix("END ") for line in answer.split("\n")]
    assert "تعويض 200.00 ر.س." in lines and "تعويض 100.00 ر.س." in lines
    assert not any(line.endswith(("200.00", "100.00")) for line in lines)
    assert "OUT-" not in answer and "دقيقة" not in answer
    assert "7 ساعات، والمهلة 6 ساعات." in answer
    assert "إعادة الخدمة بعد السداد: المدة 3 ساعات، والمهلة ساعتان." in answer


async def test_egypt_prepaid_warning_on_the_balance_and_quote_screens(
    make_stack: StackFactory,
) -> None:
    """A flagged account hears of the prepaid meter where it sees what it owes: the balance
    (USSD, a call) and the quote (a call). The USSD confirmation stays one page: the payee,
    the amount, "no refund" and the options, without the warning."""
    stack = await ivr_stack(make_stack, "eg")
    flagged, clear = stack.world.account(1), stack.world.account(0)
    handset = Handset(stack)
    balance = await pages(handset, await handset.walk("1", "1", flagged.code))
    assert "بسبب المتأخرات هيتركبلك عداد مسبق الدفع" in balance  # the Egyptian wording
    other = Handset(stack, phone="+201000000010")
    assert "عداد مسبق الدفع" not in await pages(other, await other.walk("1", "1", clear.code))
    payer = Handset(stack, phone="+201000000011")
    confirm = await payer.walk("1", "2", flagged.code)
    assert "لا يسترد" in confirm and "1 ادفع" in confirm and "\n99 " not in confirm
    assert "عداد مسبق الدفع" not in confirm and len(confirm[4:]) <= 80
    caller = Caller(stack, phone="+201000000012")
    await caller.ring()
    await caller.press("1")
    await caller.press("2")
    spoken = await caller.press(flagged.code)
    assert "عداد مسبق الدفع" in spoken and "استرداد" in spoken, spoken
