"""The billing API behind SERVICE_TOKEN, as a real `python -m billing serve` process: calls
without the bearer token, or with a wrong one, are refused before anything is read; the
core's BillingClient carries the right one and pays; probes and metrics stay open. And every
process refuses to start in production on the embedded defaults, naming each setting."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tasdeed.billing_client import BillingClient, BillingUnauthorized, Timeouts
from tasdeed.money import Money
from tests.conftest import LedgerWorld, WorldFactory
from tests.processes import BackendProcess

pytestmark = pytest.mark.slow
TOKEN = "t0ken-" + "x" * 40
FAST = Timeouts(connect_s=0.5, total_s=3.0)


@pytest.fixture
async def guarded(pg_world: WorldFactory) -> AsyncIterator[tuple[LedgerWorld, BackendProcess]]:
    world = await pg_world("eg")
    backend = BackendProcess(world)
    await backend.start(SERVICE_TOKEN=TOKEN)
    yield world, backend
    backend.stop()


async def _status(url: str, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"code": "0"}, headers=headers or {}) as response,
    ):
        if response.status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert await response.json() == {"error": "unauthorized"}
        return response.status


async def test_the_backend_refuses_a_missing_or_wrong_token(
    guarded: tuple[LedgerWorld, BackendProcess],
) -> None:
    world, backend = guarded
    url = backend.url + "/v1/balance"
    assert await _status(url) == 401
    for wrong in (
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        TOKEN,
        f"Basic {TOKEN}",
        "Bearer وصل",
    ):
        assert await _status(url, {"Authorization": wrong}) == 401, wrong
    # The right token reaches the ledger (which refuses the bad code on its own terms).
    assert await _status(url, {"Authorization": f"Bearer {TOKEN}"}) == 422
    async with aiohttp.ClientSession() as http:
        async with http.get(backend.url + "/health") as response:
            assert response.status == 200
        async with http.get(backend.url + "/v1/payments/some-key") as response:
            assert response.status == 401
    assert (await world.ledger.totals())["payments"] == 0


async def test_the_billing_client_pays_with_the_token(
    guarded: tuple[LedgerWorld, BackendProcess],
) -> None:
    world, backend = guarded
    demo = world.account(0)
    async with BillingClient(backend.url, timeouts=FAST, service_token=TOKEN) as client:
        quote = await client.quote(demo.code, channel="ussd")
        receipt = await client.confirm(quote.quote_id, "svc-token:pay")
        assert receipt.amount == Money(demo.amount_due_minor, world.profile.currency)
        assert (await client.payment_status("svc-token:pay")) == receipt
    assert (await world.ledger.totals())["payments"] == 1


async def test_a_client_without_the_token_is_told_so_and_pays_nothing(
    guarded: tuple[LedgerWorld, BackendProcess],
) -> None:
    world, backend = guarded
    demo = world.account(0)
    async with BillingClient(backend.url, timeouts=FAST, service_token=TOKEN) as client:
        quote = await client.quote(demo.code, channel="ussd")
    for token in ("", "wrong-token"):
        async with BillingClient(backend.url, timeouts=FAST, service_token=token) as client:
            with pytest.raises(BillingUnauthorized):
                await client.balance(code=demo.code)
            # A refused confirm is not "outcome unknown": the backend never read it.
            with pytest.raises(BillingUnauthorized):
                await client.confirm(quote.quote_id, f"svc-token:{token}")
    assert (await world.ledger.totals())["payments"] == 0


# ---- every process refuses the embedded defaults in production --------------------------

# Settings that would otherwise come from the test environment: production sees none of them.
_CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SERVICE_TOKEN",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_BASE",
    "PUBLIC_BASE_URL",
    "SIMULATOR_ENABLED",
    "OPERATOR_ENABLED",
    "OPERATOR_TOKEN",
    "USSD_CALLBACK_SECRET",
    "RASA_TOKEN",
    "TASDEED_FAULT_POINTS",
)


async def _refused(*argv: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        env={**env, "TASDEED_ENV": "production"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
    return int(process.returncode or 0), err.decode().splitlines()


@pytest.mark.parametrize(
    ("argv", "settings"),
    [
        (
            ("-m", "gateway"),
            {"TWILIO_AUTH_TOKEN", "SIMULATOR_ENABLED", "REDIS_URL", "PUBLIC_BASE_URL",
             "SERVICE_TOKEN", "USSD_CALLBACK_SECRET", "RASA_TOKEN", "OPERATOR_TOKEN"},
        ),
        (("-m", "billing", "serve"), {"DATABASE_URL", "SERVICE_TOKEN"}),
        (("-m", "billing", "prepare"), set()),
        (("-m", "actions.server"), {"REDIS_URL", "SERVICE_TOKEN"}),
        (
            ("-m", "messaging", "worker"),
            {"TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE", "REDIS_URL",
             "PUBLIC_BASE_URL", "SERVICE_TOKEN"},
        ),
        (("-m", "messaging", "status"), {"SERVICE_TOKEN"}),
        (("-m", "twilio_standin"), set()),
    ],
)  # fmt: skip
async def test_each_process_refuses_to_start(argv: tuple[str, ...], settings: set[str]) -> None:
    code, lines = await _refused(*argv)
    assert code == 78, lines
    assert lines[0].endswith("refusing to start with TASDEED_ENV=production:"), lines
    named = {line.split()[0] for line in lines[1:]}
    assert settings <= named, (named, lines)
    if not settings:  # refused outright: the stand-in and the demo seed
        assert len(lines) == 2, lines
