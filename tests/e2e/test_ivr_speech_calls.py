"""Whole calls answered by voice, understood by the really trained Rasa model: Rasa runs for the
module as its own process with its HTTP API behind a token (as the Procfile starts it), the
gateway asks `/model/parse` what the caller said at the main menu, and only the reviewed
yes-list confirms a payment. Webhooks are signed as Twilio signs them; payments are counted in
the PostgreSQL ledger."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chat.rasa_client import RasaClient
from tasdeed.normalise import normalise_input
from tests.e2e.conftest import Stack, StackFactory
from tests.e2e.test_ivr_calls import PUBLIC, TOKEN, Caller
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "var" / "models" / "tasdeed.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
WORDS = {"0": "صفر", "1": "واحد", "2": "اتنين", "3": "تلاتة", "4": "أربعة", "5": "خمسة",
         "6": "ستة", "7": "سبعة", "8": "تمانية", "9": "تسعة"}  # fmt: skip

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Nlu:
    url: str
    token: str


@pytest.fixture(scope="module")
def nlu() -> Iterator[Nlu]:
    if not MODEL.is_file() or not RASA.is_file():
        pytest.fail("no trained model: run `make model` (make test does) before these tests")
    port, token = free_port(), secrets.token_hex(16)
    rasa = subprocess.Popen(
        [str(RASA), "run", "--enable-api", "--auth-token", token, "--model", str(MODEL),
         "--interface", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:  # answers 200 once the model is loaded
                urllib.request.urlopen(f"{url}/status?token={token}", timeout=2)
                break
            except OSError:
                if rasa.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("rasa run --enable-api did not come up")
                time.sleep(0.5)
        yield Nlu(url, token)
    finally:
        rasa.terminate()
        rasa.wait(timeout=60)


async def speech_stack(make_stack: StackFactory, nlu: Nlu) -> Stack:
    return await make_stack(
        "eg",
        public_base_url=PUBLIC,
        twilio_auth_token=TOKEN,
        rasa_url=nlu.url,
        rasa_token=nlu.token,
    )


async def to_confirm_by_voice(caller: Caller, code: str) -> str:
    await caller.ring()
    await caller.say("واحد")  # Arabic
    prompt = await caller.say("عايز ادفع الفاتورة")
    assert "أدخل كود السداد" in prompt, prompt
    return await caller.say(" ".join(WORDS[d] for d in code))


async def test_the_model_reads_what_callers_say(nlu: Nlu) -> None:
    client = RasaClient(nlu.url, token=nlu.token)
    try:
        parsed = await client.parse(normalise_input("عايز ادفع الفاتورة").text)
        assert parsed is not None and parsed[0] == "pay_bill" and parsed[1] >= 0.6, parsed
    finally:
        await client.close()
    wrong = RasaClient(nlu.url, token="not-the-token")
    down = RasaClient(f"http://127.0.0.1:{free_port()}", token=nlu.token)
    try:
        assert await wrong.parse("عايز ادفع الفاتوره") is None  # refused: 401
        assert await down.parse("عايز ادفع الفاتوره") is None  # nothing listening
    finally:
        await wrong.close()
        await down.close()


async def test_a_payment_said_from_the_menu_to_the_receipt(
    make_stack: StackFactory, nlu: Nlu
) -> None:
    stack = await speech_stack(make_stack, nlu)
    demo = stack.world.account(0)  # EGP 1,128.50 due
    caller = Caller(stack)
    confirm = await to_confirm_by_voice(caller, demo.code)
    assert "ألف ومائة وثمانية وعشرون جنيهًا وخمسون قرشًا" in confirm
    assert "ادفع، اضغط 1" in confirm
    receipt = await caller.say("نعم")
    assert "تم الدفع: ألف ومائة وثمانية وعشرون جنيهًا" in receipt
    assert caller.ended()
    assert await stack.payments() == 1


async def test_a_question_at_the_confirmation_asks_again_and_pays_nothing(
    make_stack: StackFactory, nlu: Nlu
) -> None:
    stack = await speech_stack(make_stack, nlu)
    caller = Caller(stack)
    await to_confirm_by_voice(caller, stack.world.account(0).code)
    again = await caller.say("وش عملة تدعم")
    assert again.startswith("اختيار غير صحيح") and "ادفع، اضغط 1" in again
    assert not caller.ended()
    assert await stack.payments() == 0
    # What the NLU would read as paying is no yes at a confirmation either.
    offer = await caller.say("عايز ادفع الفاتورة")
    assert "للتحدث مع موظف اضغط 1" in offer
    assert await stack.payments() == 0


async def test_leaving_by_voice_mid_payment_pays_nothing(
    make_stack: StackFactory, nlu: Nlu
) -> None:
    stack = await speech_stack(make_stack, nlu)
    caller = Caller(stack)
    await to_confirm_by_voice(caller, stack.world.account(0).code)
    spoken = await caller.say("خلاص شكرا")
    assert "تم الإلغاء ولم يخصم أي مبلغ" in spoken and caller.ended()
    assert await stack.payments() == 0
