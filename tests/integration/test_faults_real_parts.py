"""Faults with real parts, as DESIGN.md asks ("Test faults for real"): USSD payment walks go
through the real gateway to the real billing backend and a real Redis, with a TCP proxy of
our own (tests/tcp_proxy.py) on the links, which drops, stalls, cuts and resets connections
around the confirm hop; a Redis of our own is SIGKILLed and started again mid-walk; a
PostgreSQL cluster of our own is restarted (fast, and crashed with `-m immediate`) between
quote and confirm and while a confirm is in flight, and its connections are reset inside
the confirm's transaction.

After each: the walk ended in a receipt, "outcome unknown: check later" or a screen that
says what happened; asking the backend (`GET /v1/payments/{key}`) and redialling tell the
truth; the ledger balances; no account is charged twice (tests/fault_walks.py `audit`).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import select

from billing.app import create_app as create_billing_app
from billing.bulk_seed import seed_bulk_accounts
from billing.db import SessionFactory, create_engine, session_factory
from billing.ledger import Ledger, utc_now
from billing.migrate import upgrade
from billing.models import Payment
from gateway.app import create_app as create_gateway_app
from tasdeed.profile import Profile, load_profile
from tasdeed.settings import Settings
from tests.conftest import WorldFactory
from tests.fault_walks import (
    ARABIC_DIGITS,
    RESUME_DIGITS,
    Audit,
    Outcome,
    Payer,
    Screens,
    UssdWalker,
    WalkResult,
    audit,
    payable_codes,
)
from tests.own_services import OwnPostgres, OwnRedis
from tests.tcp_proxy import Direction, Fault, Mode, TcpProxy

pytestmark = pytest.mark.slow

PROFILE = "eg"


@dataclass
class Served:
    """An app on a free port of 127.0.0.1, served as `python -m billing serve` and
    `python -m gateway` serve it: an AppRunner whose handlers are NOT cancelled when the
    client goes away (aiohttp's TestServer cancels them, which production never does, and
    would hide the request that lands after its client gave up)."""

    runner: web.AppRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application) -> Served:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return Served(runner, int(runner.addresses[0][1]))


# ---- the proxy itself ---------------------------------------------------------------------


async def test_the_proxy_passes_stalls_cuts_drops_and_resets() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = int(upstream.sockets[0].getsockname()[1])
    async with TcpProxy(port) as proxy:

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection("127.0.0.1", proxy.port)

        reader, writer = await connect()
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.readexactly(5), 2) == b"hello"

        proxy.set(Fault(Mode.STALL, seconds=0.4, direction="down"))
        started = asyncio.get_running_loop().time()
        writer.write(b"slow")
        assert await asyncio.wait_for(reader.readexactly(4), 2) == b"slow"
        assert asyncio.get_running_loop().time() - started >= 0.35
        assert proxy.stats.stalled == 1

        proxy.set(Fault(Mode.CUT, after_bytes=12, direction="down"))  # 9 already went down
        writer.write(b"abcdef")
        assert await asyncio.wait_for(reader.read(100), 2) == b"abc"
        assert await asyncio.wait_for(reader.read(100), 2) == b""  # then the line is cut
        assert proxy.stats.cut == 1
        writer.close()

        proxy.set(Fault(Mode.DROP))
        reader, writer = await connect()
        assert await asyncio.wait_for(reader.read(100), 2) == b""
        assert proxy.stats.dropped == 1
        writer.close()

        proxy.set()
        proxy.latency_s = 0.2
        reader, writer = await connect()
        started = asyncio.get_running_loop().time()
        writer.write(b"x")
        assert await asyncio.wait_for(reader.readexactly(1), 2) == b"x"
        assert asyncio.get_running_loop().time() - started >= 0.35  # both ways
        proxy.latency_s = 0
        assert proxy.reset_live() == 1
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(100), 2)
        writer.close()

        proxy.set(Fault(Mode.RESET))
        reader, writer = await connect()
        with pytest.raises(ConnectionResetError):
            writer.write(b"x")
            await writer.drain()
            await asyncio.wait_for(reader.read(100), 2)
        writer.close()
    upstream.close()
    await upstream.wait_closed()


# ---- the stack: gateway → proxy → billing (PostgreSQL), gateway → proxy → our Redis ---------


@pytest.fixture(scope="module")
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


@dataclass
class FaultStack:
    profile: Profile
    sessions: SessionFactory
    gateway_url: str
    billing_url: str  # straight to the backend: what an operator or a completer asks
    billing_link: TcpProxy
    redis_link: TcpProxy
    redis: OwnRedis
    http: aiohttp.ClientSession
    codes: dict[str, int]  # payable codes not walked yet → account id
    screens: Screens
    account_ids: dict[str, int] = field(default_factory=dict)  # every payable code
    walks: list[WalkResult] = field(default_factory=list)  # finished walks, for the audit
    db_link: TcpProxy | None = None
    redis_prefix: str = ""  # the gateway's keys in Redis

    def walker(self, phone: str | None = None) -> UssdWalker:
        return UssdWalker(
            self.http, self.gateway_url, self.profile, self.screens, phone=phone, hop_timeout_s=15
        )

    def take_code(self) -> str:
        code = next(iter(self.codes))
        del self.codes[code]
        return code

    async def walk(self, walker: UssdWalker, code: str, **kwargs: bool) -> WalkResult:
        result = await walker.walk(code, **kwargs)
        self.walks.append(result)
        return result

    async def payments_of(self, code: str) -> list[Payment]:
        account_id = self.account_ids[code]
        async with self.sessions() as s:
            rows = await s.scalars(select(Payment).where(Payment.account_id == account_id))
            return list(rows.all())

    async def audit(self) -> Audit:
        report = await audit(
            self.sessions, self.http, self.billing_url, self.walks, self.account_ids
        )
        assert report.ok, report.problems
        return report

    async def settle(self, code: str, walker: UssdWalker, landed: Payment | None) -> None:
        """Redial until the bill is paid or the person is told it was: exactly one payment,
        and a payment that had landed is the one the redial shows."""
        for _ in range(3):
            again = await self.walk(walker, code)
            if again.outcome in (Outcome.RECEIPT, Outcome.PAID_RECENTLY):
                break
        assert again.outcome in (Outcome.RECEIPT, Outcome.PAID_RECENTLY), (again.screen, again)
        payments = await self.payments_of(code)
        assert len(payments) == 1, [p.idempotency_key for p in payments]
        if landed is not None and again.outcome is Outcome.RECEIPT:
            assert again.receipt == landed.receipt_number


StackFactory = Callable[..., Awaitable[FaultStack]]


@pytest.fixture
async def fault_stack(pg_world: WorldFactory, own_redis: OwnRedis) -> AsyncIterator[StackFactory]:
    """`await fault_stack(**gateway_settings)`: billing on the shared PostgreSQL (a fresh
    seeded database, as the e2e tests have), reached through a proxy; our Redis through
    another."""
    closers: list[Callable[[], Awaitable[None]]] = []
    http = aiohttp.ClientSession()

    async def factory(**overrides: object) -> FaultStack:
        world = await pg_world(PROFILE)
        prefix = f"faults:{uuid.uuid4().hex[:8]}:"
        await seed_bulk_accounts(world.sessions, world.profile, 30, "2026-11", world.clock())
        billing = await serve(create_billing_app(world.ledger))
        billing_link = await TcpProxy(billing.port).start()
        redis_link = await TcpProxy(own_redis.port).start()
        settings = Settings(
            tasdeed_profile=PROFILE,
            billing_url=f"http://127.0.0.1:{billing_link.port}",
            redis_url=f"redis://127.0.0.1:{redis_link.port}/0",
            redis_prefix=prefix,
            **overrides,  # type: ignore[arg-type]
        )
        gateway = await serve(create_gateway_app(settings))
        closers.extend([gateway.close, billing_link.close, redis_link.close, billing.close])
        codes = await payable_codes(world.sessions, 100)
        return FaultStack(
            world.profile,
            world.sessions,
            gateway.url,
            billing.url,
            billing_link,
            redis_link,
            own_redis,
            http,
            codes,
            Screens.for_profile(world.profile),
            account_ids=dict(codes),
            redis_prefix=prefix,
        )

    yield factory
    for close in closers:
        await close()
    await http.close()


# Short billing timeouts so that a confirm without an answer is "unknown" within ~1.5 s.
QUICK = {"billing_connect_timeout_s": 0.3, "billing_total_timeout_s": 0.6, "billing_retries": 1}
STALL_S = 1.8


@dataclass(frozen=True)
class ConfirmFault:
    name: str
    fault: Fault | None
    latency_s: float = 0.0
    reset_after_s: float | None = None  # RST live connections this long after confirming
    outcomes: tuple[Outcome, ...] = (Outcome.UNKNOWN,)
    landed: bool | None = None  # None: either, the ledger says which


CONFIRM_FAULTS = [
    ConfirmFault("drop", Fault(Mode.DROP), landed=False),
    ConfirmFault("reset", Fault(Mode.RESET), landed=False),
    ConfirmFault("stall-answers", Fault(Mode.STALL, STALL_S, direction="down"), landed=True),
    ConfirmFault("stall-requests", Fault(Mode.STALL, STALL_S, direction="up"), landed=True),
    ConfirmFault("cut-answers", Fault(Mode.CUT, after_bytes=30, direction="down"), landed=True),
    ConfirmFault("cut-requests", Fault(Mode.CUT, after_bytes=40, direction="up"), landed=False),
    ConfirmFault(
        "reset-mid-confirm",
        None,
        latency_s=0.15,
        reset_after_s=0.22,
        outcomes=(Outcome.RECEIPT, Outcome.UNKNOWN),
        landed=True,
    ),
    ConfirmFault("latency", None, latency_s=0.05, outcomes=(Outcome.RECEIPT,), landed=True),
]


@pytest.mark.parametrize("case", CONFIRM_FAULTS, ids=[c.name for c in CONFIRM_FAULTS])
async def test_faults_on_the_billing_link_at_the_confirm_hop(
    fault_stack: StackFactory, case: ConfirmFault
) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    assert stack.screens.confirm_option in at_confirm.screen
    stack.walks.remove(at_confirm)  # not a finished walk: the confirm below continues it

    link = stack.billing_link
    link.reset_live()  # fresh connections: the fault meets the confirm, not a pooled one
    link.latency_s = case.latency_s
    if case.fault is not None:
        link.set(case.fault)
    confirming = asyncio.create_task(walker.press(at_confirm, "1"))
    if case.reset_after_s is not None:
        await asyncio.sleep(case.reset_after_s)
        assert link.reset_live() >= 1
        link.latency_s = 0
    screen = await confirming
    link.set()
    link.latency_s = 0
    assert screen is not None, "the gateway must answer the confirm hop with a page"
    assert screen.startswith("END "), screen
    walker.classify(at_confirm, screen)
    at_confirm.confirmed = True
    stack.walks.append(at_confirm)
    assert at_confirm.outcome in case.outcomes, screen
    assert at_confirm.server_errors == 0

    if case.fault is not None and case.fault.mode is Mode.STALL:
        await asyncio.sleep(STALL_S + 0.5)  # the held requests reach the backend now
    payments = await stack.payments_of(code)
    assert len(payments) <= 1
    if case.landed is not None:
        assert bool(payments) is case.landed, case
    if at_confirm.outcome is Outcome.RECEIPT:
        assert payments[0].receipt_number == at_confirm.receipt
    report = await stack.audit()  # the status endpoint agrees with the ledger
    assert report.unknown_landed == (1 if at_confirm.outcome is Outcome.UNKNOWN and payments else 0)

    # The person dials again: a confirm that landed is shown as its receipt, one that did not
    # leads to a fresh quote and one payment; never a second charge.
    await stack.settle(code, walker, payments[0] if payments else None)
    await stack.audit()


async def test_concurrent_walks_under_random_faults_on_both_links(
    fault_stack: StackFactory,
) -> None:
    """Two dozen people pay at once while the billing and Redis links misbehave at random."""
    stack = await fault_stack(**QUICK)
    rng = random.Random(20261124)
    payers = [
        Payer(stack.walker(), code, stack.account_ids[code], max_walks=5, pause_s=(0.1, 0.6))
        for code in list(stack.codes)[:24]
    ]
    done = asyncio.Event()
    faults = 0

    async def misbehave() -> None:
        nonlocal faults
        while not done.is_set():
            link = stack.billing_link if rng.random() < 0.65 else stack.redis_link
            kind = rng.choice(["drop", "stall", "reset", "cut", "latency"])
            if kind == "drop":
                link.reset_live()
                link.set(Fault(Mode.DROP))
            elif kind == "stall":
                direction: Direction = rng.choice(["up", "down", "both"])
                link.set(Fault(Mode.STALL, seconds=rng.uniform(0.2, 1.2), direction=direction))
            elif kind == "reset":
                link.set(Fault(Mode.RESET))
            elif kind == "cut":
                direction = rng.choice(["up", "down"])
                link.set(Fault(Mode.CUT, after_bytes=rng.randrange(0, 300), direction=direction))
            else:
                link.latency_s = rng.uniform(0.05, 0.3)
            faults += 1
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            link.set()
            link.latency_s = 0
            await asyncio.sleep(rng.uniform(0.1, 0.4))

    async def pay_later(payer: Payer, delay_s: float) -> None:
        await asyncio.sleep(delay_s)  # people arrive over a few seconds, under the faults
        await payer.pay()

    chaos = asyncio.create_task(misbehave())
    await asyncio.gather(*(pay_later(payer, rng.uniform(0, 5)) for payer in payers))
    done.set()
    await chaos
    await asyncio.sleep(1.5)  # stalled requests land
    for payer in payers:
        stack.walks.extend(payer.walks)
    report = await stack.audit()
    hits = stack.billing_link.stats.hits + stack.redis_link.stats.hits
    assert faults >= 5 and hits >= 10, (faults, hits)
    others = [w.screen for w in stack.walks if w.outcome is Outcome.OTHER]
    assert report.outcomes[Outcome.OTHER.value] == 0, (report.outcomes, others)
    # Whoever got a receipt or was told "paid recently" is paid, once; nobody else twice.
    for payer in payers:
        payments = await stack.payments_of(payer.code)
        assert len(payments) <= 1
        if payer.walks[-1].outcome in (Outcome.RECEIPT, Outcome.PAID_RECENTLY):
            assert len(payments) == 1


async def test_a_resume_that_met_an_unreachable_backend_can_be_tried_again(
    fault_stack: StackFactory,
) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await walker.walk(code, stop_at_confirm=True)
    link = stack.billing_link
    link.reset_live()
    link.set(Fault(Mode.STALL, STALL_S, direction="down"))  # the answer to the confirm is lost
    unknown = await walker.press(at_confirm, "1")
    link.set()
    assert unknown is not None and unknown[4:].startswith(stack.screens.unknown), unknown
    await asyncio.sleep(STALL_S + 0.5)
    (landed,) = await stack.payments_of(code)
    # The person dials again to hear what happened; that one hop meets a backend that is
    # briefly unreachable, so they are asked to try again, and they do.
    again, prompt = await walker.dial(code)
    assert prompt is not None and any(p in prompt for p in stack.screens.resume), prompt
    link.reset_live()
    link.set(Fault(Mode.DROP))
    unavailable = await walker.press(again, code[-RESUME_DIGITS:])
    link.set()
    assert unavailable is not None and stack.screens.unavailable in unavailable, unavailable
    told = await walker.press(again, code[-RESUME_DIGITS:])
    assert told is not None and told[4:].startswith(stack.screens.receipt), told
    assert landed.receipt_number.translate(ARABIC_DIGITS) in told.translate(ARABIC_DIGITS)


# ---- Redis killed and started again ---------------------------------------------------------


async def test_redis_restarted_mid_walk_charges_nothing_twice(fault_stack: StackFactory) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    stack.walks.remove(at_confirm)
    await asyncio.to_thread(stack.redis.restart)  # SIGKILL: the session is gone
    screen = await walker.press(at_confirm, "1")
    # The session died with Redis: the hop ends it, or starts over (a fresh quote, asked
    # again); the "1" that was meant for the lost confirmation pays nothing by itself.
    assert screen is not None, "no page: see test_a_redis_restart_costs_no_hop_a_server_error"
    if screen.startswith("END "):
        walker.classify(at_confirm, screen)
        assert at_confirm.outcome is Outcome.SESSION_LOST, screen
    else:
        assert not screen[4:].startswith(stack.screens.receipt), screen
    assert await stack.payments_of(code) == []
    # A new session works, and pays once.
    fresh = await stack.walk(stack.walker(), code)
    assert fresh.outcome is Outcome.RECEIPT, fresh.screen
    assert len(await stack.payments_of(code)) == 1
    await stack.audit()


async def test_redis_restarted_while_the_confirm_is_in_flight(fault_stack: StackFactory) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    stack.walks.remove(at_confirm)
    stack.billing_link.latency_s = 0.15  # the confirm takes ~0.3 s
    confirming = asyncio.create_task(walker.press(at_confirm, "1"))
    await asyncio.sleep(0.1)
    await asyncio.to_thread(stack.redis.restart)
    screen = await confirming
    stack.billing_link.latency_s = 0
    # The payment went through at the backend; the session record (and the lock) died with
    # Redis. Whatever the hop answered, it must not have charged twice, and the truth must
    # come out when the person dials again.
    if screen is not None:
        walker.classify(at_confirm, screen)
        stack.walks.append(at_confirm)
    payments = await stack.payments_of(code)
    assert len(payments) == 1
    await stack.settle(code, stack.walker(walker.phone), payments[0])
    await stack.audit()


async def test_a_redis_restart_costs_no_hop_a_server_error(fault_stack: StackFactory) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    await asyncio.to_thread(stack.redis.restart)
    await walker.press(at_confirm, "1")
    assert at_confirm.server_errors == 0


async def test_a_paid_confirm_hop_resent_after_its_session_was_lost_tells_the_truth(
    fault_stack: StackFactory,
) -> None:
    stack = await fault_stack(**QUICK)
    code = stack.take_code()
    walker = stack.walker()
    paid = await walker.walk(code)  # a first-time caller: language, pay, code, confirm
    assert paid.receipt is not None, paid.screen
    # The answer to the confirm hop is lost on its way to the aggregator, and the session
    # record with it (what a Redis restart, an eviction or the session's TTL do).
    redis = aioredis.Redis.from_url(stack.redis.url)
    assert await redis.delete(f"{stack.redis_prefix}ussd:s:{paid.session_id}") == 1
    await redis.aclose()
    # The aggregator sends the same chain again, while the backend is briefly unreachable.
    stack.billing_link.reset_live()
    stack.billing_link.set(Fault(Mode.DROP))
    resent = await walker.press(paid, walker.inputs.pop())
    stack.billing_link.set()
    assert resent is not None
    assert len(await stack.payments_of(code)) == 1
    walker.classify(paid, resent)
    assert paid.outcome is not Outcome.NOT_PAID, resent  # "nothing was deducted": false


# ---- PostgreSQL restarted under the billing backend ---------------------------------------


@pytest.fixture(scope="module")
def own_pg() -> Iterator[OwnPostgres]:
    pg = OwnPostgres()
    pg.init()
    pg.create_database("tasdeed")

    async def prepare() -> None:
        await asyncio.to_thread(upgrade, pg.url("tasdeed"))
        engine = create_engine(pg.url("tasdeed"))
        sessions = session_factory(engine)
        await seed_bulk_accounts(sessions, load_profile(PROFILE), 40, "2026-11", utc_now())
        await engine.dispose()

    asyncio.run(prepare())
    yield pg
    pg.destroy()


@pytest.fixture
async def pg_stack(own_pg: OwnPostgres, own_redis: OwnRedis) -> AsyncIterator[FaultStack]:
    """The billing backend on our own cluster through a proxy (the database link), created
    from its DATABASE_URL as `python -m billing serve` does; the gateway in front."""
    profile = load_profile(PROFILE)
    db_link = await TcpProxy(own_pg.port).start()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{db_link.port}/tasdeed"
    engine = create_engine(url)
    billing = await serve(create_billing_app(Ledger(session_factory(engine), profile)))
    # What the test itself reads goes straight to the cluster, not through the faulty link.
    direct = create_engine(own_pg.url("tasdeed"))
    sessions = session_factory(direct)
    billing_link = await TcpProxy(billing.port).start()
    redis_link = await TcpProxy(own_redis.port).start()
    prefix = f"faults:{uuid.uuid4().hex[:8]}:"
    settings = Settings(
        tasdeed_profile=PROFILE,
        billing_url=f"http://127.0.0.1:{billing_link.port}",
        redis_url=f"redis://127.0.0.1:{redis_link.port}/0",
        redis_prefix=prefix,
        billing_total_timeout_s=2.0,
        billing_retries=2,
    )
    gateway = await serve(create_gateway_app(settings))
    http = aiohttp.ClientSession()
    codes = await payable_codes(sessions, 8)
    yield FaultStack(
        profile,
        sessions,
        gateway.url,
        billing.url,
        billing_link,
        redis_link,
        own_redis,
        http,
        codes,
        Screens.for_profile(profile),
        account_ids=dict(codes),
        db_link=db_link,
        redis_prefix=prefix,
    )
    await http.close()
    for server in (gateway, billing):
        await server.close()
    for proxy in (billing_link, redis_link, db_link):
        await proxy.close()
    await engine.dispose()
    await direct.dispose()


@pytest.mark.parametrize("how", ["restart-fast", "crash-immediate"])
async def test_postgres_restarted_between_quote_and_confirm(
    pg_stack: FaultStack, own_pg: OwnPostgres, how: str
) -> None:
    stack = pg_stack
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    stack.walks.remove(at_confirm)
    restart = own_pg.restart if how == "restart-fast" else own_pg.crash_and_start
    await asyncio.to_thread(restart)
    screen = await walker.press(at_confirm, "1")
    assert screen is not None and screen.startswith("END "), screen
    walker.classify(at_confirm, screen)
    stack.walks.append(at_confirm)
    assert at_confirm.outcome in (Outcome.RECEIPT, Outcome.UNKNOWN), screen
    payments = await stack.payments_of(code)
    assert len(payments) <= 1
    if at_confirm.outcome is Outcome.RECEIPT:
        assert [p.receipt_number for p in payments] == [at_confirm.receipt]
    await stack.audit()
    await stack.settle(code, walker, payments[0] if payments else None)
    await stack.audit()


async def test_postgres_down_while_the_confirm_is_sent(
    pg_stack: FaultStack, own_pg: OwnPostgres
) -> None:
    stack = pg_stack
    code = stack.take_code()
    walker = stack.walker()
    at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
    stack.walks.remove(at_confirm)
    await asyncio.to_thread(own_pg.crash)
    try:
        screen = await walker.press(at_confirm, "1")
    finally:
        await asyncio.to_thread(own_pg.start)
    assert screen is not None and screen.startswith("END "), screen
    walker.classify(at_confirm, screen)
    stack.walks.append(at_confirm)
    # With the database down, the backend cannot have paid: the answer is "unknown".
    assert at_confirm.outcome is Outcome.UNKNOWN, screen
    assert await stack.payments_of(code) == []
    await stack.audit()  # and asking about the key says "no such payment"
    await stack.settle(code, walker, None)
    await stack.audit()


async def test_database_connections_reset_inside_the_confirm(pg_stack: FaultStack) -> None:
    """RST on the database link at points spread over the confirm's transaction, some
    after its COMMIT was sent: the client's retries (same key) and the ledger's
    constraints must leave exactly one payment, told truthfully."""
    stack = pg_stack
    assert stack.db_link is not None
    stack.db_link.latency_s = 0.01
    for delay in (0.03, 0.08, 0.15, 0.25):
        code = stack.take_code()
        walker = stack.walker()
        at_confirm = await stack.walk(walker, code, stop_at_confirm=True)
        stack.walks.remove(at_confirm)
        confirming = asyncio.create_task(walker.press(at_confirm, "1"))
        await asyncio.sleep(delay)
        stack.db_link.reset_live()
        screen = await confirming
        assert screen is not None and screen.startswith("END "), screen
        walker.classify(at_confirm, screen)
        stack.walks.append(at_confirm)
        assert at_confirm.outcome in (Outcome.RECEIPT, Outcome.UNKNOWN), screen
        payments = await stack.payments_of(code)
        assert len(payments) <= 1
        await stack.settle(code, walker, payments[0] if payments else None)
    stack.db_link.latency_s = 0
    assert stack.db_link.stats.reset >= 4
    await stack.audit()
