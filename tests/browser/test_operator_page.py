"""The operator view's live sessions and complaint history in real headless Chromium, behind
OPERATOR_TOKEN (sent as the browser would after its prompt: HTTP Basic, the token as the
password), against the real gateway, Redis and the billing backend on PostgreSQL."""

from __future__ import annotations

import base64
import uuid

import pytest
from playwright.async_api import expect

from tasdeed.codes import mask_code
from tests.browser.conftest import Browser
from tests.e2e.conftest import Stack, StackFactory

pytestmark = pytest.mark.slow

OPERATOR_TOKEN = "browser-operator-" + "k" * 32


async def ussd(stack: Stack, session_id: str, *inputs: str) -> str:
    form = {"sessionId": session_id, "serviceCode": "*121#", "phoneNumber": "+201001234567",
            "networkCode": "60201", "text": "*".join(inputs)}  # fmt: skip
    async with stack.http.post(stack.gateway_url + "/ussd/at", data=form) as response:
        assert response.status == 200
        return await response.text()


async def test_operator_follows_a_live_session_and_a_complaint(
    make_stack: StackFactory, browser: Browser
) -> None:
    stack = await make_stack("eg", operator_token=OPERATOR_TOKEN)
    world = stack.world
    code = world.account(1).code
    session_id = f"ATUid_{uuid.uuid4().hex}"
    for inputs in ((), ("1",), ("1", "1"), ("1", "1", code)):  # Arabic, balance, the code
        await ussd(stack, session_id, *inputs)
    ticket, _ = await world.ledger.file_complaint(
        category="outage", description="x", channel="ussd", idempotency_key=None, code=code
    )
    world.clock.advance(minutes=40)
    await world.ledger.set_complaint_status(ticket["ticket_number"], "in_progress")

    page = browser.page
    async with stack.http.get(stack.gateway_url + "/operator") as response:
        assert response.status == 401  # no token: a browser would prompt for it
    password = base64.b64encode(f"staff:{OPERATOR_TOKEN}".encode()).decode()
    await browser.context.set_extra_http_headers({"Authorization": f"Basic {password}"})
    await page.goto(stack.gateway_url + "/operator")
    await expect(page.locator("body")).to_have_attribute("data-polls", "1")

    row = page.locator('#op-session-rows tr[data-channel="ussd"]')
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-step", "balance.result")
    await expect(row.locator(".code")).to_have_text(mask_code(code))
    await expect(row.locator(".inputs")).to_have_text("3")
    text = await page.locator("body").inner_text()
    assert code not in text and session_id not in text and "201001234567" not in text
    await browser.shot("operator-live-sessions")

    # The complaint's ticket in the table opens its history: filed on USSD, then moved on.
    await page.click(f'#op-complaint-rows tr[data-ticket="{ticket["ticket_number"]}"] a')
    events = page.locator("#op-history li")
    await expect(events).to_have_count(2)
    await expect(events.nth(0)).to_have_attribute("data-status", "open")
    await expect(events.nth(0)).to_have_attribute("data-source", "ussd")
    await expect(events.nth(1)).to_have_attribute("data-status", "in_progress")
    await expect(events.nth(1)).to_contain_text("المشغل")
    await expect(events.nth(1)).to_contain_text("قيد المعالجة")
    await browser.shot("operator-complaint-history")

    # A ticket typed in Arabic-Indic digits; an unknown one says so.
    await page.fill("#op-ticket", "٩٩٩٩٩٩٩٩")
    await page.click("#op-follow")
    await expect(page.locator("#op-history .error")).to_have_text("لا توجد شكوى بهذا الرقم.")
    # The browser reports the refusal above (404) as a failed load: expected.
    browser.errors[:] = [
        e for e in browser.errors if "the server responded with a status of 40" not in e
    ]
    browser.assert_only_talked_to(stack.gateway_url)
