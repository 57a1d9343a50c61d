"""Hostile bytes and values at the gateway: every webhook answers a short 4xx, never a 500,
and never echoes the body; Hubtel's Sequence is a sane whole number; the web chat refuses
anything but strings; the chat reply cache is per channel + sender + message id.

A real gateway (aiohttp over loopback) with no billing backend and no Redis; Rasa is a small
stand-in that answers who asked, so a reply served to the wrong person shows."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from gateway.app import MAX_BODY_BYTES, create_app
from gateway.hostile_input import refuse_hostile_input
from tasdeed.safe_json import loads_limited
from tasdeed.settings import Settings
from ussd import hubtel

PUBLIC = "https://hostile.tasdeed.example"
TOKEN = "hostile-input-token"
NOWHERE = "http://127.0.0.1:9"
FORM = "application/x-www-form-urlencoded"
SECRET_CODE = "627898622241"
SECRET_PHONE = "+201001234567"
FORM_PATHS = [
    "/ussd/at",
    "/ussd/at/events",
    "/ivr/voice",
    "/ivr/gather?step=1",
    "/ivr/silence?step=1",
    "/ivr/status",
    "/chat/twilio",
    "/notices/status",
]
HUBTEL = {"SessionId": "hub-1", "Mobile": "233246912184", "Type": "Response", "Message": "1"}


# ---- the helpers' contracts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\xfd",
        b'{"message": "\xff"}',
        "[" * 9 + "]" * 9,
        '{"a":' * 9 + "1" + "}" * 9,
        "[" * 50_000,
        '{"Sequence": NaN}',
        '{"Sequence": Infinity}',
        '{"Sequence": -Infinity}',
        '{"Sequence": 1e400}',
        '{"Sequence": -1e400}',
        '{"message": "\\ud800"}',
        '{"\\udfff": 1}',
        "1" * 5000,
        "",
        "{",
    ],
)
def test_loads_limited_refuses_with_value_error(raw: str | bytes) -> None:
    with pytest.raises(ValueError) as refused:
        loads_limited(raw, max_depth=8)
    assert len(str(refused.value)) < 100


def test_loads_limited_reads_ordinary_json() -> None:
    assert loads_limited('{"a": [1, 2.5, {"b": "]]]] [[[["}], "c": "😀"}', max_depth=3) == {
        "a": [1, 2.5, {"b": "]]]] [[[["}],
        "c": "😀",
    }
    assert loads_limited(b'{"c": "\\ud83d\\ude00 \xd9\x85"}') == {"c": "😀 م"}  # a pair is fine
    assert loads_limited("[" * 8 + "]" * 8, max_depth=8) == [[[[[[[[]]]]]]]]


@pytest.mark.parametrize(
    "sequence",
    [math.inf, -math.inf, math.nan, 1e400, -5, 0, 1001, 10**100, 2.5, "x", "-3", "٣", [], {}, True],
)
def test_hubtel_sequence_out_of_range_is_malformed(sequence: object) -> None:
    with pytest.raises(hubtel.MalformedRequest):
        hubtel.parse({**HUBTEL, "Sequence": sequence})


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [(None, None), ("", None), (1, 1), (2, 2), ("7", 7), (" 3 ", 3), (4.0, 4), (1000, 1000)],
)
def test_hubtel_sequence_in_range_is_read(sequence: object, expected: int | None) -> None:
    assert hubtel.parse({**HUBTEL, "Sequence": sequence}).sequence == expected


@pytest.mark.parametrize(
    "body",
    [
        {**HUBTEL, "Mobile": ["233246912184"]},
        {**HUBTEL, "SessionId": {"a": 1}},
        {**HUBTEL, "Message": "\ud800"},
        {**HUBTEL, "Mobile": 10**400},
    ],
)
def test_hubtel_fields_must_be_text(body: dict[str, object]) -> None:
    with pytest.raises(hubtel.MalformedRequest):
        hubtel.parse(body)


# ---- over HTTP ----------------------------------------------------------------------------


class FakeRasa:
    """Rasa's REST channel: answers with who asked and how many times it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    async def webhook(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        return web.json_response([{"text": f"reply {self.calls} to {body['sender']}"}])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app


