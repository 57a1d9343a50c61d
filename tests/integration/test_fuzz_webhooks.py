"""Hypothesis-generated requests through the real gateway app (aiohttp over loopback) with a
real billing backend on a seeded SQLite ledger: Africa's Talking and Hubtel callbacks, Twilio
Voice and Messaging webhooks and delivery statuses (signed as Twilio signs them, so the
generated values reach the handlers), the web chat, and raw bytes under any content type to
every one of them. The property: no request is answered 500.

TASDEED_FUZZ_REQUESTS sets the examples per test (default 120; the whole file stays well
under a minute). A larger run, e.g. 20k requests in all:

    TASDEED_FUZZ_REQUESTS=3400 .venv/bin/python -m pytest -q -s \
        tests/integration/test_fuzz_webhooks.py
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from yarl import URL

from billing.app import create_app as create_billing_app
from gateway.app import create_app
from tasdeed.settings import Settings
from tests.conftest import WorldBuilder

EXAMPLES = int(os.environ.get("TASDEED_FUZZ_REQUESTS", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PUBLIC = "https://fuzz.tasdeed.example"
TOKEN = "fuzz-auth-token"
SIGNED_PATHS = ["/ivr/voice", "/ivr/gather", "/ivr/silence", "/ivr/status", "/chat/twilio",
                "/notices/status"]  # fmt: skip
ALL_PATHS = ["/ussd/at", "/ussd/at/events", "/ussd/hubtel", "/chat/web", "/simulator/ivr",
             *SIGNED_PATHS]  # fmt: skip

# Text a form can carry (no lone surrogates: a client cannot encode them; raw bytes below
# cover what they decode from), with the characters that matter here over-represented.
SPECIAL = "٠١٢٣٤٥٦٧٨٩٫٬*#\u200f\u200b\ufeff\u0640ﷺ①٣ #*%+&=\r\n\x00"
form_char = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
    st.characters(exclude_categories=["Cs"]),
)
form_text = st.one_of(
    st.text(form_char, max_size=40),
    st.sampled_from(["", "1", "2", "99", "0", "00", "627898622241", "ايوه", "٦٢٧٨٩٨٦٢٢٢٤١"]),
    st.text(form_char, min_size=200, max_size=2000),
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    form_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(form_text, inner, max_size=3)
    ),
    max_leaves=6,
)
content_types = st.sampled_from(
    [
        None,
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=bogus",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/json",
        "application/json; charset=utf-32",
        "application/vnd.api+json",
        "text/plain",
        "text/xml",
        "application/octet-stream",
    ]
)
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(form_char, max_size=200).map(lambda t: t.encode("utf-8")),
    st.sampled_from(
        [
            b"",
            b"sessionId=\xff&phoneNumber=%2B20&text=1",
            b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--xyz--\r\n',
            b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n",
            b"--xyz\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q--\r\n--xyz--\r\n",
            b"[" * 20000,
            b'{"a":' * 5000,
            b'{"Sequence": Infinity}',
            b'{"sender": "\\ud800", "message": "hi"}',
            b"a=%ED%A0%80&b=%FF&c=%zz&d",
        ]
    ),
)


@dataclass
class FuzzGateway:
    runner: asyncio.Runner
    url: str = ""
    http: aiohttp.ClientSession | None = None
    servers: list[TestServer] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        assert self.http is not None
        async with self.http.post(
            URL(self.url + path, encoded=True), data=body, headers=headers
        ) as response:
            await response.read()
            return response.status

    def post(self, path: str, body: bytes, headers: dict[str, str], what: str) -> int:
        status = self.runner.run(self._post(path, body, headers))
        self.statuses[status] += 1
        if status >= 500 and status != 503:  # 503: the backend said "try again" (a notice)
            self.failures.append(f"{status} {path} {what[:300]}")
            raise AssertionError(f"{status} from {path} for {what[:300]}")
        return status

    def form(self, path: str, params: dict[str, str], *, signed: bool) -> int:
        body = str(URL.build(query=params).raw_query_string).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
                PUBLIC + path, params
            )
        return self.post(path, body, headers, ascii(params))


@pytest.fixture
def gateway(sqlite_template: Path, tmp_path: Path) -> Iterator[FuzzGateway]:
    with asyncio.Runner() as runner:
        fuzz = FuzzGateway(runner)
        builder = WorldBuilder("sqlite", "", sqlite_template, tmp_path)

        async def start() -> None:
            world = await builder("eg")
            billing = TestServer(create_billing_app(world.ledger), host="127.0.0.1")
            await billing.start_server()
            rasa = TestServer(_fake_rasa(), host="127.0.0.1")
            await rasa.start_server()
            settings_ = Settings(
                tasdeed_profile="eg",
                billing_url=str(billing.make_url("")).rstrip("/"),
                billing_retries=0,
                redis_url="",
                public_base_url=PUBLIC,
                twilio_auth_token=TOKEN,
                rasa_url=str(rasa.make_url("")).rstrip("/"),
            )
            gateway = TestServer(create_app(settings_), host="127.0.0.1")
            await gateway.start_server()
            fuzz.servers += [gateway, rasa, billing]
            fuzz.url = str(gateway.make_url("")).rstrip("/")
            fuzz.http = aiohttp.ClientSession()

        async def stop() -> None:
            if fuzz.http is not None:
                await fuzz.http.close()
            for server in fuzz.servers:
                await server.close()
            await builder.close()

        runner.run(start())
        try:
            yield fuzz
        finally:
            runner.run(stop())
        print(f"\n{sum(fuzz.statuses.values())} requests: {dict(sorted(fuzz.statuses.items()))}")
        assert not fuzz.failures, fuzz.failures[:5]


def _fake_rasa() -> web.Application:
    """Rasa's REST channel: echoes the text, sometimes with a receipt to draw."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("message", ""))
        answer: list[dict[str, Any]] = [{"text": text[:200] or "?"}]
        if "1" in text:
            receipt = {"amount_minor": 15075, "currency": "EGP", "number": "R-1",
                       "payee": "نورة", "paid_at": "2026-11-24T09:00"}  # fmt: skip
            answer.append({"custom": {"receipt": receipt}})
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    return app


