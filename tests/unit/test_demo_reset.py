"""Demo data that runs out (issue 16, item 9): `python -m billing demo-reset` and the backend
route behind the simulator's button put the demo ledger back as the seed made it, so a demo
code that was paid is payable again. On SQLite and PostgreSQL, like every ledger test."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from billing.app import create_app
from billing.db import create_engine, session_factory
from billing.demo_data import README_PAYABLE, SCENARIOS, plan_accounts, readme_accounts
from billing.demo_reset import NotADemoLedger, reset_demo_data
from billing.demo_routes import add_routes
from billing.ledger import Ledger, Refusal
from billing.models import Account, Complaint, Credit, Payment
from tasdeed.billing_client import BillingClient, BillingRefused
from tasdeed.contract import RefusalReason
from tasdeed.profile import available_profiles, load_profile
from tasdeed.settings import Settings
from tests.conftest import SEED, TEST_ACCOUNTS, LedgerWorld, WorldFactory

ROOT = Path(__file__).resolve().parents[2]


async def pay(world: LedgerWorld, index: int, key: str) -> dict[str, object]:
    quote = await world.ledger.quote(world.account(index).code, channel="ussd")
    receipt, _ = await world.ledger.confirm(quote["quote_id"], key)
    return receipt


async def count(world: LedgerWorld, model: type) -> int:
    async with world.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_after_paying_a_demo_code_a_reset_makes_it_payable_again(
    make_world: WorldFactory,
) -> None:
    world = await make_world("eg")
    code = world.account(0).code  # one unpaid bill, EGP 1,128.50
    await pay(world, 0, "first")
    with pytest.raises(Refusal) as refused:
        await world.ledger.quote(code, channel="ussd")
    assert refused.value.reason is RefusalReason.ALREADY_PAID_RECENTLY
    await world.ledger.file_complaint(
        category="billing", description="x", channel="web", idempotency_key="c1", code=code
    )

    done = await reset_demo_data(world.sessions, world.profile, SEED, world.clock())

    assert (done.profile, done.seed, done.accounts) == ("eg", SEED, TEST_ACCOUNTS)
    quote = await world.ledger.quote(code, channel="ussd")
    assert quote["amount_minor"] == 112850  # owed again, and no "paid recently" question
    receipt, replayed = await world.ledger.confirm(quote["quote_id"], "after-reset")
    assert not replayed and receipt["amount_minor"] == 112850
    assert await count(world, Payment) == 1  # only the payment made after the reset
    assert await count(world, Complaint) == 0
    # The same demo accounts as seeded: every code, payee and amount.
    balances = [await world.ledger.balance(code=a.code) for a in world.accounts[1:4]]
    due = [b["amount_due_minor"] for b in balances]
    assert due == [a.amount_due_minor for a in world.accounts[1:4]]
    assert await count(world, Account) == TEST_ACCOUNTS


async def test_reset_restores_what_the_rules_paid_and_credits_them_once_again(
    make_world: WorldFactory,
) -> None:
    world = await make_world("sa")
    code = world.account(0).code  # a 7-hour outage and a 3-hour reconnection
    first = await world.ledger.rule_answer("compensation", code=code)
    assert await count(world, Credit) == 2
    await reset_demo_data(world.sessions, world.profile, SEED, world.clock())
    assert await count(world, Credit) == 0
    again = await world.ledger.rule_answer("compensation", code=code)
    assert again["reasons"] == first["reasons"]
    assert await count(world, Credit) == 2


async def test_only_a_demo_ledger_of_this_profile_is_reset(
    make_world: WorldFactory, sqlite_template: Path, tmp_path: Path
) -> None:
    world = await make_world("kw")
    with pytest.raises(NotADemoLedger, match="holds profile 'kw'"):
        await reset_demo_data(world.sessions, load_profile("eg"), SEED, world.clock())
    assert await count(world, Account) == TEST_ACCOUNTS  # nothing emptied
    unseeded = tmp_path / "utility.db"
    shutil.copy(sqlite_template, unseeded)
    engine = create_engine(f"sqlite+aiosqlite:///{unseeded}")
    try:
        with pytest.raises(NotADemoLedger, match="not filled by the demo seed"):
            await reset_demo_data(session_factory(engine), load_profile("eg"), SEED, world.clock())
    finally:
        await engine.dispose()


# --- the backend route the simulator's button calls ----------------------------------------


def settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


@pytest.fixture
async def world(make_world: WorldFactory) -> LedgerWorld:
    return await make_world("eg")


async def serve(world: LedgerWorld, **overrides: object) -> AsyncIterator[str]:
    app = create_app(world.ledger)
    add_routes(app, world.ledger, settings(**overrides))
    add_routes(app, world.ledger, settings(**overrides))  # mounts once, whoever calls it
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_the_route_resets_in_simulator_mode(world: LedgerWorld) -> None:
    await pay(world, 3, "k")
    async for url in serve(world, simulator_enabled=True):
        async with BillingClient(url) as client:
            done = await client.demo_reset()
    assert done == {"reset": True, "profile": "eg", "seed": SEED, "accounts": TEST_ACCOUNTS}
    assert (await world.ledger.quote(world.account(3).code))["amount_minor"] == 78775


@pytest.mark.parametrize(
    "overrides",
    [{"simulator_enabled": False}, {"simulator_enabled": True, "tasdeed_env": "production"}],
)
async def test_no_route_outside_simulator_mode(
    world: LedgerWorld, overrides: dict[str, object]
) -> None:
    assert add_routes(create_app(world.ledger), world.ledger, settings(**overrides)) is False
    await pay(world, 0, "k")
    async for url in serve(world, **overrides):
        async with BillingClient(url) as client:
            with pytest.raises(BillingRefused) as refused:
                await client.demo_reset()
    assert refused.value.details == {"detail": "no demo routes"}
    assert await count(world, Payment) == 1  # nothing reset


# --- the command ------------------------------------------------------------------------------


def test_the_command_resets_the_ledger_it_is_pointed_at(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    shutil.copy(sqlite_template, path)
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{path}", "TASDEED_PROFILE": "kw"}
    env.pop("TASDEED_ENV", None)

    def billing(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "billing", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert billing("seed").returncode == 0
    demo = plan_accounts(load_profile("kw"), SEED)[0][0]

    async def pay_first() -> None:
        engine = create_engine(env["DATABASE_URL"])
        ledger = Ledger(session_factory(engine), load_profile("kw"))
        try:
            quote = await ledger.quote(demo.code)
            await ledger.confirm(quote["quote_id"], "cli")
            with pytest.raises(Refusal):
                await ledger.quote(demo.code)
        finally:
            await engine.dispose()

    asyncio.run(pay_first())
    done = billing("demo-reset")
    assert done.returncode == 0, done.stderr
    assert "reset: 120 accounts (seed 153)" in done.stdout

    async def payable() -> int:
        engine = create_engine(env["DATABASE_URL"])
        try:
            quote = await Ledger(session_factory(engine), load_profile("kw")).quote(demo.code)
            return int(quote["amount_minor"])
        finally:
            await engine.dispose()

    assert asyncio.run(payable()) == demo.amount_due_minor
    production = subprocess.run(
        [sys.executable, "-m", "billing", "demo-reset"],
        cwd=ROOT, env={**env, "TASDEED_ENV": "production"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert production.returncode != 0


# --- the README lists a dozen payable codes per profile --------------------------------------


@pytest.mark.parametrize("profile_id", available_profiles())
def test_the_readme_lists_a_dozen_payable_codes_per_profile(profile_id: str) -> None:
    listed = readme_accounts(load_profile(profile_id), SEED)
    payable = [a for a in listed if a.unpaid_bills]
    assert len(payable) == README_PAYABLE
    planned = [a for a, _ in plan_accounts(load_profile(profile_id), SEED)]
    assert listed[:SCENARIOS] == planned[:SCENARIOS]  # the scenarios first, all four
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for account in payable:
        assert f"| {profile_id} | `{account.code}` |" in readme
