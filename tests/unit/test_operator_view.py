"""The operator view (gateway/operator/) and the simulator kept out of production's way.

- A production gateway mounts none of the simulator (not even with SIMULATOR_ENABLED=true);
  the operator view is there, behind OPERATOR_TOKEN (401 without it, 403 for a wrong bearer
  token, 401 again for a wrong browser password, 200 with the right one).
- Live sessions come from the state store's live index: a USSD session shows its step and
  its code masked, never the full code, the phone number or the aggregator's session id; an
  ended session leaves the list. Hops after the first leave the index alone.
- One complaint's history, from the billing backend: every status in order, where it came
  from, and the notice that told the person (once per status).
Real gateways and a real billing backend on an embedded SQLite ledger over loopback HTTP,
with the in-process state store (tests/e2e/test_operator_live_view.py does it with Redis and
PostgreSQL)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from billing.app import create_app as create_billing_app
from gateway.app import create_app
from tasdeed.codes import mask_code
from tasdeed.i18n import catalogue
from tasdeed.live_sessions import live_sessions
from tasdeed.settings import Settings
from tasdeed.state_store import LIVE_INDEX_MAX, MemoryStore
from tests.conftest import LedgerWorld, WorldBuilder

PUBLIC = "https://ivr.tasdeed.example"
TOKEN = "operator-" + "t" * 40
NOWHERE = "http://127.0.0.1:9"
PHONE = "+201001234567"
USSD_LABEL = catalogue("en")["sim.channel.ussd"]
OPERATOR_PATHS = (
    "/operator",
    "/operator/metrics.json",
    "/operator/sessions.json",
    "/operator/recent.json",
    "/operator/complaints/12345678.json",
)
SIMULATOR_PATHS = (
    "/simulator/metrics.json",
    "/simulator/operator.json",
    "/simulator/walks",
    "/static/simulator.js",
)


class Gateway:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession):
        self.server, self.http = server, http
        self.url = str(server.make_url("")).rstrip("/")

    async def get(self, path: str, token: str | None = None, **headers: str) -> tuple[int, str]:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.get(self.url + path, headers=headers) as response:
            return response.status, await response.text()

    async def json(self, path: str, token: str | None = TOKEN) -> Any:
        status, text = await self.get(path, token)
        assert status == 200, (path, status, text)
        return json.loads(text)

    async def ussd(self, session_id: str, *inputs: str) -> str:
        form = {"sessionId": session_id, "serviceCode": "*121#", "phoneNumber": PHONE,
                "networkCode": "60202", "text": "*".join(inputs)}  # fmt: skip
        async with self.http.post(self.url + "/ussd/at", data=form) as response:
            assert response.status == 200
            return await response.text()


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
        "twilio_auth_token": "unit-test-auth-token",
        "operator_token": TOKEN,
        **settings,
    }
    server = TestServer(create_app(Settings(**values)), host="127.0.0.1")
    await server.start_server()
    gateway = Gateway(server, http)
    gateways.append(gateway)
    return gateway


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


# ---- production: no simulator; the operator view behind its token ---------------------------


@pytest.mark.parametrize("simulator_enabled", [False, True])
async def test_a_production_gateway_mounts_none_of_the_simulator(
    gateways: list[Gateway], http: aiohttp.ClientSession, simulator_enabled: bool
) -> None:
    """Even SIMULATOR_ENABLED=true (which production refuses at start-up) mounts nothing of
    the simulator once TASDEED_ENV is production: no relay that signs call webhooks."""
    gateway = await start_gateway(
        gateways, http, tasdeed_env="production", simulator_enabled=simulator_enabled
    )
    for path in SIMULATOR_PATHS:
        assert (await gateway.get(path, TOKEN))[0] == 404, path
    for path in ("/simulator/ivr", "/simulator/demo-reset"):
        body = {"url": PUBLIC + "/ivr/voice", "params": {"CallSid": "CA" + "1" * 32}}
        async with http.post(gateway.url + path, json=body) as response:
            assert response.status == 404, path
    status, index = await gateway.get("/")
    assert status == 200 and "POST /ussd/at" in index and "<html" not in index
    status, page = await gateway.get("/operator", TOKEN)
    assert status == 200 and 'id="op-sessions"' in page
    assert 'href="/?' not in page  # the header links to no simulator page
    assert (await gateway.get("/static/operator.js"))[0] == 200
    assert (await gateway.get("/static/pages.css"))[0] == 200


async def test_the_operator_view_needs_its_token(
    gateways: list[Gateway], http: aiohttp.ClientSession, billing: str
) -> None:
    gateway = await start_gateway(gateways, http, tasdeed_env="production", billing_url=billing)
    for path in OPERATOR_PATHS:
        async with http.get(gateway.url + path) as response:
            assert response.status == 401, path
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
            assert response.headers["Cache-Control"] == "no-store"
        assert (await gateway.get(path, "wrong-" + TOKEN))[0] == 403, path
        assert (await gateway.get(path, TOKEN[:-1]))[0] == 403, path  # a prefix is not it
        assert (await gateway.get(path, ""))[0] == 401, path  # "Bearer " and nothing
    # A browser's prompt: any user name, the token as the password; a wrong one is asked again.
    right = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    wrong = base64.b64encode(b"anyone:guess").decode()
    status, _ = await gateway.get("/operator", Authorization=f"Basic {wrong}")
    assert status == 401
    assert (await gateway.get("/operator", Authorization="Basic %%%"))[0] == 401
    status, page = await gateway.get("/operator", Authorization=f"Basic {right}")
    assert status == 200 and "<html" in page
    for path in OPERATOR_PATHS[:-1]:
        async with http.get(gateway.url + path, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 200, path
            assert r.headers["Cache-Control"] == "no-store"
    assert (await gateway.get("/operator/complaints/12345678.json", TOKEN))[0] == 404
    assert (await gateway.get("/operator/complaints/12ab.json", TOKEN))[0] == 404


async def test_in_simulator_mode_the_old_paths_are_behind_the_same_token(
    gateways: list[Gateway], http: aiohttp.ClientSession
) -> None:
    gateway = await start_gateway(gateways, http)  # development, simulator on, a token set
    for path in ("/simulator/metrics.json", "/simulator/operator.json"):
        assert (await gateway.get(path))[0] == 401, path
        assert (await gateway.get(path, "wrong"))[0] == 403, path
    assert (await gateway.get("/simulator/metrics.json", TOKEN))[0] == 200
    # The simulator page itself stays open (it exists on a developer's machine only) and
    # links to the operator view.
    status, page = await gateway.get("/")
    assert status == 200 and 'href="/operator?lang=ar"' in page


# ---- live sessions -----------------------------------------------------------------------


async def test_a_live_ussd_session_shows_its_step_and_its_code_masked(
    gateways: list[Gateway], http: aiohttp.ClientSession, world: LedgerWorld, billing: str
) -> None:
    gateway = await start_gateway(gateways, http, billing_url=billing)
    code = world.account(1).code  # owes money: the balance walk keeps its code for paying
    session_id = "ATUid_operator_view_1"
    await gateway.ussd(session_id)
    await gateway.ussd(session_id, "1")  # Arabic
    await gateway.ussd(session_id, "1", "1")  # balance
    screen = await gateway.ussd(session_id, "1", "1", code)
    assert screen.startswith("CON ")

    raw = json.dumps(await gateway.json("/operator/sessions.json?lang=en"))
    [session] = json.loads(raw)["sessions"]
    assert session["channel"] == "ussd" and session["channel_label"] == USSD_LABEL
    assert session["step"] == "balance.result"
    assert session["code"] == mask_code(code) and session["code"].endswith(code[-4:])
    assert session["language"] == "ar" and session["inputs"] == 3 and session["ended"] is False
    assert 0 <= session["age_s"] < 60
    # Nothing that pays for or identifies anyone: the full code, the phone, the session id.
    for secret in (code, PHONE, PHONE.lstrip("+"), session_id):
        assert secret not in raw, secret
    arabic = await gateway.json("/operator/sessions.json")
    assert arabic["sessions"][0]["channel_label"] == catalogue("ar")["sim.channel.ussd"]

    # A second session (the same caller: straight to the main menu in their language), newest
    # first; the aggregator ends the first one: it leaves the list.
    await gateway.ussd("ATUid_operator_view_2")
    steps = [s["step"] for s in (await gateway.json("/operator/sessions.json"))["sessions"]]
    assert steps == ["main", "balance.result"]
    form = {"sessionId": session_id, "serviceCode": "*121#", "phoneNumber": PHONE,
            "networkCode": "60202", "status": "Success", "input": ""}  # fmt: skip
    async with http.post(gateway.url + "/ussd/at/events", data=form) as response:
        assert response.status == 200
    steps = [s["step"] for s in (await gateway.json("/operator/sessions.json"))["sessions"]]
    assert steps == ["main"]


async def test_only_the_opening_hop_touches_the_live_index() -> None:
    """The index costs a session one write, on its first hop; later hops write the record as
    they always did. A session keeps its start; a missing record is skipped."""
    store = MemoryStore()
    await store.set("ussd:s:a", {"state": {"screen": "language", "data": {}}}, 60)
    await store.mark_live("ussd", "ussd:s:a")
    first = (await store.live_records("ussd", 10))[0].started
    await store.set("ussd:s:a", {"state": {"screen": "main", "data": {"code": "12345678"}}}, 60)
    await store.mark_live("ussd", "ussd:s:a")  # again: NX, the start stays
    await store.mark_live("ussd", "ussd:s:gone")  # its record was never written
    [record] = await store.live_records("ussd", 10)
    assert (record.key, record.started) == ("ussd:s:a", first)
    [session] = await live_sessions(store, clock=lambda: first + 75)
    assert (session.step, session.code, session.age_s) == ("main", "****5678", 75)
    for i in range(LIVE_INDEX_MAX + 5):
        await store.mark_live("ivr", f"ivr:c:{i}")
    assert len(store._live["ivr"]) == LIVE_INDEX_MAX  # capped: the oldest went


# ---- one complaint's history -------------------------------------------------------------


async def test_a_filed_complaints_history_shows_in_order(
    gateways: list[Gateway], http: aiohttp.ClientSession, world: LedgerWorld, billing: str
) -> None:
    ticket, _ = await world.ledger.file_complaint(
        category="outage", description="no power since noon", channel="ussd",
        idempotency_key="op-1", code=world.account(2).code,
    )  # fmt: skip
    number = ticket["ticket_number"]
    for minutes, status in ((30, "in_progress"), (60, "resolved"), (5, "in_progress")):
        world.clock.advance(minutes=minutes)
        await world.ledger.set_complaint_status(number, status)
    await world.ledger.set_complaint_status(number, "in_progress")  # no change: no event

    gateway = await start_gateway(gateways, http, billing_url=billing)
    english = await gateway.json(f"/operator/complaints/{number}.json?lang=en")
    assert english["ticket_number"] == number
    assert english["category"] == catalogue("en")["complaint.category.outage"]
    assert english["status"] == "in_progress" and english["channel_label"] == USSD_LABEL
    events = english["events"]
    assert [e["status"] for e in events] == ["open", "in_progress", "resolved", "in_progress"]
    assert [e["source"] for e in events] == ["ussd", "operator", "operator", "operator"]
    assert [e["time"] for e in events] == [
        "2026-11-24 11:00:00",  # 09:00 UTC filed, in Cairo's time
        "2026-11-24 11:30:00",
        "2026-11-24 12:30:00",
        "2026-11-24 12:35:00",
    ]
    assert events[1]["source_label"] == "operator" and events[0]["source_label"] == USSD_LABEL
    assert [e["status_label"] for e in events] == [
        catalogue("en")[f"complaint.state.{e['status']}"] for e in events
    ]
    # The person hears of each status once: the reopening was not told again.
    told = [e["notice"] is not None for e in events]
    assert told == [True, True, True, False]
    assert {e["notice"]["state"] for e in events if e["notice"]} == {"new"}
    arabic = await gateway.json(f"/operator/complaints/{number}.json")
    assert arabic["events"][0]["time"] == "٢٠٢٦-١١-٢٤ ١١:٠٠:٠٠"
    assert arabic["events"][1]["source_label"] == catalogue("ar")["sim.op.by_operator"]
    shown = json.dumps([english, arabic], ensure_ascii=False)
    account = world.account(2)
    for secret in (account.code, account.account_number, account.payee_name, "no power"):
        assert secret not in shown

    status, body = await gateway.get("/operator/complaints/99999999.json?lang=en", TOKEN)
    assert status == 404
    assert json.loads(body) == {"error": catalogue("en")["sim.op.no_such_ticket"]}
