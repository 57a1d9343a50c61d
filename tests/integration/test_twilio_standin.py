"""The Twilio Messaging stand-in, driven by the real twilio library over real sockets.

Every test talks to the stand-in the way Tasdeed's workers do (`messaging.twilio_api`), and
status callbacks land on a small aiohttp receiver whose signatures are checked with the twilio
library's own `RequestValidator`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from messaging.twilio_api import messaging_client
from twilio_standin import StandinConfig, create_app
from twilio_standin.api import STANDIN
from twilio_standin.resource import StoredMessage

ACCOUNT = "AC" + "7" * 32
TOKEN = "standin-test-token"
SMS_FROM = "+15005550006"
WA_FROM = "whatsapp:+14155238886"
SERVICE = "MG" + "a" * 32
RFC2822 = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000")


@dataclass
class Standin:
    base: str
    app: web.Application
    client: Client
    session: aiohttp.ClientSession

    @property
    def messages_url(self) -> str:
        return f"{self.base}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"

    async def control(self, method: str, path: str, payload: Any = None) -> Any:
        async with self.session.request(method, self.base + path, json=payload) as reply:
            assert reply.status == 200, await reply.text()
            return await reply.json()


@dataclass
class Callback:
    url: str
    params: dict[str, str]
    signature: str
    idempotency_token: str


@dataclass
class Receiver:
    base: str
    received: list[Callback] = field(default_factory=list)

    def url(self, path: str = "/status?run=1") -> str:
        return self.base + path

    def for_sid(self, sid: str) -> list[Callback]:
        return [c for c in self.received if c.params["MessageSid"] == sid]


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)  # a free port: never one another suite uses
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


StandinFactory = Callable[..., Awaitable[Standin]]


@pytest.fixture
async def start_standin() -> AsyncIterator[StandinFactory]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(**overrides: Any) -> Standin:
        settings: dict[str, Any] = {"callback_delay_ms": 20} | overrides
        app = create_app(StandinConfig(account_sid=ACCOUNT, auth_token=TOKEN, **settings))
        runner, base = await _serve(app)
        client, http = messaging_client(ACCOUNT, TOKEN, base)
        session = aiohttp.ClientSession()
        cleanups.extend([runner.cleanup, http.close, session.close])
        return Standin(base, app, client, session)

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def standin(start_standin: StandinFactory) -> Standin:
    return await start_standin()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    state = Receiver(base="")

    async def record(request: web.Request) -> web.Response:
        form = await request.post()
        state.received.append(
            Callback(
                url=state.base + request.path_qs,
                params={k: str(v) for k, v in form.items()},
                signature=request.headers.get("X-Twilio-Signature", ""),
                idempotency_token=request.headers.get("I-Twilio-Idempotency-Token", ""),
            )
        )
        if request.path == "/broken":
            return web.Response(status=500)
        return web.Response(status=204)

    app.router.add_post("/status", record)
    app.router.add_post("/broken", record)
    runner, state.base = await _serve(app)
    yield state
    await runner.cleanup()


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def refused(create: Awaitable[Any]) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await create
    return caught.value


# -- creating ---------------------------------------------------------------------------------


async def test_create_answers_twilios_message_resource(standin: Standin) -> None:
    form = {"To": "+966500000001", "From": SMS_FROM, "Body": "فاتورتك جاهزة"}
    auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
    async with standin.session.post(standin.messages_url, data=form, headers=auth) as reply:
        assert reply.status == 201
        assert reply.headers["Twilio-Request-Id"].startswith("RQ")
        resource = await reply.json()
    sid = resource["sid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    uri = f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"
    assert resource == {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": "فاتورتك جاهزة",
        "date_created": resource["date_created"],
        "date_sent": None,
        "date_updated": resource["date_updated"],
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": SMS_FROM,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
        "to": "+966500000001",
        "uri": uri,
    }
    assert RFC2822.fullmatch(resource["date_created"])
    assert RFC2822.fullmatch(resource["date_updated"])


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("ب" * 70, "1"),  # Arabic: UCS-2, 70 in one message
        ("ب" * 71, "2"),  # then 67 per part
        ("ب" * 134, "2"),
        ("ب" * 135, "3"),
        ("٣" * 70, "1"),  # Arabic-Indic digits are UCS-2 too
        ("Pay 150 EGP " + "ب", "1"),  # one Arabic letter turns the whole body UCS-2
        ("a" * 71, "1"),  # plain GSM-7 stays single up to 160
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("a" * 306, "2"),  # 153 per part
        ("a" * 307, "3"),
        ("€" * 80, "1"),  # extension characters cost two septets
        ("€" * 81, "2"),
        ("a" * 158 + "[", "1"),  # 160 septets
        ("a" * 159 + "[", "2"),  # 161 septets
        ("a" * 152 + "{" + "a" * 152, "3"),  # an escape pair never straddles two parts
        ("😀" * 35, "1"),  # emoji are surrogate pairs: two UTF-16 units each
        ("😀" * 36, "2"),
    ],
)
async def test_sms_segments_follow_carrier_rules(
    standin: Standin, body: str, segments: str
) -> None:
    message = await standin.client.messages.create_async(
        to="+966500000002", from_=SMS_FROM, body=body
    )
    assert message.num_segments == segments
    assert message.body == body


async def test_whatsapp_message_is_one_segment_whatever_its_length(standin: Standin) -> None:
    message = await standin.client.messages.create_async(
        to="whatsapp:+966500000003", from_=WA_FROM, body="ب" * 500
    )
    assert message.num_segments == "1"
    assert message.to == "whatsapp:+966500000003"
    assert message.from_ == WA_FROM
    assert message.status == "queued"


async def test_messaging_service_message_is_accepted_without_a_sender(standin: Standin) -> None:
    message = await standin.client.messages.create_async(
        to="+966500000004", messaging_service_sid=SERVICE, body="a" * 200
    )
    assert message.status == "accepted"
    assert message.from_ is None
    assert message.num_segments == "0"  # Twilio counts once a sender is picked
    assert message.messaging_service_sid == SERVICE
    await eventually(lambda: _stored(standin, message.sid).status == "delivered")
    fetched = await standin.client.messages(message.sid).fetch_async()
    assert fetched.num_segments == "2"
    assert fetched.from_ == SMS_FROM


# -- refusals -----------------------------------------------------------------------------------


async def test_wrong_auth_token_is_refused_with_20003(standin: Standin) -> None:
    client, http = messaging_client(ACCOUNT, "not-the-token", standin.base)
    try:
        error = await refused(
            client.messages.create_async(to="+966500000005", from_=SMS_FROM, body="x")
        )
        assert (error.status, error.code) == (401, 20003)
        assert error.msg.endswith("Authenticate")
        # The library reports a refused page as a plain TwilioException with the response.
        with pytest.raises(TwilioException) as listing:
            await client.messages.list_async(limit=1)
        response = listing.value.args[1]
        assert response.status_code == 401
        assert json.loads(response.text)["code"] == 20003
    finally:
        await http.close()


async def test_another_accounts_path_is_refused_with_20003(standin: Standin) -> None:
    client, http = messaging_client("AC" + "1" * 32, TOKEN, standin.base)
    try:
        error = await refused(
            client.messages.create_async(to="+966500000005", from_=SMS_FROM, body="x")
        )
        assert (error.status, error.code) == (401, 20003)
    finally:
        await http.close()
    stats = await standin.control("GET", "/_standin/stats")
    assert stats["accepted"] == 0


@pytest.mark.parametrize(
    "to",
    ["0501234567", "966501234567", "+12345", "+9665012345678901", "+9665o1234567", "+0501234567"],
)
async def test_malformed_to_is_refused_with_21211(standin: Standin, to: str) -> None:
    error = await refused(standin.client.messages.create_async(to=to, from_=SMS_FROM, body="x"))
    assert (error.status, error.code) == (400, 21211)
    assert error.uri.endswith("/Messages.json")


async def test_whatsapp_and_sms_addresses_cannot_be_mixed(standin: Standin) -> None:
    to_whatsapp = await refused(
        standin.client.messages.create_async(to="whatsapp:+966500000006", from_=SMS_FROM, body="x")
    )
    to_sms = await refused(
        standin.client.messages.create_async(to="+966500000006", from_=WA_FROM, body="x")
    )
    assert to_whatsapp.code == to_sms.code == 21910
    assert to_whatsapp.status == to_sms.status == 400


async def test_body_over_1600_characters_is_refused_with_21617(standin: Standin) -> None:
    error = await refused(
        standin.client.messages.create_async(to="+966500000007", from_=SMS_FROM, body="a" * 1601)
    )
    assert (error.status, error.code) == (400, 21617)
    longest = await standin.client.messages.create_async(
        to="+966500000007", from_=SMS_FROM, body="a" * 1600
    )
    assert longest.num_segments == "11"


async def test_missing_parameters_get_their_own_codes(standin: Standin) -> None:
    no_from = await refused(standin.client.messages.create_async(to="+966500000008", body="x"))
    no_body = await refused(
        standin.client.messages.create_async(to="+966500000008", from_=SMS_FROM)
    )
    no_to = await refused(standin.client.messages.create_async(to="", from_=SMS_FROM, body="x"))
    assert (no_from.code, no_body.code, no_to.code) == (21603, 21602, 21604)
    assert {no_from.status, no_body.status, no_to.status} == {400}
    stats = await standin.control("GET", "/_standin/stats")
    assert stats["rejected"] == {"21602": 1, "21603": 1, "21604": 1}
    assert stats["accepted"] == 0


async def test_creates_over_the_rate_limit_get_20429(start_standin: StandinFactory) -> None:
    standin = await start_standin(mps=5)

    async def send() -> Any:
        return await standin.client.messages.create_async(
            to="+966500000009", from_=SMS_FROM, body="x"
        )

    for _ in range(5):
        await send()
    error = await refused(send())
    assert (error.status, error.code) == (429, 20429)
    assert error.msg.endswith("Too Many Requests")
    await asyncio.sleep(0.25)  # 5 per second: one token back every 0.2 s
    await send()
    stats = await standin.control("GET", "/_standin/stats")
    assert (stats["accepted"], stats["rate_limited"]) == (6, 1)


async def test_configured_create_error_refuses_every_create(standin: Standin) -> None:
    await standin.control("POST", "/_standin/outcomes", {"+966500000010": {"create_error": 21610}})
    for _ in range(2):
        error = await refused(
            standin.client.messages.create_async(to="+966500000010", from_=SMS_FROM, body="x")
        )
        assert (error.status, error.code) == (400, 21610)
        assert "unsubscribed recipient" in error.msg
    other = await standin.client.messages.create_async(to="+966500000011", from_=SMS_FROM, body="x")
    assert other.status == "queued"


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503)])
async def test_transient_errors_then_success(standin: Standin, status: int, code: int) -> None:
    outcome = {"transient_errors": 2, "transient_status": status}
    await standin.control("POST", "/_standin/outcomes", {"+966500000012": outcome})
    for _ in range(2):
        error = await refused(
            standin.client.messages.create_async(to="+966500000012", from_=SMS_FROM, body="x")
        )
        assert (error.status, error.code) == (status, code)
    message = await standin.client.messages.create_async(
        to="+966500000012", from_=SMS_FROM, body="x"
    )
    assert message.status == "queued"
    outcomes = await standin.control("GET", "/_standin/outcomes")
    assert outcomes["+966500000012"]["transient_left"] == 0


async def test_control_api_rejects_a_bad_outcome(standin: Standin) -> None:
    async with standin.session.post(
        standin.base + "/_standin/outcomes", json={"+966500000013": {"delivery": "lost"}}
    ) as reply:
        assert reply.status == 400
        assert "delivery" in (await reply.json())["error"]


# -- reading ------------------------------------------------------------------------------------


async def test_list_pages_through_one_recipients_messages_newest_first(
    standin: Standin,
) -> None:
    target, other = "+966500000020", "+966500000021"
    sids = []
    for i in range(23):
        message = await standin.client.messages.create_async(
            to=target, from_=SMS_FROM, body=f"notice {i}"
        )
        sids.append(message.sid)
        await standin.client.messages.create_async(to=other, from_=SMS_FROM, body="x")

    listed = await standin.client.messages.list_async(to=target, page_size=5)
    assert [m.sid for m in listed] == sids[::-1]
    assert {m.to for m in listed} == {target}

    page = await standin.client.messages.page_async(to=target, page_size=5)
    pages = []
    while page is not None:
        pages.append([m.sid for m in page])
        page = await page.next_page_async()
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [sid for page_sids in pages for sid in page_sids] == sids[::-1]

    limited = await standin.client.messages.list_async(to=target, limit=7, page_size=3)
    assert [m.sid for m in limited] == sids[::-1][:7]
    everyone = await standin.client.messages.list_async(page_size=1000)
    assert len(everyone) == 46


async def test_list_envelope_matches_twilios(standin: Standin) -> None:
    for _ in range(3):
        await standin.client.messages.create_async(to="+966500000022", from_=SMS_FROM, body="x")
    auth = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)}
    query = {"To": "+966500000022", "PageSize": "2"}
    async with standin.session.get(standin.messages_url, params=query, headers=auth) as reply:
        first = await reply.json()
    base = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert first["first_page_uri"] == f"{base}?To=%2B966500000022&PageSize=2&Page=0"
    assert first["next_page_uri"].startswith(f"{base}?To=%2B966500000022&PageSize=2&Page=1")
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
    assert first["previous_page_uri"] is None
    async with standin.session.get(standin.base + first["next_page_uri"], headers=auth) as reply:
        second = await reply.json()
    assert (second["page"], second["start"], second["end"]) == (1, 2, 2)
    assert second["next_page_uri"] is None
    assert len(second["messages"]) == 1
    async with standin.session.get(
        standin.base + second["previous_page_uri"], headers=auth
    ) as reply:
        back = await reply.json()
    assert [m["sid"] for m in back["messages"]] == [m["sid"] for m in first["messages"]]


async def test_list_filters_by_from_and_date_sent(start_standin: StandinFactory) -> None:
    standin = await start_standin(callback_delay_ms=10)
    sent = await standin.client.messages.create_async(to="+966500000023", from_=SMS_FROM, body="x")
    alpha = await standin.client.messages.create_async(
        to="+966500000023", from_="TASDEED", body="x"
    )
    await eventually(lambda: _stored(standin, alpha.sid).status == "delivered")
    today = datetime.now(UTC)
    messages = standin.client.messages
    by_from = await messages.list_async(from_="TASDEED")
    assert [m.sid for m in by_from] == [alpha.sid]
    on_today = await messages.list_async(to="+966500000023", date_sent=today)
    assert {m.sid for m in on_today} == {sent.sid, alpha.sid}
    assert await messages.list_async(date_sent=today - timedelta(days=1)) == []
    assert await messages.list_async(date_sent_before=today - timedelta(days=1)) == []
    assert len(await messages.list_async(date_sent_before=today)) == 2  # inclusive
    assert len(await messages.list_async(date_sent_after=today)) == 2
    assert await messages.list_async(date_sent_after=today + timedelta(days=1)) == []


async def test_unsent_messages_never_match_a_date_filter(start_standin: StandinFactory) -> None:
    standin = await start_standin(callback_delay_ms=60_000)
    await standin.client.messages.create_async(to="+966500000024", from_=SMS_FROM, body="x")
    assert len(await standin.client.messages.list_async()) == 1
    assert await standin.client.messages.list_async(date_sent=datetime.now(UTC)) == []


async def test_fetch_unknown_sid_is_20404(standin: Standin) -> None:
    error = await refused(standin.client.messages("SM" + "0" * 32).fetch_async())
    assert (error.status, error.code) == (404, 20404)


# -- status callbacks ---------------------------------------------------------------------------


def _stored(standin: Standin, sid: str) -> StoredMessage:
    message = standin.app[STANDIN].store.get(sid)
    assert message is not None
    return message


def _assert_signed(callback: Callback) -> None:
    assert RequestValidator(TOKEN).validate(callback.url, callback.params, callback.signature)
    assert not RequestValidator("another-token").validate(
        callback.url, callback.params, callback.signature
    )


async def test_sms_callbacks_arrive_signed_in_order(standin: Standin, receiver: Receiver) -> None:
    url = receiver.url()
    message = await standin.client.messages.create_async(
        to="+966500000030", from_=SMS_FROM, body="ب" * 71, status_callback=url
    )
    await eventually(lambda: len(receiver.for_sid(message.sid)) == 2)
    callbacks = receiver.for_sid(message.sid)
    assert [c.params["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    for callback in callbacks:
        _assert_signed(callback)
        assert callback.url == url
        assert callback.params["SmsStatus"] == callback.params["MessageStatus"]
        assert callback.params["SmsSid"] == message.sid
        assert callback.params["AccountSid"] == ACCOUNT
        assert callback.params["ApiVersion"] == "2010-04-01"
        assert (callback.params["From"], callback.params["To"]) == (SMS_FROM, "+966500000030")
        assert "ErrorCode" not in callback.params
    assert set(callbacks[0].params) == {
        "AccountSid",
        "ApiVersion",
        "From",
        "To",
        "MessageSid",
        "SmsSid",
        "SmsStatus",
        "MessageStatus",
    }
    fetched = await standin.client.messages(message.sid).fetch_async()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert fetched.error_code is None


async def test_whatsapp_callbacks_end_with_read(standin: Standin, receiver: Receiver) -> None:
    message = await standin.client.messages.create_async(
        to="whatsapp:+966500000031", from_=WA_FROM, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(message.sid)) == 3)
    callbacks = receiver.for_sid(message.sid)
    assert [c.params["MessageStatus"] for c in callbacks] == ["sent", "delivered", "read"]
    for callback in callbacks:
        _assert_signed(callback)
        assert callback.params["ChannelPrefix"] == "whatsapp"
        assert callback.params["ChannelToAddress"] == "+966500000031"
        assert callback.params["To"] == "whatsapp:+966500000031"
    assert (await standin.client.messages(message.sid).fetch_async()).status == "read"


async def test_configured_undelivered_outcome(standin: Standin, receiver: Receiver) -> None:
    outcome = {"delivery": "undelivered", "error_code": 30003}
    await standin.control("POST", "/_standin/outcomes", {"+966500000032": outcome})
    message = await standin.client.messages.create_async(
        to="+966500000032", from_=SMS_FROM, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(message.sid)) == 2)
    sent, undelivered = receiver.for_sid(message.sid)
    assert sent.params["MessageStatus"] == "sent"
    assert "ErrorCode" not in sent.params
    assert undelivered.params["MessageStatus"] == "undelivered"
    assert undelivered.params["ErrorCode"] == "30003"
    assert undelivered.params["ErrorMessage"] == "Unreachable destination handset"
    _assert_signed(undelivered)
    fetched = await standin.client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


async def test_whatsapp_outside_the_session_window_fails_with_63016(
    start_standin: StandinFactory, receiver: Receiver
) -> None:
    standin = await start_standin(enforce_whatsapp_window=True)
    to = "whatsapp:+966500000033"
    closed = await standin.client.messages.create_async(
        to=to, from_=WA_FROM, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(closed.sid)) == 1)
    await asyncio.sleep(0.1)  # and nothing follows a failure
    [failed] = receiver.for_sid(closed.sid)
    assert (failed.params["MessageStatus"], failed.params["ErrorCode"]) == ("failed", "63016")
    assert (await standin.client.messages(closed.sid).fetch_async()).error_code == 63016

    await standin.control("POST", "/_standin/whatsapp_sessions", {"open": [to]})
    opened = await standin.client.messages.create_async(
        to=to, from_=WA_FROM, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(opened.sid)) == 3)
    assert receiver.for_sid(opened.sid)[-1].params["MessageStatus"] == "read"


async def test_messaging_service_reports_queued_first(standin: Standin, receiver: Receiver) -> None:
    message = await standin.client.messages.create_async(
        to="+966500000034", messaging_service_sid=SERVICE, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(message.sid)) == 3)
    callbacks = receiver.for_sid(message.sid)
    assert [c.params["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered"]
    assert {c.params["MessagingServiceSid"] for c in callbacks} == {SERVICE}
    assert {c.params["From"] for c in callbacks} == {SMS_FROM}
    for callback in callbacks:
        _assert_signed(callback)


async def test_failed_callbacks_are_recorded_and_not_retried(
    standin: Standin, receiver: Receiver
) -> None:
    message = await standin.client.messages.create_async(
        to="+966500000035", from_=SMS_FROM, body="x", status_callback=receiver.url("/broken")
    )
    await eventually(lambda: _stored(standin, message.sid).status == "delivered")
    await eventually(lambda: len(_stored(standin, message.sid).callbacks) == 2)
    await asyncio.sleep(0.1)
    assert [c.params["MessageStatus"] for c in receiver.for_sid(message.sid)] == [
        "sent",
        "delivered",
    ]
    listing = await standin.control("GET", "/_standin/messages?to=%2B966500000035")
    [record] = listing["messages"]
    assert [(c["status"], c["http_status"]) for c in record["callbacks"]] == [
        ("sent", 500),
        ("delivered", 500),
    ]
    stats = await standin.control("GET", "/_standin/stats")
    assert stats["callbacks"]["failed"] == 2


async def test_unreachable_callback_url_is_recorded(standin: Standin) -> None:
    # A port nothing listens on: bind one, note it, close it.
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    message = await standin.client.messages.create_async(
        to="+966500000036",
        from_=SMS_FROM,
        body="x",
        status_callback=f"http://127.0.0.1:{port}/status",
    )
    await eventually(lambda: len(_stored(standin, message.sid).callbacks) == 2)
    records = _stored(standin, message.sid).callbacks
    assert [r.http_status for r in records] == [None, None]
    assert all(r.error for r in records)
    assert _stored(standin, message.sid).status == "delivered"


async def test_duplicate_callbacks_repeat_each_status(
    start_standin: StandinFactory, receiver: Receiver
) -> None:
    standin = await start_standin(duplicate_callbacks=True)
    message = await standin.client.messages.create_async(
        to="+966500000037", from_=SMS_FROM, body="x", status_callback=receiver.url()
    )
    await eventually(lambda: len(receiver.for_sid(message.sid)) == 4)
    callbacks = receiver.for_sid(message.sid)
    statuses = [c.params["MessageStatus"] for c in callbacks]
    assert statuses == ["sent", "sent", "delivered", "delivered"]
    assert callbacks[0].idempotency_token == callbacks[1].idempotency_token
    assert callbacks[1].idempotency_token != callbacks[2].idempotency_token
    for callback in callbacks:
        _assert_signed(callback)


async def test_reset_forgets_everything(standin: Standin) -> None:
    await standin.control("POST", "/_standin/outcomes", {"+966500000038": {"create_error": 21610}})
    await standin.client.messages.create_async(to="+966500000039", from_=SMS_FROM, body="x")
    await refused(
        standin.client.messages.create_async(to="+966500000038", from_=SMS_FROM, body="x")
    )
    await standin.control("POST", "/_standin/reset")
    stats = await standin.control("GET", "/_standin/stats")
    assert (stats["accepted"], stats["rejected"], stats["stored"]) == (0, {}, 0)
    assert await standin.client.messages.list_async() == []
    again = await standin.client.messages.create_async(to="+966500000038", from_=SMS_FROM, body="x")
    assert again.status == "queued"


async def test_media_only_message_and_bad_status_callback(standin: Standin) -> None:
    media = await standin.client.messages.create_async(
        to="+966500000040", from_=SMS_FROM, media_url=["https://example.com/receipt.png"]
    )
    assert (media.num_media, media.num_segments, media.body) == ("1", "1", "")
    error = await refused(
        standin.client.messages.create_async(
            to="+966500000040", from_=SMS_FROM, body="x", status_callback="http://bad_host/cb"
        )
    )
    assert (error.status, error.code) == (400, 21609)