# ---- the aggregators ------------------------------------------------------------------------

at_params = st.fixed_dictionaries(
    {},
    optional={
        "sessionId": st.one_of(st.sampled_from(["ATUid_a", "ATUid_b"]), form_text),
        "phoneNumber": st.one_of(st.just("+201001234567"), form_text),
        "serviceCode": st.one_of(st.just("*121#"), form_text),
        "networkCode": st.one_of(st.just("60201"), form_text),
        "text": st.lists(form_text, max_size=8).map("*".join),
    },
)


def test_africastalking_callbacks_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(at_params, st.sampled_from(["/ussd/at", "/ussd/at/events"]))
    def send(params: dict[str, str], path: str) -> None:
        assert gateway.form(path, params, signed=False) != 500

    send()


HUBTEL = {"SessionId": "hub-a", "Mobile": "233246912184", "Type": "Response", "Message": "1",
          "Sequence": 2, "ServiceCode": "*121#", "Operator": "vodafone"}  # fmt: skip
hubtel_bodies = st.one_of(
    json_value,
    # A real callback with one field replaced: the rest gets it past the first checks.
    st.tuples(
        st.sampled_from(sorted(HUBTEL)),
        st.one_of(form_text, json_value, st.integers(min_value=-2, max_value=1002)),
        st.sampled_from(["hub-a", "hub-b"]),
        st.sampled_from(["Initiation", "Response", "Release"]),
    ).map(lambda f: {**HUBTEL, "SessionId": f[2], "Type": f[3], f[0]: f[1]}),
)


