"""Notices end to end in one process: the billing backend on PostgreSQL, the gateway (for
STOP messages and Twilio's status callbacks), the Twilio stand-in, the relay and a worker
over real Redis Streams — each over real sockets, with Twilio's own signing.

From a payment, a complaint and a bill cycle to delivered messages; STOP by SMS; quiet hours
holding bill notices but not receipts; permanent, transient and delivery failures; forged and
replayed status callbacks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from billing.app import create_app as create_billing_app
from billing.bulk_seed import BulkMix, seed_bulk_accounts
from billing.models import Account, OutboxMessage
from gateway.app import create_app as create_gateway_app
from messaging.rate_limit import MemoryRateLimiter
from messaging.relay import Relay, RelayCounts
from messaging.sender import TwilioSender
from messaging.status_routes import STATUS_PATH
from messaging.work_queue import RedisWorkQueue
from messaging.worker import Outcome, Worker
from tasdeed.billing_client import BillingClient, Timeouts
from tasdeed.settings import Settings
from tests.conftest import LedgerWorld, WorldFactory
from tests.e2e.conftest import serve
from tests.processes import free_port
from twilio_standin.app import create_app as create_standin_app
from twilio_standin.config import StandinConfig

REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = "notices-e2e-token"
SID = "AC" + "c" * 32
CYCLE = "2030-01"
DAYTIME = datetime(2030, 1, 28, 10, 0, tzinfo=UTC)  # 12:00 in Cairo
NIGHT = datetime(2030, 1, 28, 21, 0, tzinfo=UTC)  # 23:00 in Cairo: quiet hours
FINAL = frozenset({"delivered", "read", "undelivered", "failed", "suppressed"})


@dataclass
class Notices:
    world: LedgerWorld
    billing: BillingClient
    relay: Relay
    worker: Worker
    queue: RedisWorkQueue
    gateway_url: str
    standin_url: str
    http: aiohttp.ClientSession
    now: list[datetime]

    async def drain(self) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while True:
            deliveries = await self.queue.read(
                self.worker.consumer, self.worker.lanes_open(), 50, 200
            )
            if not deliveries:
                return outcomes
            for delivery in deliveries:
                outcomes.append(await self.worker.handle(delivery))

    async def standin(self, method: str, path: str, payload: object = None) -> object:
        async with self.http.request(method, self.standin_url + path, json=payload) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def rows(self, campaign: str | None = None) -> list[OutboxMessage]:
        async with self.world.sessions() as s:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if campaign is not None:
                query = query.where(OutboxMessage.campaign == campaign)
            return list((await s.scalars(query)).all())

    async def settle(self, campaign: str) -> list[OutboxMessage]:
        """Wait for the stand-in's status callbacks to have moved every row to a final state."""
        for _ in range(200):
            rows = await self.rows(campaign)
            if rows and all(row.state in FINAL for row in rows):
                return rows
            await asyncio.sleep(0.05)
        return await self.rows(campaign)

    async def phone_of(self, account_id: int) -> str:
        async with self.world.sessions() as s:
            account = await s.get(Account, account_id)
            assert account is not None and account.phone is not None
            return account.phone

    async def sms_from(self, phone: str, body: str) -> str:
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": SID,
            "From": phone,
            "To": "EEDC",
            "Body": body,
        }
        url = self.gateway_url + "/chat/twilio"
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        async with self.http.post(
            url, data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            assert response.status == 200
            return await response.text()


@pytest.fixture
async def notices(pg_world: WorldFactory) -> AsyncIterator[Notices]:
    world = await pg_world("eg")
    mix = BulkMix(english_every=3, no_phone_every=0, sms_opt_out_every=0, whatsapp_opt_in_every=5)
    await seed_bulk_accounts(world.sessions, world.profile, 12, CYCLE, DAYTIME, mix=mix)
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    billing_server = await serve(create_billing_app(world.ledger))
    billing_url = str(billing_server.make_url("")).rstrip("/")
    standin_server = await serve(
        create_standin_app(StandinConfig(account_sid=SID, auth_token=TOKEN, callback_delay_ms=5))
    )
    standin_url = str(standin_server.make_url("")).rstrip("/")
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        tasdeed_profile="eg",
        billing_url=billing_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        public_base_url=gateway_url,
    )
    gateway_server = await serve(create_gateway_app(settings), port)
    billing = BillingClient(billing_url, timeouts=Timeouts(1.0, 10.0))
    queue = RedisWorkQueue.from_url(REDIS_URL, prefix)
    sender = TwilioSender.create(SID, TOKEN, standin_url, gateway_url + STATUS_PATH, 5.0)
    now = [DAYTIME]
    worker = Worker(
        consumer="test-worker",
        billing=billing,
        queue=queue,
        sender=sender,
        limiter=MemoryRateLimiter(1000),
        profile=world.profile,
        max_attempts=4,
        stale_after_s=30,
        backoff_s=0.01,
        clock=lambda: now[0],
    )
    http = aiohttp.ClientSession()
    yield Notices(
        world,
        billing,
        Relay(billing, queue, world.profile),
        worker,
        queue,
        gateway_url,
        standin_url,
        http,
        now,
    )
    await http.close()
    await sender.close()
    await billing.close()
    for server in (gateway_server, standin_server, billing_server):
        await server.close()
    redis = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    await queue.close()


