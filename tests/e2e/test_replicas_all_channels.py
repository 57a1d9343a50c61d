"""Every stateless process twice, as real processes behind HAProxy (Debian's package), in
production mode: two gateways sharing Redis, two Rasa servers on Redis tracker and lock
stores (bot/endpoints.production.yml, HTTP API behind its token), two action servers that
answer only Rasa's service token, one billing backend on PostgreSQL.

A USSD session, an IVR call and a WhatsApp conversation, with their turns spread round robin
over the replicas, each pay once; then three more reach their confirmation, one gateway and
one Rasa are SIGKILLed, and all three finish on the survivors: six payments, each bill once,
nothing lost. HAProxy's statistics say how many requests each replica served."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.conftest import LedgerWorld, WorldFactory
from tests.e2e.chat_stack import MODEL
from tests.e2e.drivers import CallDriver, ChatDriver, Phone, UssdDriver
from tests.processes import (
    BackendProcess,
    HaproxyProcess,
    RasaProcess,
    ServiceProcess,
    free_port,
)

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/0"
REPLICA_HEADER = "X-Tasdeed-Replica"
PUBLIC = "https://pay.example.com"
PAID = "تم الدفع"
# The confirmation's no-refund notice: short on a USSD page, in full on a call.
CONFIRMATION = ("لا يسترد", "لا يمكن استرداد")
CHAT_START = {"pay": "عايز أدفع الفاتورة"}

HAPROXY_CFG = """\
global
    maxconn 512
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    # A dead replica refuses the connection: nothing was sent, so try another one.
    retries 3
    option redispatch 1
    retry-on conn-failure
listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /stats
frontend webhooks
    bind 127.0.0.1:{webhooks}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /health
    http-response set-header {header} %[srv_name]
    server gw1 127.0.0.1:{gw1} check inter 500ms fall 2 rise 2
    server gw2 127.0.0.1:{gw2} check inter 500ms fall 2 rise 2
frontend rasa
    bind 127.0.0.1:{rasa}
    default_backend rasa_servers
backend rasa_servers
    balance roundrobin
    option httpchk GET /
    server rasa1 127.0.0.1:{rasa1} check inter 500ms fall 2 rise 2
    server rasa2 127.0.0.1:{rasa2} check inter 500ms fall 2 rise 2
frontend actions
    bind 127.0.0.1:{actions}
    default_backend action_servers
backend action_servers
    balance roundrobin
    option httpchk GET /health
    server act1 127.0.0.1:{act1} check inter 500ms fall 2 rise 2
    server act2 127.0.0.1:{act2} check inter 500ms fall 2 rise 2
