"""The simulator's server side (gateway/simulator/) and the operator view it links to
(gateway/operator/): the metrics read from the Prometheus registry
(gateway/metrics_sampling.py), the IVR relay's refusals, the switch that turns the simulator
off, and the billing backend's read-only operator endpoints the operator view shows. Real
gateways and a real billing backend on an embedded SQLite ledger over loopback HTTP; no
PostgreSQL or Redis needed."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, Counter, Histogram

from billing.app import create_app as create_billing_app
from billing.db import create_engine, session_factory
from billing.demo_routes import add_routes as add_demo_routes
from billing.ledger import Ledger, Refusal
from gateway.app import create_app
from gateway.metrics_sampling import (
    CHART_MINUTES,
    SAMPLE_EVERY_S,
    MetricsSampler,
    histogram_quantile,
)
from gateway.page_shell import STATIC_DIR
from tasdeed.billing_client import BillingClient, BillingRefused
from tasdeed.i18n import catalogue
from tasdeed.profile import load_profile
from tasdeed.settings import Settings
from tests.conftest import LedgerWorld, WorldBuilder

PUBLIC = "https://ivr.tasdeed.example"
TOKEN = "unit-test-auth-token"
NOWHERE = "http://127.0.0.1:9"  # nothing listens: for gateways whose test needs no billing


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- reading the registry ---------------------------------------------------------------


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = [(0.01, 2.0), (0.1, 6.0), (1.0, 10.0), (float("inf"), 10.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.01 + 0.09 * (5 - 2) / 4)
    assert histogram_quantile(0.1, buckets) == pytest.approx(0.005)  # inside the first bucket
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.1 + 0.9 * (9.5 - 6) / 4)
    assert histogram_quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    # Past the last finite bucket all that is known is that bound.
    assert histogram_quantile(0.99, [(0.1, 1.0), (float("inf"), 4.0)]) == 0.1


class Registry:
    """A private registry holding the gateway's metric names (tasdeed/metrics.py)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.payments = Counter("tasdeed_payments_total", "p", ["channel"], registry=self.registry)
        self.hops = Counter(
            "tasdeed_hops_total", "h", ["channel", "outcome"], registry=self.registry
        )
        self.seconds = Histogram(
            "tasdeed_hop_seconds",
            "s",
            ["channel"],
            buckets=(0.005, 0.05, 0.5),
            registry=self.registry,
        )


def test_sampler_counts_since_its_start_per_minute_and_in_the_live_window() -> None:
    metrics, clock = Registry(), Clock()
    metrics.payments.labels("ussd").inc(5)  # before this gateway started: not shown
    metrics.seconds.labels("ussd").observe(3.0)
    sampler = MetricsSampler(metrics.registry, clock)
    start = clock.now

    clock.now = start + 30
    metrics.payments.labels("ussd").inc()
    sampler.sample()
    clock.now = start + 90
    metrics.payments.labels("ivr").inc(2)
    sampler.sample()
    clock.now = start + 200
    metrics.hops.labels("ussd", "start").inc(3)
    metrics.hops.labels("ussd", "continue").inc(7)  # hops inside sessions are not sessions
    metrics.hops.labels("web", "message").inc(2)
    for seconds in (0.003, 0.004, 0.2):
        metrics.seconds.labels("ussd").observe(seconds)
    sampler.sample()
    clock.now = start + 400
    snapshot = sampler.snapshot()

    payments = snapshot["payments_per_minute"]
    assert len(payments["ussd"]) == CHART_MINUTES
    # Minute i covers [now - (15 - i) min, now - (14 - i) min]: +30 s is in minute 8
    # ([-20 s, +40 s]) and +90 s in minute 9 ([+40 s, +100 s]).
    assert payments["ussd"] == [0] * 8 + [1] + [0] * 6
    assert payments["ivr"] == [0] * 9 + [2] + [0] * 5
    assert sum(payments["web"]) == 0
    # Sessions started in the last five minutes (since +100 s): the three at +200 s.
    assert snapshot["live"]["ussd"] == {"kind": "sessions", "count": 3}
    assert snapshot["live"]["ivr"] == {"kind": "sessions", "count": 0}
    assert snapshot["live"]["web"] == {"kind": "messages", "count": 2}
    latency = snapshot["latency"]["ussd"]
    assert latency["count"] == 3  # the 3 s hop before the start is not in the window
    assert latency["p50_s"] is not None and 0.0 < latency["p50_s"] <= 0.005
    assert [b["count"] for b in latency["buckets"]] == [2, 0, 1, 0]
    assert latency["buckets"][-1]["le"] is None  # +Inf
    assert snapshot["latency"]["ivr"]["count"] == 0 and snapshot["latency"]["ivr"]["p50_s"] is None

    # Six minutes later the live window no longer holds those sessions.
    clock.now = start + 400 + 360
    sampler.sample()
    assert sampler.snapshot()["live"]["ussd"]["count"] == 0