def _by_account(rows: list[OutboxMessage]) -> dict[int, OutboxMessage]:
    return {row.account_id: row for row in rows}


async def test_bill_cycle_to_delivered_and_read_through_signed_callbacks(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    counts = await notices.relay.run_once(f"bill:{CYCLE}")
    assert counts.queued == 12
    outcomes = await notices.drain()
    assert outcomes == ["sent"] * 12

    rows = await notices.settle(f"bill:{CYCLE}")
    whatsapp = [row for row in rows if row.channel == "whatsapp"]
    sms = [row for row in rows if row.channel == "sms"]
    assert len(whatsapp) == 2 and len(sms) == 10  # every 5th account opted in to WhatsApp
    assert {row.state for row in sms} == {"delivered"}
    assert {row.state for row in whatsapp} == {"read"}
    assert all(row.provider_sid and row.provider_sid.startswith("SM") for row in rows)

    recorded = await notices.standin("GET", "/_standin/messages")
    messages = recorded["messages"] if isinstance(recorded, dict) else recorded
    assert isinstance(messages, list) and len(messages) == 12
    arabic = [m for m in messages if "كود السداد" in m["body"]]
    english = [m for m in messages if "Payment code" in m["body"]]
    assert len(arabic) + len(english) == 12 and english  # every 3rd account reads English
    for message in messages:
        if not str(message["to"]).startswith("whatsapp:"):
            expected = 2 if "كود السداد" in message["body"] else 1  # budgets.toml: ar 2, en 1
            assert int(message["num_segments"]) == expected, message["body"]
            assert message["from"] == "EEDC"

    # The gateway's /metrics carries the ledger's counts (refreshed every few seconds).
    line = f'tasdeed_notices{{campaign="bill:{CYCLE}",state="delivered"}} 10.0'
    for _ in range(60):
        async with notices.http.get(notices.gateway_url + "/metrics") as response:
            if line in await response.text():
                break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"/metrics never showed {line}")

    # Running the campaign and the relay again sends nothing more.
    again = await notices.billing.issue_bill_cycle(CYCLE)
    assert again.created == 0
    assert (await notices.relay.run_once(f"bill:{CYCLE}")).queued == 0
    assert await notices.drain() == []


async def test_receipt_goes_out_in_quiet_hours_and_bill_notices_wait(notices: Notices) -> None:
    demo = notices.world.account(0)
    quote = await notices.billing.quote(demo.code, channel="ussd")
    await notices.billing.confirm(quote.quote_id, "quiet-hours-test-key")
    await notices.billing.issue_bill_cycle(CYCLE)
    await notices.relay.run_once()

    notices.now[0] = NIGHT
    outcomes = await notices.drain()
    assert outcomes == ["sent"]  # the receipt; bill notices are not even read at night
    receipts = await notices.rows("receipts")
    assert len(receipts) == 1 and receipts[0].state in {"sent", "delivered", "read"}
    waiting = await notices.rows(f"bill:{CYCLE}")
    assert {row.state for row in waiting} == {"queued"}

    notices.now[0] = DAYTIME.replace(day=29, hour=7, minute=0)  # 09:00 in Cairo
    assert await notices.drain() == ["sent"] * 12