"""


@dataclass
class Cluster:
    world: LedgerWorld
    url: str  # HAProxy's webhook frontend
    stats_url: str
    ussd_secret: str
    twilio_token: str
    gateways: dict[str, ServiceProcess]
    rasas: dict[str, ServiceProcess]
    http: aiohttp.ClientSession

    async def payments(self) -> int:
        return (await self.world.ledger.totals())["payments"]

    async def served(self) -> dict[str, int]:
        """Requests each replica answered (HAProxy's `stot`, per server)."""
        async with self.http.get(self.stats_url + ";csv") as response:
            text = (await response.text()).lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: int(row["stot"] or 0)
            for row in rows
            if row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def ussd(self) -> UssdDriver:
        return UssdDriver(self.http, self.url, _number(), query=f"?key={self.ussd_secret}",
                          replica_header=REPLICA_HEADER)  # fmt: skip

    def call(self) -> CallDriver:
        return CallDriver(self.http, self.url, _number(), token=self.twilio_token,
                          public=PUBLIC, replica_header=REPLICA_HEADER)  # fmt: skip

    def chat(self) -> ChatDriver:
        phone = Phone(self.http, self.url, "whatsapp:" + _number(), token=self.twilio_token,
                      public=PUBLIC, replica_header=REPLICA_HEADER)  # fmt: skip
        return ChatDriver(phone, CHAT_START)


def _confirming(screen: str) -> bool:
    assert any(words in screen for words in CONFIRMATION), screen
    return True


def _number() -> str:
    return f"+2010{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture
async def cluster(pg_world: WorldFactory, tmp_path: Path) -> AsyncIterator[Cluster]:
    if not MODEL.is_file():
        pytest.fail("no trained model: run `make model` (make test does) before these tests")
    world = await pg_world("eg")
    ports = {name: free_port() for name in
             ("stats", "webhooks", "rasa", "actions", "gw1", "gw2", "rasa1", "rasa2", "act1",
              "act2")}  # fmt: skip
    token, rasa_token = secrets.token_hex(24), secrets.token_hex(16)
    twilio_token, ussd_secret = secrets.token_hex(16), secrets.token_hex(12)
    salt = secrets.token_hex(16)  # the same on every gateway, like every other secret
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    production = {"TASDEED_ENV": "production", "TASDEED_PROFILE": world.profile.id,
                  "SERVICE_TOKEN": token, "TASDEED_FAULT_POINTS": "", "LOG_LEVEL": "WARNING",
                  "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}  # fmt: skip
    backend = BackendProcess(world)
    actions = {name: ServiceProcess("actions.server") for name in ("act1", "act2")}
    rasas: dict[str, ServiceProcess] = {
        name: RasaProcess(
            "--model",
            str(MODEL),
            "--endpoints",
            "bot/endpoints.production.yml",
            "--credentials",
            "bot/credentials.yml",
            "--interface",
            "127.0.0.1",
            "--port",
            str(ports[name]),
            "--enable-api",
            "--auth-token",
            rasa_token,
            log=tmp_path / f"{name}.log",
        )
        for name in ("rasa1", "rasa2")
    }
    gateways = {name: ServiceProcess("gateway") for name in ("gw1", "gw2")}
    config = tmp_path / "haproxy.cfg"
    config.write_text(HAPROXY_CFG.format(header=REPLICA_HEADER, **ports), encoding="utf-8")
    haproxy = HaproxyProcess(config)
    redis_before = await _tracker_keys()
    http = aiohttp.ClientSession()
    try:
        await backend.start(**production)
        haproxy.start()
        actions_url = f"http://127.0.0.1:{ports['actions']}/webhook"
        rasa_env = {
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "SERVICE_TOKEN": token,
            "RASA_TELEMETRY_ENABLED": "false",
            "ACTION_SERVER_URL": actions_url,
        }
        # The two Rasa servers load the model side by side while the rest starts.
        rasa_started = [
            asyncio.create_task(rasa.start(f"http://127.0.0.1:{ports[name]}/", 300, **rasa_env))
            for name, rasa in rasas.items()
        ]
        for name, server in actions.items():
            await server.start(f"http://127.0.0.1:{ports[name]}/health", **production,
                               ACTIONS_PORT=str(ports[name]), BILLING_URL=backend.url)  # fmt: skip
        for name, gateway in gateways.items():
            await gateway.start(
                f"http://127.0.0.1:{ports[name]}/health", **production,
                GATEWAY_PORT=str(ports[name]), BILLING_URL=backend.url, PUBLIC_BASE_URL=PUBLIC,
                TWILIO_AUTH_TOKEN=twilio_token, SIMULATOR_ENABLED="false",
                OPERATOR_ENABLED="false", USSD_CALLBACK_SECRET=ussd_secret,
                RASA_URL=f"http://127.0.0.1:{ports['rasa']}", RASA_TOKEN=rasa_token,
                PHONE_HASH_SALT=salt,
            )  # fmt: skip
        await asyncio.gather(*rasa_started)
        cluster = Cluster(world, f"http://127.0.0.1:{ports['webhooks']}",
                          f"http://127.0.0.1:{ports['stats']}/stats", ussd_secret, twilio_token,
                          gateways, rasas, http)  # fmt: skip
        await _wait_all_up(cluster)
        yield cluster
    finally:
        await http.close()
        haproxy.stop()
        for process in (*gateways.values(), *rasas.values(), *actions.values(), backend):
            process.stop()
        await _drop_new_keys(prefix, redis_before)


async def _tracker_keys() -> dict[int, set[bytes]]:
    """Rasa's tracker and lock stores (Redis db 1 and 2) before the test, to leave them so."""
    keys: dict[int, set[bytes]] = {}
    for db in (1, 2):
        redis = aioredis.Redis.from_url(f"redis://127.0.0.1:6379/{db}")
        keys[db] = {key async for key in redis.scan_iter(match="tasdeed*")}
        await redis.aclose()
    return keys


async def _drop_new_keys(prefix: str, before: dict[int, set[bytes]]) -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    for db, old in before.items():
        redis = aioredis.Redis.from_url(f"redis://127.0.0.1:6379/{db}")
        new = [key async for key in redis.scan_iter(match="tasdeed*") if key not in old]
        if new:
            await redis.delete(*new)
        await redis.aclose()


async def _wait_all_up(cluster: Cluster) -> None:
    """Until HAProxy's checks have found every replica up."""
    for _ in range(200):
        async with cluster.http.get(cluster.stats_url + ";csv") as response:
            text = (await response.text()).lstrip("# ")
        status = {row["svname"]: row["status"] for row in csv.DictReader(io.StringIO(text))}
        servers = {k: v for k, v in status.items() if k not in ("FRONTEND", "BACKEND")}
        if len(servers) == 6 and all(v == "UP" for v in servers.values()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"HAProxy did not find every replica up: {status}")


async def test_three_channels_on_replicas_survive_a_killed_gateway_and_rasa(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    payable = [demo for demo in cluster.world.accounts if demo.unpaid_bills > 0]
    assert len(payable) >= 6, "the test ledger needs six payable bills"
    lines = []

    # 1. Both replicas of everything up: each channel pays, its turns spread round robin.
    ussd, call, chat = cluster.ussd(), cluster.call(), cluster.chat()
    for driver, demo in ((ussd, payable[0]), (call, payable[1]), (chat, payable[2])):
        await driver.start("pay")
        assert _confirming(await driver.send(demo.code))
        assert PAID in await driver.send("1")
    assert set(ussd.served) == {"gw1", "gw2"}, ussd.served
    assert set(call.served) == {"gw1", "gw2"}, call.served
    assert set(chat.phone.served) == {"gw1", "gw2"}, chat.phone.served
    assert await cluster.payments() == 3
    before_kill = await cluster.served()
    assert before_kill["rasa1"] > 0 and before_kill["rasa2"] > 0, before_kill
    assert before_kill["act1"] > 0 and before_kill["act2"] > 0, before_kill
    lines.append(f"both up: {before_kill}")

    # 2. Three more reach their confirmation; one gateway and one Rasa die (SIGKILL); the
    # confirmations land on the survivors, whose state is in Redis.
    ussd, call, chat = cluster.ussd(), cluster.call(), cluster.chat()
    for driver, demo in ((ussd, payable[3]), (call, payable[4]), (chat, payable[5])):
        await driver.start("pay")
        assert _confirming(await driver.send(demo.code))
    at_kill = await cluster.served()
    # Each conversation had turns on the replica about to die: the survivor finishes it from
    # the state in Redis (sessions, calls, Rasa's tracker).
    assert "gw1" in ussd.served and "gw1" in call.served and "gw1" in chat.phone.served
    assert at_kill["rasa1"] > before_kill["rasa1"], (before_kill, at_kill)
    cluster.gateways["gw1"].kill()
    cluster.rasas["rasa1"].kill()
    for driver in (ussd, call, chat):
        answer = await driver.send("1")
        assert PAID in answer, answer
    assert ussd.served[-1] == call.served[-1] == chat.phone.served[-1] == "gw2"
    assert await cluster.payments() == 6  # one per conversation: nothing twice, nothing lost
    for demo in payable[:6]:
        balance = await cluster.world.ledger.balance(code=demo.code)
        assert balance["amount_due_minor"] == 0
    after_kill = await cluster.served()
    assert after_kill["rasa2"] > at_kill["rasa2"]  # the chat's last turn
    lines.append(f"at the kill: {at_kill}")
    lines.append(f"after gw1 and rasa1 were SIGKILLed (tried, then passed over): {after_kill}")
    lines.append(f"payments in the ledger: {await cluster.payments()} (6 conversations)")
    with capsys.disabled():
        print("\nevery process twice behind HAProxy:\n  " + "\n  ".join(lines))
