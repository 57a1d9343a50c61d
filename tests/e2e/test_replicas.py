"""Replicas as real processes: HAProxy (Debian's package) balancing round robin over two
`python -m gateway` processes that share Redis, one `python -m billing serve` on PostgreSQL,
all in production mode (TASDEED_ENV=production: service token, USSD callback secret, no
simulator). A USSD session whose hops alternate between the replicas pays once; then one
gateway is SIGKILLed mid-session and the session finishes on the survivor, paid once.

HAProxy adds `X-Tasdeed-Replica: <server>` to each answer, so the test counts which replica
served every hop. `scripts/ensure-haproxy.sh` (run by `make test`) installs HAProxy."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.conftest import LedgerWorld, WorldFactory
from tests.processes import BackendProcess, HaproxyProcess, ServiceProcess, free_port

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/0"
REPLICA_HEADER = "X-Tasdeed-Replica"

HAPROXY_CFG = """\
global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 20s
    timeout server 20s
    # A replica that died refuses the connection: try again on another one. Nothing was
    # sent, so nothing is repeated (and a USSD hop seen twice answers the same anyway).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
frontend webhooks
    bind 127.0.0.1:{port}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /health
    http-response set-header {header} %[srv_name]
    server gw1 127.0.0.1:{gw1} check inter 500ms fall 2 rise 2
    server gw2 127.0.0.1:{gw2} check inter 500ms fall 2 rise 2
"""


@dataclass
class Replicas:
    world: LedgerWorld
    url: str  # HAProxy's frontend
    secret: str  # USSD_CALLBACK_SECRET
    gateways: dict[str, ServiceProcess]
    http: aiohttp.ClientSession
    served: list[str] = field(default_factory=list)  # replica of every hop, in order

    async def payments(self) -> int:
        return (await self.world.ledger.totals())["payments"]


@pytest.fixture
async def replicas(pg_world: WorldFactory, tmp_path: Path) -> AsyncIterator[Replicas]:
    world = await pg_world("eg")
    token = secrets.token_hex(24)
    secret = secrets.token_hex(12)
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    production = {
        "TASDEED_ENV": "production",
        "TASDEED_PROFILE": world.profile.id,
        "SERVICE_TOKEN": token,
        "TASDEED_FAULT_POINTS": "",
        "LOG_LEVEL": "WARNING",
    }
    # Every replica of the gateway gets the same settings (secrets included).
    gateway_env = {
        **production,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "PUBLIC_BASE_URL": "https://pay.example.com",
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "SIMULATOR_ENABLED": "false",
        "USSD_CALLBACK_SECRET": secret,
        "RASA_TOKEN": secrets.token_hex(16),
        "PHONE_HASH_SALT": secrets.token_hex(16),
        "OPERATOR_TOKEN": secrets.token_hex(16),
        "RASA_URL": "http://127.0.0.1:9",
    }
    backend = BackendProcess(world)
    gateways = {name: ServiceProcess("gateway") for name in ("gw1", "gw2")}
    ports = {name: free_port() for name in gateways}
    haproxy_port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        HAPROXY_CFG.format(port=haproxy_port, header=REPLICA_HEADER, **ports), encoding="utf-8"
    )
    haproxy = HaproxyProcess(config)
    http = aiohttp.ClientSession()
    try:
        await backend.start(**production)
        for name, gateway in gateways.items():
            await gateway.start(
                f"http://127.0.0.1:{ports[name]}/health",
                **gateway_env,
                GATEWAY_PORT=str(ports[name]),
                BILLING_URL=backend.url,
            )
        haproxy.start()
        url = f"http://127.0.0.1:{haproxy_port}"
        await _wait_balanced(http, url)
        yield Replicas(world, url, secret, gateways, http)
    finally:
        await http.close()
        haproxy.stop()
        for process in (*gateways.values(), backend):
            process.stop()
        redis = aioredis.Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def _wait_balanced(http: aiohttp.ClientSession, url: str) -> None:
    """Until HAProxy answers and its checks have found both replicas up."""
    seen: set[str] = set()
    for _ in range(200):
        try:
            async with http.get(url + "/health") as response:
                if response.status == 200:
                    seen.add(response.headers.get(REPLICA_HEADER, ""))
        except aiohttp.ClientError:
            pass
        if {"gw1", "gw2"} <= seen:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"HAProxy did not balance over both gateways (saw {seen})")


class Handset:
    """A feature phone on Africa's Talking, through the load balancer."""

    def __init__(self, replicas: Replicas, phone: str):
        self.replicas = replicas
        self.phone = phone
        self.session_id = f"ATUid_{uuid.uuid4().hex}"
        self.inputs: list[str] = []
        self.served: list[str] = []

    async def send(self) -> str:
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.replicas.world.profile.ussd_service_code,
            "phoneNumber": self.phone,
            "networkCode": "60201",
            "text": "*".join(self.inputs),
        }
        url = f"{self.replicas.url}/ussd/at?key={self.replicas.secret}"
        async with self.replicas.http.post(url, data=form) as response:
            assert response.status == 200, await response.text()
            replica = response.headers[REPLICA_HEADER]
            self.served.append(replica)
            self.replicas.served.append(replica)
            return await response.text()

    async def dial(self) -> str:
        self.inputs = []
        return await self.send()

    async def press(self, value: str) -> str:
        self.inputs.append(value)
        return await self.send()

    async def to_confirm_page(self, code: str) -> str:
        screen = await self.dial()
        for value in ("1", "2", code):
            screen = await self.press(value)
        # The confirmation: payee, amount, "no refund", and 1 to pay (paged with 99 if long).
        while not ("\n1 " in screen and ("لا يسترد" in screen or "لا يمكن استرداد" in screen)):
            assert screen.startswith("CON ") and "99 " in screen, screen
            screen = await self.press("99")
        return screen


