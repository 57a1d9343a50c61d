"""A person on each channel, as the outside service delivers them to the gateway: a feature
phone through Africa's Talking (USSD), a caller through Twilio Voice (signed webhooks, keys or
speech), a WhatsApp user through Twilio Messaging (signed). Each keeps the value of
`replica_header` from every answer in `served`, when a load balancer adds one."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import aiohttp
from twilio.request_validator import RequestValidator

# What the gateways in these tests are told their public address and Twilio token are.
PUBLIC = "https://chat.tasdeed.example"
TOKEN = "chat-test-token"
MENU_KEY = {"balance": "1", "pay": "2", "complaint": "3", "installments": "5"}


@dataclass
class UssdDriver:
    http: aiohttp.ClientSession
    gateway: str
    phone: str
    session: str = field(default_factory=lambda: f"ATUid_{uuid.uuid4().hex}")
    inputs: list[str] = field(default_factory=list)
    query: str = ""  # "?key=<USSD_CALLBACK_SECRET>" where the gateway asks for one
    replica_header: str = ""
    served: list[str] = field(default_factory=list)

    async def _post(self) -> str:
        form = {"sessionId": self.session, "serviceCode": "*121#", "phoneNumber": self.phone,
                "networkCode": "60201", "text": "*".join(self.inputs)}  # fmt: skip
        url = self.gateway + "/ussd/at" + self.query
        async with self.http.post(url, data=form) as response:
            assert response.status == 200, await response.text()
            if self.replica_header:
                self.served.append(response.headers[self.replica_header])
            return await response.text()

    async def _press(self, value: str) -> str:
        self.inputs.append(value)
        page = await self._post()
        shown = page
        # A long screen comes in pages: read them all, as a person pressing 99 would.
        while page.startswith("CON") and "\n99 " in page:
            self.inputs.append("99")
            page = await self._post()
            shown += "\n" + page
        return shown

    async def start(self, walk: str) -> str:
        await self._post()
        await self._press("1")  # Arabic
        return await self._press(MENU_KEY[walk])

    async def send(self, answer: str) -> str:
        return await self._press(answer)


@dataclass
class CallDriver:
    http: aiohttp.ClientSession
    gateway: str
    phone: str
    call_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    action: str = ""
    token: str = TOKEN
    public: str = PUBLIC
    replica_header: str = ""
    served: list[str] = field(default_factory=list)

    async def _post(self, url: str, **extra: str) -> str:
        params = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": self.phone,
                  "To": "+20121", "CallStatus": "in-progress", **extra}  # fmt: skip
        signature = RequestValidator(self.token).compute_signature(url, params)
        local = self.gateway + url[len(self.public) :]
        headers = {"X-Twilio-Signature": signature}
        async with self.http.post(local, data=params, headers=headers) as response:
            assert response.status == 200, await response.text()
            if self.replica_header:
                self.served.append(response.headers[self.replica_header])
            twiml = ET.fromstring(await response.text())
        gather = twiml.find("Gather")
        self.action = gather.attrib["action"] if gather is not None else ""
        return " | ".join(say.text or "" for say in twiml.iter("Say"))

    async def start(self, walk: str) -> str:
        await self._post(self.public + "/ivr/voice")
        await self.send("1")
        return await self.send(MENU_KEY[walk])

    async def send(self, answer: str) -> str:
        assert self.action, "the call has ended"
        if answer.isascii() and answer.isdigit():
            return await self._post(self.action, Digits=answer)
        return await self._post(self.action, SpeechResult=answer, Confidence="0.9")


@dataclass
class Phone:
    """A WhatsApp user, as Twilio relays them: signed form posts to /chat/twilio."""

    http: aiohttp.ClientSession
    gateway: str
    number: str = "whatsapp:+201001234567"
    token: str = TOKEN
    public: str = PUBLIC
    replica_header: str = ""
    served: list[str] = field(default_factory=list)

    async def send(
        self, body: str, sid: str | None = None, signature: str | None = None
    ) -> tuple[int, str]:
        params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                  "From": self.number, "To": "whatsapp:+14155238886", "Body": body,
                  "NumMedia": "0"}  # fmt: skip
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(
                self.public + "/chat/twilio", params
            )
        headers = {"X-Twilio-Signature": signature} if signature else {}
        async with self.http.post(self.gateway + "/chat/twilio", data=params, headers=headers) as r:
            if self.replica_header and self.replica_header in r.headers:
                self.served.append(r.headers[self.replica_header])
            return r.status, await r.text()

    async def say(self, body: str, sid: str | None = None) -> list[ET.Element]:
        status, twiml = await self.send(body, sid)
        assert status == 200, twiml
        root = ET.fromstring(twiml)
        assert root.tag == "Response"
        return list(root.iter("Message"))


def texts(messages: list[ET.Element]) -> str:
    return "\n".join(m.findtext("Body") or (m.text or "") for m in messages)


@dataclass
class ChatDriver:
    phone: Phone
    starts: dict[str, str]  # what a person writes to start each walk

    async def start(self, walk: str) -> str:
        return texts(await self.phone.say(self.starts[walk]))

    async def send(self, answer: str) -> str:
        return texts(await self.phone.say(answer))
