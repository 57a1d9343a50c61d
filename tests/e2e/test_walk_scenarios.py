"""One table of walks, run on all three channels by three thin drivers, end to end through the
real gateway, Rasa with the trained model, the action server and the backend (PostgreSQL).

A scenario speaks in channel-neutral steps: start a walk, then answers as a person gives
them ("1", "نعم", a code, "الغاء"). USSD presses them on Africa's Talking's wire format, a
call sends them as keys or speech in Twilio's signed webhooks, and WhatsApp writes them in
Twilio's signed Messaging webhook. Each scenario states what must show (words every channel
says the same way) and what the ledger must hold afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from typing import Protocol

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from tasdeed.codes import damm_check_digit
from tasdeed.settings import Settings
from tests.e2e.chat_stack import PUBLIC, ROOT, TOKEN, ChatBackends, Phone
from tests.e2e.drivers import CallDriver, ChatDriver, UssdDriver

pytestmark = pytest.mark.slow

CHAT_START = {
    "pay": "عايز أدفع الفاتورة",
    "balance": "عايز اعرف الفاتورة كام",
    "complaint": "عايز اقدم شكوى",
    "installments": "عايز اقسط الفلوس اللي علي",
}
PAID = "تم الدفع"
NOTHING_PAID = "لم يخصم أي مبلغ"
TRANSFER = "سنحولك الآن إلى موظف"


class Driver(Protocol):
    async def start(self, walk: str) -> str: ...
    async def send(self, answer: str) -> str: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    walk: str
    answers: tuple[str, ...]  # "{code}" is the scenario's account's code
    shows: tuple[str, ...]  # each in the last reply; "a|b": either
    payments: int = 0
    needs_unpaid: bool = True


SCENARIOS = [
    Scenario("pay with the key 1", "pay", ("{code}", "1"), (PAID,), payments=1),
    Scenario("pay with a spoken or written yes", "pay", ("{code}", "نعم"), (PAID,), payments=1),
    Scenario("decline with 2", "pay", ("{code}", "2"), (NOTHING_PAID,)),
    Scenario("decline with no", "pay", ("{code}", "لا"), (NOTHING_PAID,)),
    Scenario("cancel at the code", "pay", ("الغاء",), (NOTHING_PAID,)),
    Scenario("cancel at the confirmation", "pay", ("{code}", "cancel"), (NOTHING_PAID,)),
    Scenario("a person at the code", "pay", ("عايز اكلم موظف",), (f"{NOTHING_PAID}|{TRANSFER}",)),
    Scenario("goodbye at the confirmation", "pay", ("{code}", "مع السلامة"), (NOTHING_PAID,)),
    Scenario("a question at the confirmation re-asks", "pay", ("{code}", "وش عملة تدعم؟"), ("1",)),
    Scenario("a wrong digit is caught", "pay", ("{bad_code}",), ("رقم خطأ",)),
    Scenario("cancel at the complaint's category", "complaint", ("لا خلاص",), (NOTHING_PAID,)),
    Scenario(
        "a complaint to a ticket",
        "complaint",
        ("2", "{code}", "العداد بيعد غلط من شهرين"),
        ("تم تسجيل شكواك",),
        needs_unpaid=False,
    ),
    Scenario("balance by account number", "balance", ("{account}",), ("المستحق", "كود السداد")),
    Scenario(
        "installments cancelled at the months", "installments", ("{code}", "الغاء"), (NOTHING_PAID,)
    ),
]
CHANNELS = ("ussd", "ivr", "chat")
_next_account = count(20)  # accounts 0-19 are for test_chat.py's own conversations


@pytest.fixture
async def gateway(backends: ChatBackends) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    settings = Settings(
        tasdeed_profile="eg", billing_url=backends.billing_url, rasa_url=backends.rasa_url,
        redis_url="redis://127.0.0.1:6379/0", redis_prefix=prefix, public_base_url=PUBLIC,
        twilio_auth_token=TOKEN,
    )  # fmt: skip
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield http, str(server.make_url("")).rstrip("/")
    await server.close()


def _driver(channel: str, http: aiohttp.ClientSession, base: str) -> Driver:
    number = f"+2010{uuid.uuid4().int % 10**8:08d}"
    if channel == "ussd":
        return UssdDriver(http, base, number)
    if channel == "ivr":
        return CallDriver(http, base, number)
    return ChatDriver(Phone(http, base, "whatsapp:" + number), CHAT_START)


def _account(backends: ChatBackends, unpaid: bool) -> tuple[str, str]:
    while True:
        demo = backends.accounts[next(_next_account)]
        if not unpaid or demo.unpaid_bills > 0:
            return demo.code, demo.account_number.removeprefix("EG")


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_walk_scenario(
    scenario: Scenario,
    channel: str,
    backends: ChatBackends,
    gateway: tuple[aiohttp.ClientSession, str],
) -> None:
    code, account = _account(backends, scenario.needs_unpaid)
    bad_code = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert damm_check_digit(bad_code[:-1]) != bad_code[-1]
    driver = _driver(channel, *gateway)
    before = await backends.payments()
    shown = await driver.start(scenario.walk)
    for answer in scenario.answers:
        shown = await driver.send(answer.format(code=code, bad_code=bad_code, account=account))
    for words in scenario.shows:
        assert any(w in shown for w in words.split("|")), f"{channel}: {shown!r}"
    assert PAID not in shown or scenario.payments
    assert await backends.payments() == before + scenario.payments


def _out_of_domain() -> list[str]:
    document = yaml.safe_load((ROOT / "nlu_data/test/out_of_domain.yml").read_text("utf-8"))
    lines = str(document["nlu"][0]["examples"]).splitlines()
    return [line.strip().removeprefix("- ") for line in lines if line.strip()]


async def test_no_out_of_domain_message_at_the_confirmation_pays(
    backends: ChatBackends, gateway: tuple[aiohttp.ClientSession, str]
) -> None:
    """Every message of the out-of-domain set, each at the confirmation of a fresh chat
    conversation: zero payments, and each answer either re-asks or leaves."""
    http, base = gateway
    messages = _out_of_domain()
    assert len(messages) >= 300
    code, _ = _account(backends, unpaid=True)
    before = await backends.payments()
    outcomes: dict[str, int] = {"re-asked": 0, "left": 0}
    limit = asyncio.Semaphore(6)

    async def at_confirmation(message: str) -> None:
        async with limit:
            number = f"whatsapp:+2011{uuid.uuid4().int % 10**8:08d}"
            chat = ChatDriver(Phone(http, base, number), CHAT_START)
            await chat.start("pay")
            quote = await chat.send(code)
            assert "لا يسترد" in quote, quote
            answer = await chat.send(message)
        assert PAID not in answer, (message, answer)
        if NOTHING_PAID in answer:
            outcomes["left"] += 1
        else:
            assert "اختيار غير صحيح" in answer, (message, answer)
            outcomes["re-asked"] += 1

    await asyncio.gather(*(at_confirmation(message) for message in messages))
    print(f"\nout-of-domain at the confirmation: {len(messages)} messages, {outcomes}")
    assert sum(outcomes.values()) == len(messages)
    assert await backends.payments() == before


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_paid_bill_is_not_offered_a_second_payment_that_would_fail(
    channel: str, backends: ChatBackends, gateway: tuple[aiohttp.ClientSession, str]
) -> None:
    """Egypt takes no overpayment: right after a payment, the same code ends on what was paid,
    when and its receipt, never on "pay again" (which could only answer "nothing due")."""
    code, _ = _account(backends, unpaid=True)
    before = await backends.payments()
    payer = _driver(channel, *gateway)
    await payer.start("pay")
    await payer.send(code)
    assert PAID in await payer.send("1")
    again = _driver(channel, *gateway)
    await again.start("pay")
    shown = await again.send(code)
    assert "الفاتورة دي اتدفعت" in shown, f"{channel}: {shown!r}"
    assert "مرة أخرى" not in shown and "مستحقة" not in shown, f"{channel}: {shown!r}"
    assert await backends.payments() == before + 1