def _report(title: str, served: list[str]) -> str:
    counts = Counter(served)
    order = " ".join(served)
    return f"{title}: {len(served)} hops, gw1={counts['gw1']} gw2={counts['gw2']} ({order})"


async def test_a_session_alternating_replicas_and_surviving_a_killed_one(
    replicas: Replicas, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = []
    # 1. Hops alternate between the two gateways (round robin); Redis carries the session.
    first = replicas.world.account(0)
    handset = Handset(replicas, "+201001234567")
    await handset.to_confirm_page(first.code)
    receipt = await handset.press("1")
    assert receipt.startswith("END تم الدفع"), receipt
    assert set(handset.served) == {"gw1", "gw2"}
    assert all(a != b for a, b in zip(handset.served, handset.served[1:], strict=False)), (
        handset.served
    )
    assert await replicas.payments() == 1
    lines.append(_report("session 1 (both replicas up)", handset.served))

    # 2. A second session reaches its confirmation page; the replica that would serve the
    # next hop is SIGKILLed; the confirm and a repeat of it land on the survivor.
    second = replicas.world.account(3)
    handset = Handset(replicas, "+201009876543")
    await handset.to_confirm_page(second.code)
    before_kill = len(handset.served)
    victim = "gw1" if handset.served[-1] == "gw2" else "gw2"
    survivor = "gw2" if victim == "gw1" else "gw1"
    replicas.gateways[victim].kill()
    receipt = await handset.press("1")
    assert receipt.startswith("END تم الدفع"), receipt
    repeat = await handset.send()  # the aggregator resends the last hop
    assert repeat == receipt
    after_kill = handset.served[before_kill:]
    assert after_kill and set(after_kill) == {survivor}, handset.served
    assert await replicas.payments() == 2  # one per session: nothing twice, nothing lost
    for demo in (first, second):
        balance = await replicas.world.ledger.balance(code=demo.code)
        assert balance["amount_due_minor"] == 0
    lines.append(_report(f"session 2 ({victim} SIGKILLed after hop {before_kill})", handset.served))
    lines.append(_report("all hops", replicas.served))
    lines.append(f"payments in the ledger: {await replicas.payments()} (2 sessions)")
    with capsys.disabled():
        print("\nreplicas behind HAProxy:\n  " + "\n  ".join(lines))
