"""The rasa-sdk action server SIGKILLed in the middle of a WhatsApp payment walk, with the real
Rasa (the trained model), the real billing backend on PostgreSQL and the real gateway: once
between the quote and the "yes", once while its confirm call is in flight (its answer held
by our TCP proxy on the action server → billing link). Rasa keeps the walk in its tracker,
the key comes from the conversation and the quote, so after a restart the same "yes" gets
the receipt of the one payment; nothing is ever charged twice.

Rasa takes about two minutes to load, so this module starts its own Rasa and billing once;
the action server is started by each test (it is the part that gets killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from billing.db import create_engine, session_factory
from billing.demo_data import DemoAccount, plan_accounts, seed_demo_data
from billing.models import Account, Payment, PaymentCode
from gateway.app import create_app
from tasdeed.profile import load_profile
from tasdeed.settings import Settings
from tests.conftest import SEED, FixedClock, _pg_admin, pg_url
from tests.e2e.chat_stack import MODEL, PUBLIC, RASA, ROOT, TOKEN, Phone, texts
from tests.own_services import free_port
from tests.tcp_proxy import Fault, Mode, TcpProxy

pytestmark = pytest.mark.slow
ACCOUNTS = 40
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


@dataclass
class ChatParts:
    database_url: str
    billing_url: str
    rasa_url: str
    actions_port: int
    env: dict[str, str]
    accounts: list[DemoAccount]


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="module")
def parts(pg_template: str) -> Iterator[ChatParts]:
    if not MODEL.is_file() or not RASA.is_file():
        pytest.fail("no trained model: run `make model` (make test does) before these tests")
    name = f"tasdeed_kill_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = pg_url(name)

    async def seed() -> None:
        engine = create_engine(url)
        await seed_demo_data(
            session_factory(engine), load_profile("eg"), SEED, FixedClock()(), ACCOUNTS
        )
        await engine.dispose()

    asyncio.run(seed())
    billing_port, actions_port, rasa_port = free_port(), free_port(), free_port()
    env = {**os.environ, "TASDEED_PROFILE": "eg", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "RASA_TELEMETRY_ENABLED": "false", "REDIS_URL": "", "SANIC_HOST": "127.0.0.1",
           "BILLING_PORT": str(billing_port),
           "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}/webhook"}  # fmt: skip
    processes = [
        subprocess.Popen([sys.executable, "-m", "billing", "serve"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([str(RASA), "run", "--model", str(MODEL), "--endpoints",
                          "bot/endpoints.yml", "--credentials", "bot/credentials.yml",
                          "--interface", "127.0.0.1", "--port", str(rasa_port)], env=env,
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{billing_port}/health", 30)
        _wait(f"http://127.0.0.1:{rasa_port}/", 240)
        payable = [d for d, _ in plan_accounts(load_profile("eg"), SEED, ACCOUNTS)]
        yield ChatParts(
            url,
            f"http://127.0.0.1:{billing_port}",
            f"http://127.0.0.1:{rasa_port}",
            actions_port,
            env,
            [d for d in payable if d.unpaid_bills > 0],
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class ActionServer:
    """`python -m rasa_sdk --actions actions` (as tests/e2e/chat_stack.py starts it),
    reaching billing through `billing_url`."""

    def __init__(self, parts: ChatParts, billing_url: str):
        self.parts = parts
        self.env = {**parts.env, "BILLING_URL": billing_url}
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        argv = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port",
                str(self.parts.actions_port)]  # fmt: skip
        # Its own process group: Sanic serves from a worker process under a manager, and
        # SIGKILL to the manager alone would leave the worker answering.
        self.process = subprocess.Popen(  # noqa: ASYNC220 - only forks; the wait is async
            argv,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        await asyncio.to_thread(_wait, f"http://127.0.0.1:{self.parts.actions_port}/health", 30)

    def kill(self) -> None:
        """SIGKILL to every process of the action server (its group), then wait."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        port = self.parts.actions_port
        for _ in range(100):  # the worker is gone when the port stops answering
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=0.5)
            except OSError:
                return
            time.sleep(0.05)
        raise AssertionError("the action server still answers after SIGKILL")

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Stage:
    phone: Phone
    actions: ActionServer
    billing_link: TcpProxy
    parts: ChatParts

    async def payments_of(self, demo: DemoAccount) -> list[Payment]:
        engine = create_engine(self.parts.database_url)
        try:
            async with session_factory(engine)() as s:
                account_id = await s.scalar(
                    select(Account.id).join(PaymentCode).where(PaymentCode.code == demo.code)
                )
                rows = await s.scalars(select(Payment).where(Payment.account_id == account_id))
                return list(rows.all())
        finally:
            await engine.dispose()


