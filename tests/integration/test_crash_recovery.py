"""The backend process really killed with SIGKILL between quote and confirm and inside a
confirm (before and after its commit), restarted, and the ledger checked: no double charge,
no lost confirmed payment. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import pytest

from tasdeed.billing_client import BillingClient, BillingRefused, PaymentOutcomeUnknown, Timeouts
from tasdeed.contract import RefusalReason
from tests.conftest import LedgerWorld, WorldFactory
from tests.processes import BackendProcess

pytestmark = pytest.mark.slow


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
    await backend.start(TASDEED_FAULT_POINTS="confirm.before_commit")
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
    await backend.start(TASDEED_FAULT_POINTS="confirm.after_commit")
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
