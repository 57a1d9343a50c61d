"""The chat stack for end-to-end tests: the reference billing backend, the rasa-sdk action
server and Rasa with the really trained model, each its own process on PostgreSQL, started
once per test module; and per test a gateway (Redis state, its own prefix) with a WhatsApp
`Phone` that signs every message exactly as Twilio does. Loaded as a plugin by
tests/conftest.py, so any e2e module can ask for `backends` and `phone`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from billing.db import create_engine, session_factory
from billing.demo_data import DemoAccount, plan_accounts, seed_demo_data
from billing.ledger import Ledger
from gateway.app import create_app
from tasdeed.profile import load_profile
from tasdeed.settings import Settings
from tests.conftest import SEED, FixedClock, _pg_admin, pg_url
from tests.e2e.drivers import PUBLIC, TOKEN, Phone, texts

__all__ = [
    "PUBLIC",
    "TOKEN",
    "ChatBackends",
    "Phone",
    "backends",
    "chat_backends",
    "gateway_phone",
    "phone",
    "texts",
]

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "var" / "models" / "tasdeed.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PORTS = {"billing": 18190, "actions": 18155, "rasa": 18105}
# Enough payable bills for every chat test and every channel of the walk scenarios.
CHAT_ACCOUNTS = 400


@dataclass
class ChatBackends:
    billing_url: str
    rasa_url: str
    database_url: str
    accounts: list[DemoAccount]
    profile_id: str = "eg"

    async def payments(self) -> int:
        engine = create_engine(self.database_url)
        try:
            ledger = Ledger(session_factory(engine), load_profile(self.profile_id))
            return (await ledger.totals())["payments"]
        finally:
            await engine.dispose()


def _wait(url: str, seconds: float) -> None:
    for _ in range(int(seconds * 4)):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def chat_backends(
    pg_template: str, profile_id: str, ports: dict[str, int], accounts: int
) -> Iterator[ChatBackends]:
    """The backend, the action server and Rasa (the trained model) for one profile, on a
    ledger of their own seeded with `accounts` demo accounts; `ports` names billing, actions
    and rasa."""
    if not MODEL.is_file() or not RASA.is_file():
        pytest.fail("no trained model: run `make model` (make test does) before these tests")
    name = f"tasdeed_chat_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = pg_url(name)
    profile = load_profile(profile_id)

    async def seed() -> None:
        engine = create_engine(url)
        await seed_demo_data(session_factory(engine), profile, SEED, FixedClock()(), accounts)
        await engine.dispose()

    asyncio.run(seed())
    env = {**os.environ, "TASDEED_PROFILE": profile_id, "DATABASE_URL": url,
           "LOG_LEVEL": "WARNING", "RASA_TELEMETRY_ENABLED": "false", "REDIS_URL": "",
           "SANIC_HOST": "127.0.0.1", "BILLING_URL": f"http://127.0.0.1:{ports['billing']}",
           "BILLING_PORT": str(ports["billing"]),
           "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}/webhook"}  # fmt: skip
    processes = [
        subprocess.Popen([sys.executable, "-m", "billing", "serve"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "actions.server", "--port",
                          str(ports["actions"])], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([str(RASA), "run", "--model", str(MODEL), "--endpoints",
                          "bot/endpoints.yml", "--credentials", "bot/credentials.yml",
                          "--interface", "127.0.0.1", "--port", str(ports["rasa"])], env=env,
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{ports['billing']}/health", 30)
        _wait(f"http://127.0.0.1:{ports['actions']}/health", 30)
        _wait(f"http://127.0.0.1:{ports['rasa']}/", 240)
        yield ChatBackends(
            f"http://127.0.0.1:{ports['billing']}",
            f"http://127.0.0.1:{ports['rasa']}",
            url,
            [d for d, _ in plan_accounts(profile, SEED, accounts)],
            profile_id,
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Per module: each module gets a ledger of its own, so one module's payments never make
# another's bills "paid recently".
@pytest.fixture(scope="module")
def backends(pg_template: str) -> Iterator[ChatBackends]:
    with chat_backends(pg_template, "eg", PORTS, CHAT_ACCOUNTS) as started:
        yield started


@contextlib.asynccontextmanager
async def gateway_phone(backends: ChatBackends, number: str) -> AsyncIterator[Phone]:
    """A gateway in front of `backends` (Redis state under a prefix of its own, removed
    afterwards) and a WhatsApp `Phone` with `number` talking to it."""
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    settings = Settings(
        tasdeed_profile=backends.profile_id, billing_url=backends.billing_url,
        rasa_url=backends.rasa_url, redis_url="redis://127.0.0.1:6379/0", redis_prefix=prefix,
        public_base_url=PUBLIC, twilio_auth_token=TOKEN,
    )  # fmt: skip
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Phone(http, str(server.make_url("")).rstrip("/"), number)
    finally:
        await server.close()
        redis = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
async def phone(backends: ChatBackends) -> AsyncIterator[Phone]:
    async with gateway_phone(backends, f"whatsapp:+2010{uuid.uuid4().int % 10**8:08d}") as made:
        yield made