def test_sampler_keeps_only_its_horizon() -> None:
    metrics, clock = Registry(), Clock()
    sampler = MetricsSampler(metrics.registry, clock)
    for _ in range(2000):
        clock.now += SAMPLE_EVERY_S
        metrics.payments.labels("sms").inc()
        sampler.sample()
    assert len(sampler.samples) <= sampler.horizon_s / SAMPLE_EVERY_S + 2
    # Still one payment every 5 s: twelve in each full minute shown.
    assert sampler.snapshot()["payments_per_minute"]["sms"] == [12] * CHART_MINUTES


# ---- gateways -------------------------------------------------------------------------------


class Gateway:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession):
        self.server, self.http = server, http
        self.url = str(server.make_url("")).rstrip("/")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def gateways(http: aiohttp.ClientSession) -> AsyncIterator[list[Gateway]]:
    started: list[Gateway] = []
    yield started
    for gateway in started:
        await gateway.server.close()


async def start_gateway(
    gateways: list[Gateway], http: aiohttp.ClientSession, **settings: Any
) -> Gateway:
    values: dict[str, Any] = {
        "tasdeed_profile": "eg",
        "billing_url": NOWHERE,
        "billing_retries": 0,
        "redis_url": "",
        "public_base_url": PUBLIC,
        "twilio_auth_token": TOKEN,
        **settings,
    }
    server = TestServer(create_app(Settings(**values)), host="127.0.0.1")
    await server.start_server()
    gateway = Gateway(server, http)
    gateways.append(gateway)
    return gateway


def exposition_value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, flags=re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_metrics_json_reads_what_metrics_exposes(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway(gateways, http)
    async with http.get(gateway.url + "/metrics") as response:
        before = await response.text()
    form = {"sessionId": "ATUid_unit", "serviceCode": "*121#", "phoneNumber": "+201001234567",
            "networkCode": "60202", "text": ""}  # fmt: skip
    async with http.post(gateway.url + "/ussd/at", data=form) as response:
        assert (await response.text()).startswith("CON ")  # the language screen
    async with http.get(gateway.url + "/simulator/metrics.json") as response:
        assert response.status == 200
        snapshot = await response.json()
    async with http.get(gateway.url + "/metrics") as response:
        after = await response.text()

    assert snapshot["live"]["ussd"] == {"kind": "sessions", "count": 1}
    assert snapshot["latency"]["ussd"]["count"] == 1
    # The same registry: the JSON's hop equals the change in the /metrics exposition.
    count = 'tasdeed_hop_seconds_count{channel="ussd"}'
    started = 'tasdeed_hops_total{channel="ussd",outcome="start"}'
    assert exposition_value(after, count) - exposition_value(before, count) == 1
    assert exposition_value(after, started) - exposition_value(before, started) == 1
    assert snapshot["channels"][:5] == ["ussd", "ivr", "web", "whatsapp", "sms"]
    assert all(sum(minutes) == 0 for minutes in snapshot["payments_per_minute"].values())


# ---- the IVR relay ----------------------------------------------------------------------


async def relay(gateway: Gateway, url: object, params: object = None) -> tuple[int, str]:
    body = {"url": url, "params": params if params is not None else call_params()}
    async with gateway.http.post(gateway.url + "/simulator/ivr", json=body) as response:
        return response.status, await response.text()


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": "+201001234567",
            "To": "121", "CallStatus": "ringing", **extra}  # fmt: skip


