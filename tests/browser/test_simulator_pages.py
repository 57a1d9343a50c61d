"""The simulator page and the operator view in real headless Chromium, against the real
gateway, the real billing backend on PostgreSQL and, for chat, the trained Rasa model with
the action server. The page is used as a person would (clicks and typing); what reached the
system is checked on the system's side (the ledger, the wire format), and every step is
saved as a screenshot under test-artifacts/screenshots/."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, expect

from gateway.app import create_app
from tasdeed.money import Money, format_money
from tasdeed.settings import Settings
from tests.browser.conftest import Browser
from tests.e2e.chat_stack import ChatBackends
from tests.e2e.conftest import Stack, StackFactory

pytestmark = pytest.mark.slow

# What Twilio would call: the relay signs over it and never needs to reach it, because it
# forwards to the gateway's own socket (as behind the TLS proxy in front of a deployment).
PUBLIC = "https://ivr.tasdeed.example"
TOKEN = "browser-test-auth-token"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def open_page(browser: Browser, url: str) -> Page:
    page = browser.page
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def amount_ar(minor: int) -> str:
    return format_money(Money(minor, "EGP"), "ar_EG", "arab", plain=True)


# ---- USSD -----------------------------------------------------------------------------------


async def ussd_screen(page: Page) -> str:
    return str(await page.locator("#ussd-screen").evaluate("e => e.textContent"))


async def ussd_reply(page: Page, value: str, expected: str) -> str:
    await page.fill("#ussd-reply", value)
    await page.click("#ussd-send")
    await expect(page.locator("#ussd-screen")).to_contain_text(expected)
    return await ussd_screen(page)


async def check_counter(page: Page, screen: str) -> None:
    """The counter shows this screen's length against the UCS-2 page limit, and it fits."""
    counter = page.locator("#ussd-counter")
    assert await counter.get_attribute("data-count") == str(len(screen))
    assert await counter.get_attribute("data-max") == "80"  # Arabic on the page: UCS-2
    assert len(screen) <= 80, screen
    await expect(counter).to_have_text(f"{len(screen)} من 80 حرفا")
    await expect(page.locator("#ussd-encoding")).to_contain_text("UCS-2")


async def test_ussd_payment_to_a_receipt(make_stack: StackFactory, browser: Browser) -> None:
    stack = await make_stack("eg")
    demo = stack.world.account(0)  # one unpaid bill, EGP 1,128.50
    forms: list[dict[str, list[str]]] = []
    browser.page.on(
        "request",
        lambda r: (
            forms.append(parse_qs(r.post_data or "", keep_blank_values=True))
            if r.url == stack.gateway_url + "/ussd/at"
            else None
        ),
    )
    page = await open_page(browser, stack.gateway_url + "/")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await expect(page.locator("#demo-codes")).to_contain_text(demo.code)
    await expect(page.locator("#ussd-screen")).to_contain_text("اطلب \u2066*121#\u2069 لتبدأ.")
    await browser.shot("page")

    await page.click("#ussd-dial")
    await expect(page.locator("#ussd-screen")).to_contain_text("English")
    await check_counter(page, await ussd_screen(page))
    await browser.shot("dialled")
    screen = await ussd_reply(page, "1", "دفع فاتورة")
    await check_counter(page, screen)
    await browser.shot("main-menu")
    screen = await ussd_reply(page, "2", "أدخل كود السداد")
    await browser.shot("ask-code")
    screen = await ussd_reply(page, demo.code, amount_ar(demo.amount_due_minor))
    await check_counter(page, screen)
    # The whole confirmation on one page: payee, amount, no refund, 1 and 2.
    assert "لا يسترد" in screen and "1 ادفع" in screen
    await browser.shot("confirm")
    assert await stack.payments() == 0  # nothing moved before "1"

    screen = await ussd_reply(page, "1", "تم الدفع")
    await browser.shot("receipt")
    receipts = await stack.world.ledger.recent_payments(5)
    assert len(receipts) == 1 and await stack.payments() == 1
    assert receipts[0]["receipt_number"] in screen
    assert receipts[0]["channel"] == "ussd"
    await expect(page.locator("#ussd")).to_have_attribute("data-state", "ended")
    await expect(page.locator("#ussd-status-ended")).to_have_text("انتهت الجلسة (END).")
    await expect(page.locator("#ussd-reply")).to_be_disabled()
    await check_counter(page, screen)

    # Africa's Talking's exact fields, the whole chain joined by "*" on every hop.
    assert [f["text"] for f in forms] == [
        [""],
        ["1"],
        ["1*2"],
        [f"1*2*{demo.code}"],
        [f"1*2*{demo.code}*1"],
    ]
    last = forms[-1]
    assert set(last) == {"sessionId", "serviceCode", "phoneNumber", "networkCode", "text"}
    assert last["serviceCode"] == ["*121#"] and last["networkCode"] == ["60202"]
    assert last["phoneNumber"][0].startswith("+2010") and len(last["phoneNumber"][0]) == 13
    assert len({f["sessionId"][0] for f in forms}) == 1
    browser.assert_only_talked_to(stack.gateway_url)