class Gateway:
    def __init__(self, url: str, http: aiohttp.ClientSession, rasa: FakeRasa):
        self.url, self.http, self.rasa = url, http, rasa

    async def post(
        self, path: str, data: bytes | str, content_type: str = FORM, **headers: str
    ) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **headers}
        async with self.http.post(self.url + path, data=data, headers=headers) as response:
            return response.status, await response.text()

    async def web_chat(self, body: object) -> tuple[int, Any]:
        async with self.http.post(self.url + "/chat/web", json=body) as response:
            return response.status, await response.json()

    async def whatsapp(self, sid: str, sender: str, text: str) -> tuple[int, str]:
        params = {"MessageSid": sid, "From": f"whatsapp:{sender}", "To": "whatsapp:+2010",
                  "Body": text, "AccountSid": "AC" + "0" * 32}  # fmt: skip
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/chat/twilio", params)
        async with self.http.post(
            self.url + "/chat/twilio", data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            return response.status, await response.text()


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    rasa = FakeRasa()
    rasa_server = TestServer(rasa.app(), host="127.0.0.1")
    await rasa_server.start_server()
    settings = Settings(
        tasdeed_profile="eg",
        billing_url=NOWHERE,
        billing_retries=0,
        redis_url="",
        public_base_url=PUBLIC,
        twilio_auth_token=TOKEN,
        rasa_url=str(rasa_server.make_url("")).rstrip("/"),
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Gateway(str(server.make_url("")).rstrip("/"), http, rasa)
    await server.close()
    await rasa_server.close()


def _short_and_silent(status: int, text: str) -> None:
    assert 400 <= status < 500, (status, text)
    assert len(text) < 120
    assert SECRET_CODE not in text and SECRET_PHONE not in text and "\ufffd" not in text


@pytest.mark.parametrize("path", FORM_PATHS)
async def test_undecodable_form_bytes_are_a_400(gateway: Gateway, path: str) -> None:
    body = f"sessionId=\xff&phoneNumber={SECRET_PHONE}&text=1*2*{SECRET_CODE}".encode("latin-1")
    for content_type in (FORM, "", f"{FORM}; charset=no-such-charset"):
        status, text = await gateway.post(path, body, content_type, **{"X-Twilio-Signature": "x"})
        _short_and_silent(status, text)
        assert status == 400


@pytest.mark.parametrize("path", FORM_PATHS)
async def test_broken_multipart_is_a_400(gateway: Gateway, path: str) -> None:
    broken = [
        (b"--b\r\nContent-Disposition: form-data\r\n\r\n\xff\r\n--b--\r\n", "boundary=b"),
        (b"", "boundary=b"),  # empty: no starting boundary
        (b"", ""),  # no boundary at all
        (b"x=1", ""),
        (
            b"--b\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q--\r\n--b--\r\n",
            "boundary=b",
        ),
    ]
    for body, parameters in broken:
        content_type = "multipart/form-data" + (f"; {parameters}" if parameters else "")
        status, text = await gateway.post(path, body, content_type, **{"X-Twilio-Signature": "x"})
        _short_and_silent(status, text)
        assert status == 400


@pytest.mark.parametrize(
    "sequence", ["Infinity", "-Infinity", "NaN", "1e400", "-5", "0", "1" + "0" * 100, "2.5"]
)
async def test_hubtel_hostile_sequence_is_a_400(gateway: Gateway, sequence: str) -> None:
    body = json.dumps({**HUBTEL, "Mobile": SECRET_PHONE})[:-1] + f', "Sequence": {sequence}}}'
    for content_type in ("application/json", "text/plain"):
        status, text = await gateway.post("/ussd/hubtel", body, content_type)
        _short_and_silent(status, text)
        assert status == 400


async def test_hubtel_sane_sequence_still_answers(gateway: Gateway) -> None:
    body = json.dumps({**HUBTEL, "Type": "Initiation", "Message": "*121#", "Sequence": 1})
    status, text = await gateway.post("/ussd/hubtel", body, "application/json")
    assert status == 200 and json.loads(text)["Type"] == "Response"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/x+json"])
@pytest.mark.parametrize("path", ["/chat/web", "/ussd/hubtel", "/simulator/ivr"])
async def test_deep_json_is_a_400(gateway: Gateway, path: str, content_type: str) -> None:
    for body in ("[" * 30_000 + "]" * 30_000, '{"a":' * 9000 + "1" + "}" * 9000):
        status, text = await gateway.post(path, body, content_type)
        _short_and_silent(status, text)
        assert status == 400


async def test_web_chat_refuses_nesting_deeper_than_its_own_limit(gateway: Gateway) -> None:
    body = {"sender": "a", "message": "hi", "extra": [[[[[[[[["deep"]]]]]]]]]}
    status, answer = await gateway.web_chat(body)
    assert status == 400 and "JSON" in answer["error"]
    assert gateway.rasa.calls == 0


async def test_undecodable_json_bytes_are_a_400(gateway: Gateway) -> None:
    for path in ("/chat/web", "/ussd/hubtel"):
        status, text = await gateway.post(path, b'{"sender": "\xff"}', "application/json")
        _short_and_silent(status, text)
        status, text = await gateway.post(path, b"{}", "application/json; charset=nope")
        _short_and_silent(status, text)


async def test_oversize_body_stays_413(gateway: Gateway) -> None:
    status, _ = await gateway.post("/ussd/at", b"text=" + b"1" * (MAX_BODY_BYTES + 10))
    assert status == 413


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "a", "message": 5},
        {"sender": "a", "message": None},
        {"sender": "a", "message": ["hi"]},
        {"sender": "a", "message": {"text": "hi"}},
        {"sender": "a", "message": ""},
        {"sender": "a", "message": " \n\t "},
        {"sender": "a"},
        {"sender": 5, "message": "hi"},
        {"sender": None, "message": "hi"},
        {"sender": ["a"], "message": "hi"},
        {"sender": "  ", "message": "hi"},
        {"sender": "a", "message": "hi", "message_id": ["m1"]},
        ["sender", "message"],
        "hi",
    ],
)
async def test_web_chat_refuses_anything_but_strings(gateway: Gateway, body: object) -> None:
    status, answer = await gateway.web_chat(body)
    assert status == 400
    assert isinstance(answer["error"], str) and 0 < len(answer["error"]) < 100
    assert gateway.rasa.calls == 0


