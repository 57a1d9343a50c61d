"""The backend process really killed with SIGKILL between quote and confirm and inside a
confirm (before and after its commit), restarted, and the ledger checked: no double charge,
no lost confirmed payment. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tasdeed.billing_client import BillingClient, BillingRefused, PaymentOutcomeUnknown, Timeouts
from tasdeed.contract import RefusalReason
from tests.conftest import LedgerWorld, WorldFactory

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BackendProcess:
    """`python -m billing serve` as its own process, on a given ledger."""

    def __init__(self, world: LedgerWorld):
        self.world = world
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, fault_points: str = "") -> None:
        env = {
            **os.environ,
            "TASDEED_PROFILE": self.world.profile.id,
            "DATABASE_URL": self.world.database.url,
            "BILLING_PORT": str(self.port),
            "TASDEED_FAULT_POINTS": fault_points,
        }
        # Popen only forks; the waiting below is asynchronous.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "billing", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(self.url + "/health") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("billing backend did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def wait_dead(self) -> int:
        assert self.process is not None
        for _ in range(200):
            code = self.process.poll()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        raise AssertionError("backend should have died")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
async def backend(make_world: WorldFactory) -> AsyncIterator[BackendProcess]:
    process = BackendProcess(await make_world("eg"))
    yield process
    process.stop()


def client_for(process: BackendProcess) -> BillingClient:
    return BillingClient(process.url, timeouts=Timeouts(connect_s=0.5, total_s=2.0), retries=1)


async def ledger_state(world: LedgerWorld) -> dict[str, int]:
    return await world.ledger.totals()


async def test_killed_between_quote_and_confirm(backend: BackendProcess) -> None:
    demo = backend.world.account(1)
    await backend.start()
    async with client_for(backend) as client:
        quote = await client.quote(demo.code, channel="ussd")
    backend.kill()
    await backend.start()
    async with client_for(backend) as client:
        receipt = await client.confirm(quote.quote_id, "after-restart")
    assert receipt.amount.minor == demo.amount_due_minor
    assert await ledger_state(backend.world) == {
        "payments": 1,
        "paid_minor": demo.amount_due_minor,
        "allocated_minor": demo.amount_due_minor,
    }


async def test_killed_inside_confirm_before_commit(backend: BackendProcess) -> None:
    demo = backend.world.account(1)
    await backend.start(fault_points="confirm.before_commit")
    async with client_for(backend) as client:
        quote = await client.quote(demo.code, channel="ivr")
        with pytest.raises(PaymentOutcomeUnknown):
            await client.confirm(quote.quote_id, "CA-kill-1")
    assert await backend.wait_dead() == -signal.SIGKILL
    assert (await ledger_state(backend.world))["payments"] == 0
    await backend.start()
    async with client_for(backend) as client:
        with pytest.raises(BillingRefused) as status:
            await client.payment_status("CA-kill-1")
        assert status.value.reason is RefusalReason.PAYMENT_UNKNOWN
        receipt = await client.confirm(quote.quote_id, "CA-kill-1")
        assert await client.confirm(quote.quote_id, "CA-kill-1") == receipt
    state = await ledger_state(backend.world)
    assert state == {
        "payments": 1,
        "paid_minor": demo.amount_due_minor,
        "allocated_minor": demo.amount_due_minor,
    }


async def test_killed_inside_confirm_after_commit(backend: BackendProcess) -> None:
    demo = backend.world.account(1)
    await backend.start(fault_points="confirm.after_commit")
    async with client_for(backend) as client:
        quote = await client.quote(demo.code, channel="whatsapp")
        with pytest.raises(PaymentOutcomeUnknown):
            await client.confirm(quote.quote_id, "SM-kill-2")
    assert await backend.wait_dead() == -signal.SIGKILL
    # The payment committed before the crash: it must not be lost...
    assert (await ledger_state(backend.world))["payments"] == 1
    await backend.start()
    async with client_for(backend) as client:
        found = await client.payment_status("SM-kill-2")
        # ...and the retry must return it, not charge again.
        retried = await client.confirm(quote.quote_id, "SM-kill-2")
        assert retried == found
        with pytest.raises(BillingRefused) as again:
            await client.quote(demo.code, channel="whatsapp")
        assert again.value.reason is RefusalReason.ALREADY_PAID_RECENTLY
    assert (await ledger_state(backend.world))["payments"] == 1