async def test_relay_signs_action_urls_under_public_base_url(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway(gateways, http)
    # Control: the IVR itself refuses an unsigned webhook, so a 200 below means the relay's
    # signature over the public URL was the one Twilio would have sent.
    async with http.post(gateway.url + "/ivr/voice", data=call_params()) as response:
        assert response.status == 403
    status, twiml = await relay(gateway, PUBLIC + "/ivr/voice")
    assert status == 200, twiml
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None and gather.attrib["action"] == PUBLIC + "/ivr/gather?step=1"
    status, twiml = await relay(gateway, gather.attrib["action"], call_params(Digits="1"))
    assert status == 200 and "دفع فاتورة، اضغط 2" in twiml
    status, _ = await relay(gateway, PUBLIC + "/ivr/status", call_params(CallStatus="completed"))
    assert status == 204


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/ivr/voice",  # the gateway's own address, not the public one
        "https://evil.example/ivr/voice",
        "https://ivr.tasdeed.example.evil.example/ivr/voice",  # the base as a host prefix
        "http://ivr.tasdeed.example/ivr/voice",  # another scheme
        PUBLIC,  # the base alone
        PUBLIC + "/chat/twilio",  # signed chat messages are not the simulator's business
        PUBLIC + "/ivr/voice/../../chat/twilio",
        PUBLIC + "/simulator/ivr",  # itself
        42,
    ],
)
async def test_relay_refuses_urls_outside_the_ivr_under_public_base_url(
    gateways: list[Gateway], http: aiohttp.ClientSession, url: object
) -> None:
    gateway = await start_gateway(gateways, http)
    status, body = await relay(gateway, url)
    assert status == 400, body
    assert "error" in body


