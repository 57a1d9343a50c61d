"""Bill day for real: 10,000 accounts on PostgreSQL, the billing backend, the Twilio stand-in
and messaging workers as their own processes, Redis Streams between them. A worker is killed
with SIGKILL mid-run and the campaign command is run twice; every notice goes out exactly
once, opted-out and phoneless accounts get nothing, and the ledger agrees with what the
stand-in recorded."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from billing.bulk_seed import BulkMix, seed_bulk_accounts
from billing.models import OutboxMessage
from tests.conftest import LedgerWorld, WorldFactory
from tests.processes import BackendProcess, ServiceProcess, free_port

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/0"
ACCOUNTS = 10_000
CYCLE = "2030-01"  # no demo account has a bill this month: the campaign is the bulk accounts
MIX = BulkMix()
TOKEN = "bill-day-test-token"
SID = "AC" + "b" * 32


def expected_split() -> tuple[int, int, int]:
    """(sent, suppressed no_phone, suppressed opted_out) for ACCOUNTS with MIX."""
    numbers = range(1, ACCOUNTS + 1)
    no_phone = sum(1 for n in numbers if n % MIX.no_phone_every == 0)
    opted_out = sum(
        1
        for n in numbers
        if n % MIX.no_phone_every
        and n % MIX.sms_opt_out_every == 0
        and n % MIX.whatsapp_opt_in_every
    )
    return ACCOUNTS - no_phone - opted_out, no_phone, opted_out


class BillDay:
    def __init__(self, world: LedgerWorld, prefix: str):
        self.world = world
        self.backend = BackendProcess(world)
        self.standin_port = free_port()
        self.standin_url = f"http://127.0.0.1:{self.standin_port}"
        self.standin = ServiceProcess(
            "twilio_standin",
            "--port",
            str(self.standin_port),
            "--account-sid",
            SID,
            "--auth-token",
            TOKEN,
        )
        self.env = {
            "TASDEED_PROFILE": world.profile.id,
            "BILLING_URL": self.backend.url,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE": self.standin_url,
            # Status callbacks are the small test's subject; here nobody listens for them.
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "NOTICES_RATE_PER_S": "5000",
            "NOTICES_WORKERS": "6",
            "NOTICES_STALE_AFTER_S": "3",
            "NOTICES_QUIET_HOURS": "off",  # the clock is real here; quiet hours have their test
            "LOG_LEVEL": "WARNING",
        }
        self.workers: list[ServiceProcess] = []

    async def start(self) -> None:
        await self.backend.start()
        await self.standin.start(health_url=self.standin_url + "/_standin/stats")

    def start_worker(self) -> ServiceProcess:
        worker = ServiceProcess("messaging", "worker", env=self.env)
        self.workers.append(worker)
        return worker

    async def campaign(self) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "messaging",
            "campaign",
            CYCLE,
            env={**os.environ, **self.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, output.decode()
        return output.decode()

    async def states(self) -> Counter[str]:
        async with self.world.sessions() as s:
            rows = await s.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.campaign == f"bill:{CYCLE}")
                .group_by(OutboxMessage.state)
            )
            return Counter({state: count for state, count in rows.all()})

    async def recorded(self) -> list[dict[str, object]]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.standin_url + "/_standin/messages") as response,
        ):
            assert response.status == 200
            data = await response.json()
        return list(data["messages"] if isinstance(data, dict) else data)

    def stop(self) -> None:
        for process in [*self.workers, self.standin, self.backend]:
            process.stop()


@pytest.fixture
async def bill_day(pg_world: WorldFactory) -> AsyncIterator[BillDay]:
    world = await pg_world("eg")
    await seed_bulk_accounts(world.sessions, world.profile, ACCOUNTS, CYCLE, datetime(2030, 1, 28))
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    day = BillDay(world, prefix)
    await day.start()
    yield day
    day.stop()
    redis = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def wait_until(predicate: object, timeout_s: float, what: str) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def test_ten_thousand_notices_once_each_through_a_killed_worker_and_a_rerun(
    bill_day: BillDay,
) -> None:
    sent_expected, no_phone, opted_out = expected_split()

    first = await bill_day.campaign()
    # Accounts without a phone number get no notice row at all.
    with_phone = ACCOUNTS - no_phone
    assert f"{with_phone} notices written now" in first
    assert (await bill_day.states()) == Counter({"queued": sent_expected, "suppressed": opted_out})

    doomed = bill_day.start_worker()
    survivor = bill_day.start_worker()
    await doomed.start()
    await survivor.start()

    async def a_quarter_sent() -> bool:
        return (await bill_day.states())["sent"] >= sent_expected // 4

    await wait_until(a_quarter_sent, 120, "a quarter of the notices to be sent")
    doomed.kill()  # SIGKILL: its claimed and pending messages are left mid-flight

    second = await bill_day.campaign()  # an operator runs the command again
    assert "0 notices written now" in second
    assert "queued 0," in second

    await bill_day.start_worker().start()

    # A message the killed worker had sent is found at the provider and recorded with what
    # the provider knows by then: "delivered" (or "read" on WhatsApp) rather than "sent" (no
    # callbacks reach the ledger here, so nothing else moves a row past "sent").
    out = ("sent", "delivered", "read")

    async def all_final() -> bool:
        states = await bill_day.states()
        return sum(states[s] for s in out) + states["suppressed"] == with_phone

    try:
        await wait_until(all_final, 240, "every notice to reach a final state")
    except AssertionError as error:
        raise AssertionError(f"{error}: {await bill_day.states()}") from None

    states = await bill_day.states()
    assert sum(states[s] for s in out) == sent_expected
    assert states["suppressed"] == opted_out
    assert set(states) <= {*out, "suppressed"}

    recorded = await bill_day.recorded()
    assert len(recorded) == sent_expected
    bodies = Counter((str(m["to"]), str(m["body"])) for m in recorded)
    assert max(bodies.values()) == 1  # no notice went out twice

    async with bill_day.world.sessions() as s:
        rows = (
            await s.execute(
                select(OutboxMessage.provider_sid, OutboxMessage.channel, OutboxMessage.attempts)
                .where(OutboxMessage.campaign == f"bill:{CYCLE}")
                .where(OutboxMessage.state.in_(out))
            )
        ).all()
    assert {sid for sid, _, _ in rows} == {str(m["sid"]) for m in recorded}
    channels = Counter(channel for _, channel, _ in rows)
    assert channels["whatsapp"] == sum(
        1
        for n in range(1, ACCOUNTS + 1)
        if n % MIX.no_phone_every and n % MIX.whatsapp_opt_in_every == 0
    )
    whatsapp_recorded = sum(1 for m in recorded if str(m["to"]).startswith("whatsapp:"))
    assert whatsapp_recorded == channels["whatsapp"]
    # The killed worker's messages were taken over: some were claimed a second time.
    assert any(attempts >= 2 for _, _, attempts in rows)