def test_hubtel_callbacks_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(hubtel_bodies, st.sampled_from(["application/json", "text/plain"]))
    def send(body: Any, content_type: str) -> None:
        raw = json.dumps(body, allow_nan=True).encode()
        gateway.post("/ussd/hubtel", raw, {"Content-Type": content_type}, ascii(body))

    send()


# ---- Twilio ---------------------------------------------------------------------------------

voice_params = st.fixed_dictionaries(
    {"CallSid": st.one_of(st.sampled_from(["CA" + "1" * 32, "CA" + "2" * 32]), form_text)},
    optional={
        "From": st.one_of(st.just("+201001234567"), form_text),
        "To": form_text,
        "Digits": form_text,
        "SpeechResult": form_text,
        "Confidence": st.one_of(st.sampled_from(["0.9", "nan", "inf", "-1", "1e400"]), form_text),
        "CallStatus": st.one_of(
            st.sampled_from(["ringing", "in-progress", "completed"]), form_text
        ),
        "AccountSid": form_text,
    },
)
steps = st.one_of(
    st.integers(min_value=-3, max_value=40).map(str),
    st.sampled_from(["", "x", "99999999999999999999999", "1.5", "١", "-0", " 2"]),
)


def test_voice_webhooks_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(voice_params, st.sampled_from(SIGNED_PATHS[:4]), steps, st.booleans())
    def send(params: dict[str, str], path: str, step: str, signed: bool) -> None:
        if path in ("/ivr/gather", "/ivr/silence"):
            path = str(URL.build(path=path, query={"step": step}))
        gateway.form(path, params, signed=signed)

    send()


message_params = st.fixed_dictionaries(
    {"MessageSid": st.one_of(st.just("SM" + "9" * 32), form_text)},
    optional={
        "From": st.one_of(
            st.sampled_from(["whatsapp:+201001234567", "+201001234567", "whatsapp:"]), form_text
        ),
        "To": form_text,
        "Body": form_text,
        "NumMedia": form_text,
        "SmsMessageSid": form_text,
        "MessageStatus": st.one_of(
            st.sampled_from(["sent", "delivered", "read", "failed", "undelivered"]), form_text
        ),
        "ErrorCode": form_text,
    },
)


def test_messaging_webhooks_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(message_params, st.sampled_from(["/chat/twilio", "/notices/status"]), st.booleans())
    def send(params: dict[str, str], path: str, signed: bool) -> None:
        gateway.form(path, params, signed=signed)

    send()


# ---- the web chat, and raw bytes everywhere ----------------------------------------------------

WEB = {"sender": "a", "message": "hi", "message_id": "m1"}
web_bodies = st.one_of(
    json_value,
    st.tuples(
        st.sampled_from(sorted(WEB)),
        st.one_of(form_text, json_value),
        st.sampled_from(["a", "b"]),
        st.one_of(st.sampled_from(["1", "ايوه", "SM" + "9" * 32]), form_text),
    ).map(lambda f: {**WEB, "sender": f[2], "message_id": f[3], f[0]: f[1]}),
)


def test_web_chat_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(web_bodies)
    def send(body: Any) -> None:
        raw = json.dumps(body, allow_nan=True).encode()
        gateway.post("/chat/web", raw, {"Content-Type": "application/json"}, ascii(body))

    send()


def test_raw_bytes_never_500(gateway: FuzzGateway) -> None:
    @FUZZ
    @given(raw_bodies, st.sampled_from(ALL_PATHS), content_types, st.booleans())
    def send(body: bytes, path: str, content_type: str | None, signature: bool) -> None:
        headers = {"Content-Type": content_type} if content_type else {}
        if signature:
            headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
        if path in ("/ivr/gather", "/ivr/silence"):
            path += "?step=1"
        status = gateway.post(path, body, headers, ascii(body))
        # Not UTF-8 under a form or JSON type is always refused, whatever else is wrong.
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            if content_type in (None, "application/x-www-form-urlencoded", "application/json"):
                assert status == 400, (status, path, body[:100])

    send()