async def test_relay_refuses_params_that_are_not_strings(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway(gateways, http)
    assert (await relay(gateway, PUBLIC + "/ivr/voice", {"Digits": 1}))[0] == 400
    assert (await relay(gateway, PUBLIC + "/ivr/voice", ["CallSid"]))[0] == 400
    too_many = {f"P{i}": "x" for i in range(40)}
    assert (await relay(gateway, PUBLIC + "/ivr/voice", too_many))[0] == 400


async def test_simulator_disabled_mounts_nothing(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    on = await start_gateway(gateways, http)
    off = await start_gateway(gateways, http, simulator_enabled=False)
    assert (await relay(on, PUBLIC + "/ivr/voice"))[0] == 200
    status, _ = await relay(off, PUBLIC + "/ivr/voice")
    assert status == 404
    for path in ("/simulator/metrics.json", "/simulator/operator.json", "/simulator/walks",
                 "/static/simulator.js"):  # fmt: skip
        async with http.get(on.url + path) as response:
            assert response.status != 404, path
        async with http.get(off.url + path) as response:
            assert response.status == 404, path
    # The operator view has its own switch: there without the simulator, with its files.
    for path in ("/operator", "/operator/metrics.json", "/static/operator.js"):
        async with http.get(off.url + path) as response:
            assert response.status == 200, path
    async with http.get(off.url + "/operator") as response:
        assert 'href="/?' not in await response.text()  # no link to a page that is not there
    dark = await start_gateway(gateways, http, simulator_enabled=False, operator_enabled=False)
    for path in ("/operator", "/operator/metrics.json", "/static/operator.js"):
        async with http.get(dark.url + path) as response:
            assert response.status == 404, path
    async with http.get(off.url + "/") as response:
        assert response.content_type == "text/plain"
        assert "POST /ussd/at" in await response.text()
    async with http.get(on.url + "/") as response:
        assert response.content_type == "text/html"
        assert '<html lang="ar" dir="rtl">' in await response.text()
    async with http.get(on.url + "/?lang=en") as response:
        assert '<html lang="en" dir="ltr">' in await response.text()


async def test_walks_diagram_is_served_only_with_the_simulator(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    on = await start_gateway(gateways, http, tasdeed_profile="kw")
    off = await start_gateway(gateways, http, simulator_enabled=False)
    async with http.get(on.url + "/simulator/walks?lang=en") as response:
        assert response.status == 200
        assert response.content_type == "text/plain" and response.charset == "utf-8"
        text = await response.text()
    assert text.startswith("flowchart TD") and "pay_confirm" in text
    # The running profile's table, in the asked language; Arabic by default, like the pages.
    assert "profile kw." in text and catalogue("en")["pay.confirm"] in text
    arabic = catalogue("ar", load_profile("kw").dialect)["pay.confirm"]
    async with http.get(on.url + "/simulator/walks") as response:
        assert arabic in await response.text()
    async with http.get(on.url + "/?lang=en") as response:
        page = await response.text()
    assert 'id="walks"' in page and "Menu tree" in page and "pay_confirm" in page
    assert "<script src=" not in page.split('id="walks"', 1)[1]  # no diagram script to fetch
    async with http.get(off.url + "/simulator/walks") as response:
        assert response.status == 404


def test_every_label_the_scripts_use_is_in_both_catalogues() -> None:
    used = set()
    for script in STATIC_DIR.glob("*.js"):
        used |= set(re.findall(r"\bt\(\"([a-z0-9_.]+)\"", script.read_text(encoding="utf-8")))
    assert len(used) > 20  # the pattern does find the calls
    for language in ("ar", "en"):
        missing = {key for key in used if f"sim.{key}" not in catalogue(language)}
        assert missing == set(), (language, missing)


# ---- the billing backend's operator endpoints, and the page's view of them --------------


@pytest.fixture
def sqlite_worlds(sqlite_template: Path, tmp_path: Path) -> Iterator[WorldBuilder]:
    yield WorldBuilder("sqlite", "", sqlite_template, tmp_path)


@pytest.fixture
async def world(sqlite_worlds: WorldBuilder) -> AsyncIterator[LedgerWorld]:
    yield await sqlite_worlds("eg")
    await sqlite_worlds.close()


@pytest.fixture
async def billing(world: LedgerWorld) -> AsyncIterator[str]:
    server = TestServer(create_billing_app(world.ledger), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def pay(world: LedgerWorld, index: int, channel: str) -> dict[str, Any]:
    quote = await world.ledger.quote(world.account(index).code, channel=channel)
    receipt, _ = await world.ledger.confirm(quote["quote_id"], f"key-{index}")
    return receipt


async def test_operator_endpoints_show_masked_rows_newest_first(
    world: LedgerWorld, billing: str
) -> None:
    first = await pay(world, 0, "ussd")
    world.clock.advance(minutes=1)
    second = await pay(world, 3, "ivr")
    ticket, _ = await world.ledger.file_complaint(
        category="outage", description="no power", channel="web", idempotency_key="c1",
        code=world.account(1).code,
    )  # fmt: skip
    world.clock.advance(hours=2)
    async with BillingClient(billing) as client:
        payments = await client.recent_payments(20)
        complaints = await client.recent_complaints(20)
        demos = await client.demo_codes()
        assert len(await client.recent_payments(1)) == 1
        with pytest.raises(BillingRefused):
            await client.recent_payments(0)
        with pytest.raises(BillingRefused):
            await client.recent_complaints(101)

    assert [p["receipt_number"] for p in payments] == [
        second["receipt_number"],
        first["receipt_number"],
    ]
    assert set(payments[0]) == {
        "receipt_number", "payee_masked", "amount_minor", "currency", "channel", "paid_at",
    }  # fmt: skip
    assert payments[0]["payee_masked"] == "محمد إ. الش."
    assert payments[0]["channel"] == "ivr" and payments[0]["amount_minor"] == 78775
    [complaint] = complaints
    assert complaint["ticket_number"] == ticket["ticket_number"]
    assert complaint["sla_seconds_left"] == 4 * 3600  # 6-hour SLA, 2 hours gone
    assert complaint["sla_breached"] is False and complaint["channel"] == "web"
    # Nothing that identifies or pays for an account leaves through these two.
    shown = repr([payments, complaints])
    for demo in world.accounts:
        assert demo.code not in shown and demo.account_number not in shown
        assert demo.payee_name not in shown
    assert not re.search(r"\+\d{6,}", shown)  # no phone numbers

    # The demo ledger lists its four scenario accounts with what they owe now.
    assert [d["code"] for d in demos] == [a.code for a in world.accounts[:4]]
    assert [d["amount_due_minor"] for d in demos] == [0, 258075, 0, 0]  # 0 and 3 paid above
    assert demos[1]["payee_masked"] == "يوسف إ. الش."


@pytest.fixture
def unseeded_ledger(sqlite_template: Path, tmp_path: Path) -> Path:
    """Migrated, never seeded: what a real utility's ledger looks like to these endpoints."""
    path = tmp_path / "unseeded.db"
    shutil.copy(sqlite_template, path)
    return path


async def test_a_ledger_the_demo_seed_did_not_fill_lists_no_codes(unseeded_ledger: Path) -> None:
    path = unseeded_ledger
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    server = TestServer(
        create_billing_app(Ledger(session_factory(engine), load_profile("eg"))), host="127.0.0.1"
    )
    await server.start_server()
    try:
        async with BillingClient(str(server.make_url("")).rstrip("/")) as client:
            with pytest.raises(BillingRefused):
                await client.demo_codes()
            assert await client.recent_payments() == []
    finally:
        await server.close()
        await engine.dispose()


async def test_operator_json_formats_for_the_page(
    world: LedgerWorld, billing: str, gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    receipt = await pay(world, 0, "ussd")
    await world.ledger.file_complaint(
        category="billing", description="x", channel="ivr", idempotency_key=None,
        code=world.account(1).code,
    )  # fmt: skip
    world.clock.advance(hours=300)  # past the 240-hour billing SLA
    gateway = await start_gateway(gateways, http, billing_url=billing)
    async with http.get(gateway.url + "/simulator/operator.json") as response:
        arabic = await response.json()
    async with http.get(gateway.url + "/simulator/operator.json?lang=en") as response:
        english = await response.json()
    [payment] = arabic["payments"]
    assert payment["receipt_number"] == receipt["receipt_number"]
    assert payment["amount"] == "١٬١٢٨٫٥٠ ج.م."
    assert payment["channel_label"] == "قوائم USSD"
    assert payment["time"] == "٢٠٢٦-١١-٢٤ ١١:٠٠:٠٠"  # 09:00 UTC in Cairo
    assert english["payments"][0]["amount"] == "EGP1,128.50"  # as the README shows it
    assert english["payments"][0]["time"] == "2026-11-24 11:00:00"
    [complaint] = english["complaints"]
    assert complaint["category"] == "Bill" and complaint["status"] == "open"
    assert complaint["sla_seconds_left"] == -60 * 3600  # sixty hours overdue

    async with http.get(gateway.url + "/") as response:
        page = await response.text()
    for demo in world.accounts[:4]:
        assert demo.code in page
    assert "١٬١٢٨٫٥٠" not in page  # account 0 was paid: it owes nothing now


# ---- the "reset demo data" button (issue 16, item 9) --------------------------------------


async def test_reset_button_makes_the_paid_demo_codes_payable_again(
    world: LedgerWorld, gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    app = create_billing_app(world.ledger)
    add_demo_routes(app, world.ledger, Settings(simulator_enabled=True))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await pay(world, 0, "web")
        gateway = await start_gateway(
            gateways, http, billing_url=str(server.make_url("")).rstrip("/")
        )
        async with http.get(gateway.url + "/") as response:
            page = await response.text()
        assert 'id="demo-reset"' in page and catalogue("ar")["sim.demo.reset"] in page
        assert "١٬١٢٨٫٥٠" not in page  # the first code was paid: nothing owed
        # A form post (what another site could make a browser send) is refused.
        async with http.post(gateway.url + "/simulator/demo-reset", data="x=1") as response:
            assert response.status == 415
        async with http.post(gateway.url + "/simulator/demo-reset?lang=en", json={}) as response:
            assert response.status == 200
            assert await response.json() == {
                "reset": True,
                "message": catalogue("en")["sim.demo.reset_done"],
            }
        quote = await world.ledger.quote(world.account(0).code, channel="web")
        assert quote["amount_minor"] == 112850
        async with http.get(gateway.url + "/") as response:
            assert "١٬١٢٨٫٥٠" in await response.text()  # owed again on the page
    finally:
        await server.close()


async def test_reset_button_says_so_when_the_backend_cannot_reset(
    world: LedgerWorld, billing: str, gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    """A backend without the demo routes (not in simulator mode): an error, nothing reset."""
    await pay(world, 0, "web")
    gateway = await start_gateway(gateways, http, billing_url=billing)
    async with http.post(gateway.url + "/simulator/demo-reset", json={}) as response:
        assert response.status == 502
        assert await response.json() == {"error": catalogue("ar")["sim.demo.reset_failed"]}
    off = await start_gateway(gateways, http, billing_url=billing, simulator_enabled=False)
    async with http.post(off.url + "/simulator/demo-reset", json={}) as response:
        assert response.status == 404
    with pytest.raises(Refusal):
        await world.ledger.quote(world.account(0).code, channel="web")