async def test_stop_by_sms_suppresses_the_next_notice(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    bill_rows = await notices.rows(f"bill:{CYCLE}")
    sms_account = next(row.account_id for row in bill_rows if row.account_id % 5)
    phone = await notices.phone_of(sms_account)

    reply = await notices.sms_from(phone, "إيقاف")
    assert "أوقفنا رسائل الفواتير" in reply
    english = await notices.sms_from(phone, "STOP")
    assert "Bill messages to this number are stopped" in english

    counts = await notices.relay.run_once(f"bill:{CYCLE}")
    assert counts.suppressed == {"opted_out": 1}
    assert counts.queued == 11
    stopped = _by_account(await notices.rows(f"bill:{CYCLE}"))[sms_account]
    assert stopped.state == "suppressed" and stopped.error_code == "opted_out"

    # START turns it back on for the next message (the suppressed one stays suppressed).
    assert "Bill messages to this number are on" in await notices.sms_from(phone, "START")


async def test_opt_out_after_queueing_is_honoured_at_send_time(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    await notices.relay.run_once(f"bill:{CYCLE}")
    rows = await notices.rows(f"bill:{CYCLE}")
    target = next(row for row in rows if row.channel == "sms")
    await notices.sms_from(await notices.phone_of(target.account_id), "stop")
    outcomes = await notices.drain()
    assert sorted(outcomes) == sorted(["suppressed"] + ["sent"] * 11)
    recorded = await notices.standin("GET", "/_standin/messages")
    messages = recorded["messages"] if isinstance(recorded, dict) else recorded
    assert isinstance(messages, list)
    assert await notices.phone_of(target.account_id) not in {m["to"] for m in messages}


async def test_failures_permanent_transient_and_undelivered(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    rows = [row for row in await notices.rows(f"bill:{CYCLE}") if row.account_id % 5]
    unsubscribed, flaky, unreachable = [await notices.phone_of(r.account_id) for r in rows[:3]]
    await notices.standin(
        "POST",
        "/_standin/outcomes",
        {
            unsubscribed: {"create_error": 21610},
            flaky: {"transient_errors": 2},
            unreachable: {"delivery": "undelivered", "error_code": 30003},
        },
    )
    await notices.relay.run_once(f"bill:{CYCLE}")
    outcomes = await notices.drain()
    assert sorted(outcomes) == sorted(["failed"] + ["sent"] * 11)
    settled = _by_account(await notices.settle(f"bill:{CYCLE}"))
    failed, retried, undelivered = (settled[r.account_id] for r in rows[:3])
    assert (failed.state, failed.error_code, failed.attempts) == ("failed", "21610", 1)
    assert retried.state == "delivered"
    assert (undelivered.state, undelivered.error_code) == ("undelivered", "30003")
    stats = await notices.standin("GET", "/_standin/stats")
    assert isinstance(stats, dict)
    recorded = await notices.standin("GET", "/_standin/messages")
    messages = recorded["messages"] if isinstance(recorded, dict) else recorded
    assert isinstance(messages, list)
    assert [m["to"] for m in messages].count(flaky) == 1  # two 500s, then one message
    assert unsubscribed not in {m["to"] for m in messages}


async def test_status_callbacks_must_be_signed_and_replays_change_nothing(
    notices: Notices,
) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    await notices.relay.run_once(f"bill:{CYCLE}")
    await notices.drain()
    row = next(r for r in await notices.settle(f"bill:{CYCLE}") if r.channel == "sms")
    assert row.state == "delivered" and row.provider_sid
    url = notices.gateway_url + STATUS_PATH
    late = {"MessageSid": row.provider_sid, "MessageStatus": "sent", "AccountSid": SID}

    async def post(params: dict[str, str], signature: str | None) -> int:
        headers = {"X-Twilio-Signature": signature} if signature is not None else {}
        async with notices.http.post(url, data=params, headers=headers) as response:
            return response.status

    assert await post(late, None) == 403
    assert await post(late, RequestValidator("forged").compute_signature(url, late)) == 403
    signed = RequestValidator(TOKEN).compute_signature(url, late)
    assert await post(late, signed) == 204  # a replayed, late "sent": accepted, no effect
    assert await post(late, signed) == 204
    failed = {**late, "MessageStatus": "failed", "ErrorCode": "30008"}
    assert await post(failed, RequestValidator(TOKEN).compute_signature(url, failed)) == 204
    after = _by_account(await notices.rows(f"bill:{CYCLE}"))[row.account_id]
    assert after.state == "delivered"  # delivered is final: a later failure cannot undo it
    unknown = {**late, "MessageSid": "SM" + "0" * 32}
    assert await post(unknown, RequestValidator(TOKEN).compute_signature(url, unknown)) == 404


async def test_a_message_queued_twice_goes_out_once(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    page = await notices.billing.pending_notices(campaign=f"bill:{CYCLE}")
    counts = RelayCounts()
    await notices.relay.relay_page(page.items, counts)
    # As if the relay died after queueing and before marking, and ran again.
    await notices.relay.relay_page(page.items, counts)
    outcomes = await notices.drain()
    assert outcomes.count("sent") == 12 and outcomes.count("done") == 12
    recorded = await notices.standin("GET", "/_standin/messages")
    messages = recorded["messages"] if isinstance(recorded, dict) else recorded
    assert isinstance(messages, list) and len(messages) == 12


async def test_a_lost_work_queue_is_rebuilt_from_the_outbox(notices: Notices) -> None:
    await notices.billing.issue_bill_cycle(CYCLE)
    await notices.relay.run_once(f"bill:{CYCLE}")
    # Redis restarted without persistence: the streams and their group are gone.
    await notices.queue.redis.delete(*notices.queue.streams.values())
    notices.queue.groups_ready = False
    assert await notices.drain() == []
    assert {row.state for row in await notices.rows(f"bill:{CYCLE}")} == {"queued"}

    assert await notices.billing.requeue_stale_notices(0) == 12
    assert (await notices.relay.run_once(f"bill:{CYCLE}")).queued == 12
    assert await notices.drain() == ["sent"] * 12