# ---- chat -----------------------------------------------------------------------------------


@pytest.fixture
async def chat_gateway(backends: ChatBackends) -> AsyncIterator[str]:
    """A gateway in front of the module's Rasa and billing processes (in-process state)."""
    settings = Settings(
        tasdeed_profile="eg",
        billing_url=backends.billing_url,
        rasa_url=backends.rasa_url,
        redis_url="",
        public_base_url="https://chat.tasdeed.example",
        twilio_auth_token=TOKEN,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def chat_say(page: Page, text: str, expected: str) -> None:
    bot_before = await page.locator("#chat-messages .bubble.bot").count()
    await page.fill("#chat-input", text)
    await page.click("#chat-send")
    await expect(page.locator("#chat-messages .bubble.me").last).to_have_text(text)
    await expect(page.locator("#chat-app")).to_have_attribute("data-pending", "0")
    replies = page.locator("#chat-messages .bubble.bot")
    assert await replies.count() > bot_before
    await expect(replies.nth(bot_before)).to_be_visible()
    await expect(page.locator("#chat-messages")).to_contain_text(expected)


def sms_segments_ucs2(text: str) -> int:
    """The oracle for Arabic replies: UCS-2, 70 units alone, 67 per concatenated part."""
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


async def test_chat_balance_question_in_arabic(
    chat_gateway: str, backends: ChatBackends, browser: Browser
) -> None:
    demo = backends.accounts[0]  # EGP 1,128.50 due
    page = await open_page(browser, chat_gateway + "/")
    await chat_say(page, "كم علي فاتورة؟", "أدخل كود السداد")
    await browser.shot("asks-code")
    await chat_say(page, demo.code, amount_ar(demo.amount_due_minor))
    await browser.shot("due-amount")
    transcript = await page.locator("#chat-messages").inner_text()
    assert demo.payee_name.split()[1] not in transcript  # the payee only masked

    # SMS: every reply shows how many segments it takes, as the oracle counts them.
    await page.check("#chat-mode-sms")
    await expect(page.locator("#chat-app")).to_have_class("messenger sms")
    replies = page.locator("#chat-messages .bubble.bot")
    assert await replies.count() >= 2
    for index in range(await replies.count()):
        reply = replies.nth(index)
        text = str(await reply.locator(".text").evaluate("e => e.textContent"))
        segments = sms_segments_ucs2(text)
        meta = reply.locator(".segments")
        await expect(meta).to_have_attribute("data-segments", str(segments))
        await expect(meta).to_have_text(f"أجزاء الرسالة: {segments} · UCS-2")
    await browser.shot("sms-segments")
    browser.assert_only_talked_to(chat_gateway)


async def test_chat_payment_shows_the_receipt_image(
    chat_gateway: str, backends: ChatBackends, browser: Browser
) -> None:
    before = await backends.payments()
    demo = backends.accounts[3]  # one unpaid bill, EGP 787.75
    page = await open_page(browser, chat_gateway + "/")
    await chat_say(page, "عايز أدفع الفاتورة", "أدخل كود السداد")
    await chat_say(page, demo.code, "لا يسترد")
    await chat_say(page, "ايوه", "تم الدفع: " + amount_ar(demo.amount_due_minor))
    image = page.locator("#chat-messages img.receipt")
    await expect(image).to_have_count(1)
    assert str(await image.get_attribute("src")).startswith("/chat/receipts/")
    # Loaded and decoded by the browser: a real PNG from the gateway, not a broken image.
    await page.wait_for_function(
        "() => { const i = document.querySelector('#chat-messages img.receipt');"
        " return i && i.complete && i.naturalWidth > 100; }"
    )
    await browser.shot("receipt-image")
    assert await backends.payments() == before + 1

    await page.check("#chat-mode-sms")  # SMS carries no images
    await expect(page.locator("#chat-messages img.receipt")).to_have_count(0)
    await expect(page.locator("#chat-messages")).to_contain_text("لا صور في SMS.")
    await browser.shot("sms-no-image")

    # The operator view lists it under the chat channel, payee masked.
    await page.goto(chat_gateway + "/operator")
    await expect(page.locator("body")).to_have_attribute("data-polls", "1")
    rows = page.locator("#op-payment-rows tr[data-channel='chat']")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("محمد إ. الش.")
    await expect(rows).to_contain_text("محادثة (واتساب أو SMS أو الويب)")
    await expect(page.locator('#chart-payments li[data-channel="web"]')).to_have_attribute(
        "data-total", "1"
    )
    await browser.shot("operator-chat-payment")
    browser.assert_only_talked_to(chat_gateway)


# ---- the call -------------------------------------------------------------------------------


async def ivr_stack(make_stack: StackFactory) -> Stack:
    return await make_stack("eg", public_base_url=PUBLIC, twilio_auth_token=TOKEN)


async def press(page: Page, keys: str) -> None:
    for key in keys:
        await expect(page.locator("#call")).to_have_attribute("data-busy", "false")
        await page.click(f'#call .key[data-key="{key}"]')


async def heard(transcript: Locator, text: str) -> None:
    await expect(transcript.locator(".line.system").last).to_be_visible()
    await expect(transcript).to_contain_text(text)


async def pay_by_call(page: Page, browser: Browser, code: str) -> str:
    """Ring, Arabic, pay a bill, the code and #, confirm with 1: the transcript's text."""
    transcript = page.locator("#call-transcript")
    await page.click("#call-start")
    await heard(transcript, "للعربية اضغط 1")
    await browser.shot("call-ringing")
    await press(page, "1")
    await heard(transcript, "دفع فاتورة، اضغط 2")
    await press(page, "2")
    await heard(transcript, "أدخل كود السداد")
    await browser.shot("call-ask-code")
    await press(page, code)
    await expect(page.locator("#call-entered")).to_have_text(code)
    await press(page, "#")
    await heard(transcript, "كود السداد " + "، ".join(code))  # read back digit by digit
    await heard(transcript, "ألف ومائة وثمانية وعشرون جنيهًا وخمسون قرشًا")
    await browser.shot("call-confirm")
    await press(page, "1")
    await heard(transcript, "تم الدفع: ألف ومائة وثمانية وعشرون جنيهًا")
    await expect(page.locator("#call")).to_have_attribute("data-state", "ended")
    return await transcript.inner_text()


async def test_call_payment_by_keypad(make_stack: StackFactory, browser: Browser) -> None:
    stack = await ivr_stack(make_stack)
    demo = stack.world.account(0)
    posts: list[str] = []
    browser.page.on(
        "request", lambda r: posts.append(r.post_data or "") if "/simulator/ivr" in r.url else None
    )
    page = await open_page(browser, stack.gateway_url + "/")
    transcript = await pay_by_call(page, browser, demo.code)
    await expect(page.locator("#call-status")).to_have_text("انتهت المكالمة.")
    await expect(page.locator("#call-transcript .line.ending")).to_have_text(
        "النظام: انتهت المكالمة."
    )
    await expect(page.locator("#call-hangup")).to_be_disabled()
    await browser.shot("call-receipt")
    assert "شكرا لاتصالك" in transcript
    assert await stack.payments() == 1
    [receipt] = await stack.world.ledger.recent_payments(5)
    assert receipt["channel"] == "ivr"
    # The page followed the TwiML's own URLs (under PUBLIC) through the relay, and the call
    # ended with Twilio's status callback.
    assert f'"url":"{PUBLIC}/ivr/voice"' in posts[0]
    assert all(f'"url":"{PUBLIC}/ivr/' in post for post in posts)
    assert f'"url":"{PUBLIC}/ivr/status"' in posts[-1] and '"CallStatus":"completed"' in posts[-1]
    assert sum('"url":"' + PUBLIC + "/ivr/gather?step=" in post for post in posts) == 4
    browser.assert_only_talked_to(stack.gateway_url)


# ---- the operator view ----------------------------------------------------------------------


async def test_operator_view_shows_the_payment_masked(
    make_stack: StackFactory, browser: Browser
) -> None:
    stack = await ivr_stack(make_stack)
    world = stack.world
    demo = world.account(0)
    page = await open_page(browser, stack.gateway_url + "/")
    await pay_by_call(page, browser, demo.code)
    [receipt] = await world.ledger.recent_payments(5)
    # Two complaints: an outage (6-hour SLA) that is overdue once the clock moves 7 hours,
    # and a billing complaint (240 hours) filed after the move.
    overdue, _ = await world.ledger.file_complaint(
        category="outage", description="x", channel="ivr", idempotency_key=None, code=demo.code
    )
    world.clock.advance(hours=7)
    fresh, _ = await world.ledger.file_complaint(
        category="billing", description="x", channel="ussd", idempotency_key=None, code=demo.code
    )

    await page.goto(stack.gateway_url + "/operator")
    await expect(page.locator("body")).to_have_attribute("data-polls", "1")
    row = page.locator(f'#op-payment-rows tr[data-receipt="{receipt["receipt_number"]}"]')
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("نورة ي. س.")  # masked as every channel shows it
    await expect(row.locator(".amount")).to_have_text(amount_ar(demo.amount_due_minor))
    await expect(row).to_contain_text("مكالمة صوتية")
    # 09:00 UTC on the ledger's clock is 11:00 in Cairo, in the profile's digits.
    await expect(row.locator(".time")).to_have_text("2026-11-24 11:00:00".translate(ARABIC_INDIC))
    text = await page.locator("body").inner_text()
    assert demo.payee_name not in text and demo.code not in text
    assert demo.account_number not in text
    await browser.shot("operator")

    late = page.locator(f'#op-complaint-rows tr[data-ticket="{overdue["ticket_number"]}"]')
    await expect(late.locator("td.sla")).to_have_class("sla overdue")
    await expect(late.locator("td.sla")).to_contain_text("متأخرة 1:00:")
    ontime = page.locator(f'#op-complaint-rows tr[data-ticket="{fresh["ticket_number"]}"]')
    await expect(ontime.locator("td.sla")).to_contain_text("متبق 239:59:")
    await expect(ontime).to_contain_text("فاتورة")  # the catalogue's category name

    # Charts from the gateway's Prometheus registry: this gateway's one call and payment.
    await expect(page.locator('#op-live-rows tr[data-channel="ivr"] .count')).to_have_text("1")
    await expect(page.locator('#chart-payments li[data-channel="ivr"]')).to_have_attribute(
        "data-total", "1"
    )
    await expect(page.locator('#chart-payments li[data-channel="ussd"]')).to_have_attribute(
        "data-total", "0"
    )
    await expect(page.locator('#chart-payments rect[data-channel="ivr"]')).to_have_count(1)
    # ivr/calls.py times each Gather webhook: the four keypad answers of this call.
    await expect(page.locator('#chart-latency .latency-row[data-channel="ivr"]')).to_have_attribute(
        "data-hops", "4"
    )
    await browser.shot("operator-charts")
    browser.assert_only_talked_to(stack.gateway_url)


# ---- layout and language --------------------------------------------------------------------


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[2] and widths[1] <= widths[2], widths


async def test_phone_width_rtl_and_english(make_stack: StackFactory, browser: Browser) -> None:
    stack = await make_stack("eg")
    page = browser.page
    await page.set_viewport_size({"width": 375, "height": 812})
    await open_page(browser, stack.gateway_url + "/")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert await page.evaluate("document.documentElement.lang") == "ar"
    await no_horizontal_scroll(page)
    await page.click("#ussd-dial")  # a screen of text in place, still no sideways scroll
    await expect(page.locator("#ussd-screen")).to_contain_text("English")
    await no_horizontal_scroll(page)
    await browser.shot("phone-simulator")
    # The profiles: the active one marked, the others with how to run them.
    await expect(page.locator("#profiles li.active")).to_have_attribute("data-profile", "eg")
    await expect(page.locator("#profiles li")).to_have_count(3)
    await expect(page.locator("#profiles")).to_contain_text("TASDEED_PROFILE=kw make run")

    await page.goto(stack.gateway_url + "/operator")
    await expect(page.locator("body")).to_have_attribute("data-polls", "1")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await no_horizontal_scroll(page)
    await browser.shot("phone-operator")

    await page.goto(stack.gateway_url + "/")
    await page.click("#lang-switch")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert await page.evaluate("document.documentElement.dir") == "ltr"
    assert await page.evaluate("document.documentElement.lang") == "en"
    await expect(page.locator("#ussd-dial")).to_have_text("Dial")
    await expect(page.locator("#demo-codes")).to_contain_text("EGP")
    await no_horizontal_scroll(page)
    await browser.shot("phone-english")
    browser.assert_only_talked_to(stack.gateway_url)


async def test_sms_segment_counter_in_the_page(make_stack: StackFactory, browser: Browser) -> None:
    """The page's counter (GSM-7 160/153, UCS-2 70/67) on the boundaries."""
    stack = await make_stack("eg")
    page = await open_page(browser, stack.gateway_url + "/")
    cases = {
        "a" * 160: ("GSM-7", 1),
        "a" * 161: ("GSM-7", 2),
        "a" * 306: ("GSM-7", 2),
        "a" * 307: ("GSM-7", 3),
        "€" * 80: ("GSM-7", 1),  # extension characters take two septets each
        "€" * 81: ("GSM-7", 2),
        "ب" * 70: ("UCS-2", 1),
        "ب" * 71: ("UCS-2", 2),
        "ب" * 134: ("UCS-2", 2),
        "ب" * 135: ("UCS-2", 3),
        "a" * 159 + "ب": ("UCS-2", 3),  # one Arabic letter makes the whole SMS UCS-2
    }
    for text, (encoding, segments) in cases.items():
        counted = await page.evaluate("t => Sim.smsSegments(t)", text)
        assert (counted["encoding"], counted["segments"]) == (encoding, segments), text[:3]


async def test_page_without_billing_still_renders(
    make_stack: StackFactory, browser: Browser
) -> None:
    """Billing down: the page says so where the demo codes would be, and USSD still answers
    its first screen (which needs no billing)."""
    stack = await make_stack("eg")
    await stack.servers[1].close()  # the billing backend
    page = await open_page(browser, stack.gateway_url + "/")
    await expect(page.locator("#demo-codes .error")).to_have_text("تعذر الوصول إلى نظام الفوترة.")
    await page.click("#ussd-dial")
    await expect(page.locator("#ussd-screen")).to_contain_text("English")
    await page.goto(stack.gateway_url + "/operator")
    await expect(page.locator("#op-payments .error")).to_have_text("تعذر الوصول إلى نظام الفوترة.")
    await browser.shot("billing-down")