@pytest.fixture
async def stage(parts: ChatParts) -> AsyncIterator[Stage]:
    billing_link = await TcpProxy(int(parts.billing_url.rsplit(":", 1)[1])).start()
    actions = ActionServer(parts, f"http://127.0.0.1:{billing_link.port}")
    await actions.start()
    settings = Settings(
        tasdeed_profile="eg", billing_url=parts.billing_url, rasa_url=parts.rasa_url,
        redis_url="", public_base_url=PUBLIC, twilio_auth_token=TOKEN,
    )  # fmt: skip
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        phone = Phone(
            http,
            str(server.make_url("")).rstrip("/"),
            f"whatsapp:+2010{uuid.uuid4().int % 10**8:08d}",
        )
        yield Stage(phone, actions, billing_link, parts)
    actions.stop()
    await server.close()
    await billing_link.close()


async def to_the_confirmation(stage: Stage, demo: DemoAccount) -> None:
    assert "كود السداد" in texts(await stage.phone.say("عايز أدفع الفاتورة"))
    quote = texts(await stage.phone.say(demo.code))
    assert "ج.م." in quote and "كود السداد" not in quote, (quote, stage.billing_link.stats)


async def after_restart(stage: Stage, demo: DemoAccount) -> str:
    """The action server is back; the person says yes again and, if the walk did not survive,
    starts the payment over (pay, code, yes) as people do. Returns what they were told."""
    await stage.actions.start()
    told = texts(await stage.phone.say("ايوه"))
    if "تم الدفع" in told:
        return told
    await stage.phone.say("عايز أدفع الفاتورة")
    quote = texts(await stage.phone.say(demo.code))
    if "لا يسترد" not in quote:  # no confirmation: "paid already, receipt …", the truth
        return quote
    return texts(await stage.phone.say("ايوه"))


async def test_action_server_killed_between_quote_and_yes(stage: Stage, parts: ChatParts) -> None:
    demo = parts.accounts[0]
    await to_the_confirmation(stage, demo)
    stage.actions.kill()
    status, meanwhile = await stage.phone.send("ايوه")
    assert status == 200, meanwhile  # the gateway answers; nothing was paid
    assert "تم الدفع" not in meanwhile
    assert await stage.payments_of(demo) == []
    told = await after_restart(stage, demo)
    (payment,) = await stage.payments_of(demo)
    assert "تم الدفع" in told, told
    assert payment.receipt_number in told.translate(DIGITS), told


async def test_action_server_killed_while_its_confirm_is_in_flight(
    stage: Stage, parts: ChatParts
) -> None:
    demo = parts.accounts[1]
    await to_the_confirmation(stage, demo)
    stage.billing_link.set(Fault(Mode.STALL, seconds=1.5, direction="down"))
    saying_yes = asyncio.create_task(stage.phone.send("ايوه"))
    await asyncio.sleep(0.7)  # the confirm reached billing; its answer is held
    stage.actions.kill()
    status, meanwhile = await saying_yes
    stage.billing_link.set()
    assert status == 200, meanwhile
    assert "تم الدفع" not in meanwhile and "لم يخصم" not in meanwhile, meanwhile
    await asyncio.sleep(1.5)
    (landed,) = await stage.payments_of(demo)  # the backend paid, once
    told = await after_restart(stage, demo)
    assert len(await stage.payments_of(demo)) == 1, told
    # Whatever way the person asks again, they are shown that one payment's receipt.
    assert landed.receipt_number in told.translate(DIGITS), told


async def test_the_person_hears_something_while_the_action_server_is_down(
    stage: Stage, parts: ChatParts
) -> None:
    demo = parts.accounts[2]
    await to_the_confirmation(stage, demo)
    stage.actions.kill()
    status, meanwhile = await stage.phone.send("ايوه")
    assert status == 200
    assert "<Message" in meanwhile, meanwhile