async def test_web_chat_message_ids_are_per_sender(gateway: Gateway) -> None:
    status, alice = await gateway.web_chat({"sender": "alice", "message": "hi", "message_id": "m1"})
    assert status == 200 and alice["replies"][0]["text"].startswith("reply 1 to web:")
    # The page retries: the same sender and id get the same replies, Rasa is not asked again.
    status, again = await gateway.web_chat({"sender": "alice", "message": "hi", "message_id": "m1"})
    assert again == alice and gateway.rasa.calls == 1
    # Another sender choosing Alice's id gets an answer of its own, not Alice's.
    status, bob = await gateway.web_chat({"sender": "bob", "message": "hi", "message_id": "m1"})
    assert status == 200 and bob != alice and bob["replies"][0]["text"].startswith("reply 2 ")
    assert gateway.rasa.calls == 2


async def test_a_whatsapp_message_sid_on_web_chat_gets_no_whatsapp_reply(
    gateway: Gateway,
) -> None:
    sid = "SM" + "7" * 32
    status, twiml = await gateway.whatsapp(sid, SECRET_PHONE, "hi")
    assert status == 200 and "reply 1 to whatsapp:" in twiml
    retried = await gateway.whatsapp(sid, SECRET_PHONE, "hi")  # Twilio's retry: cached
    assert retried == (status, twiml) and gateway.rasa.calls == 1
    for sender in (SECRET_PHONE, f"whatsapp:{SECRET_PHONE}", "someone"):
        status, answer = await gateway.web_chat(
            {"sender": sender, "message": "hi", "message_id": sid}
        )
        assert status == 200
        assert not answer["replies"][0]["text"].startswith("reply 1 ")
        assert answer["replies"][0]["text"].startswith("reply ")
    assert gateway.rasa.calls == 4


async def test_parse_errors_escaping_a_handler_are_a_400() -> None:
    """The last guard: a handler that parses its body its own way and trips."""

    async def parses_badly(request: web.Request) -> web.Response:
        kind = request.query["raise"]
        if kind == "recursion":
            raise RecursionError("maximum recursion depth exceeded")
        if kind == "json":
            json.loads("{")
        (await request.read()).decode("ascii")
        return web.Response(text="ok")

    app = web.Application(middlewares=[refuse_hostile_input])
    app.router.add_post("/parse", parses_badly)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            for kind in ("recursion", "json", "unicode"):
                async with http.post(
                    server.make_url(f"/parse?raise={kind}"),
                    data="é".encode(),
                    headers={"Content-Type": "text/plain"},
                ) as response:
                    assert response.status == 400
                    assert await response.text() == "invalid request body"
    finally:
        await server.close()
