"""The operator view on the production parts: live sessions from real Redis (a USSD session
and a call, each on its own step, codes masked) and a complaint filed on USSD followed
through its history from the PostgreSQL ledger, over the gateway's HTTP endpoints in the
aggregator's and Twilio's formats."""

from __future__ import annotations

import json
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import redis.asyncio as aioredis
from twilio.request_validator import RequestValidator

from tasdeed.billing_client import BillingClient
from tasdeed.codes import mask_code
from tasdeed.state_store import LIVE_GRACE_S, LIVE_HORIZON_S, RedisStore
from tests.e2e.conftest import REDIS_URL, Stack, StackFactory

TOKEN = "o" * 40
PUBLIC = "https://ops.tasdeed.example"
TWILIO_TOKEN = "operator-view-twilio-token"
PHONE = "+201001234567"


async def sessions(stack: Stack) -> tuple[list[dict[str, Any]], str]:
    """The live sessions the operator view lists, and the JSON as it was sent."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = stack.gateway_url + "/operator/sessions.json?lang=en"
    async with stack.http.get(url, headers=headers) as response:
        assert response.status == 200
        text = await response.text()
    rows: list[dict[str, Any]] = json.loads(text)["sessions"]
    return rows, text


async def ussd(stack: Stack, session_id: str, *inputs: str) -> str:
    form = {"sessionId": session_id, "serviceCode": "*121#", "phoneNumber": PHONE,
            "networkCode": "60201", "text": "*".join(inputs)}  # fmt: skip
    async with stack.http.post(stack.gateway_url + "/ussd/at", data=form) as response:
        assert response.status == 200
        return await response.text()


async def call(stack: Stack, call_sid: str, path: str, **extra: str) -> ET.Element | None:
    """A Twilio Voice webhook, signed as Twilio signs it; its TwiML (None: no content)."""
    params = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": PHONE,
              "To": "+20121", "CallStatus": "in-progress", **extra}  # fmt: skip
    url = PUBLIC + path
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    async with stack.http.post(
        stack.gateway_url + path, data=params, headers={"X-Twilio-Signature": signature}
    ) as response:
        assert response.status in (200, 204), await response.text()
        return ET.fromstring(await response.text()) if response.status == 200 else None


async def test_live_sessions_from_redis_show_step_and_masked_code(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        "eg", operator_token=TOKEN, public_base_url=PUBLIC, twilio_auth_token=TWILIO_TOKEN
    )
    code = stack.world.account(1).code
    session_id = f"ATUid_{uuid.uuid4().hex}"
    await ussd(stack, session_id)
    await ussd(stack, session_id, "1")
    await ussd(stack, session_id, "1", "1")  # balance
    await ussd(stack, session_id, "1", "1", code)
    call_sid = "CA" + uuid.uuid4().hex
    twiml = await call(stack, call_sid, "/ivr/voice")
    gather = None if twiml is None else twiml.find("Gather")
    assert gather is not None
    await call(stack, call_sid, gather.attrib["action"][len(PUBLIC) :], Digits="1")  # Arabic

    rows, raw = await sessions(stack)
    assert [(r["channel"], r["step"]) for r in rows] == [
        ("ivr", "main"),
        ("ussd", "balance.result"),
    ]
    assert rows[1]["code"] == mask_code(code) and rows[1]["inputs"] == 3
    assert rows[0]["code"] is None and rows[0]["inputs"] == 2
    for secret in (code, PHONE.lstrip("+"), session_id, call_sid):
        assert secret not in raw, secret

    # The call ends (Twilio's status callback): it leaves the list.
    await call(stack, call_sid, "/ivr/status", CallStatus="completed")
    rows, _ = await sessions(stack)
    assert [r["channel"] for r in rows] == ["ussd"]


async def test_the_redis_index_forgets_ended_and_old_sessions(make_stack: StackFactory) -> None:
    """Entries whose record is gone leave the index once past the grace period (a younger one
    may belong to a hop whose writes have not landed yet); entries past the horizon go too."""
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    store = RedisStore(REDIS_URL, prefix)
    raw = aioredis.from_url(REDIS_URL, decode_responses=True)
    index = prefix + "live:ussd"
    try:
        now = time.time()
        await store.set("ussd:s:live", {"state": {"screen": "main", "data": {}}}, 60)
        await store.mark_live("ussd", "ussd:s:live")
        await store.mark_live("ussd", "ussd:s:young")  # no record yet
        await raw.zadd(index, {"ussd:s:ended": now - LIVE_GRACE_S - 1})
        await raw.zadd(index, {"ussd:s:ancient": now - LIVE_HORIZON_S - 1})
        await store.set("ussd:s:ancient", {"state": {"screen": "main", "data": {}}}, 60)
        records = await store.live_records("ussd", 10)
        assert [r.key for r in records] == ["ussd:s:live", "ussd:s:ancient"]
        left = set(await raw.zrange(index, 0, -1))
        assert left == {"ussd:s:live", "ussd:s:young"}
    finally:
        keys = [k async for k in raw.scan_iter(match=prefix + "*")]
        if keys:
            await raw.delete(*keys)
        await raw.aclose()
        await store.close()


async def test_a_complaint_filed_on_ussd_is_followed_in_order(make_stack: StackFactory) -> None:
    stack = await make_stack("eg", operator_token=TOKEN)
    world = stack.world
    session_id = f"ATUid_{uuid.uuid4().hex}"
    steps = ["1", "3", "1", world.account(2).code, "1"]  # Arabic, complaint, a category, …
    screen = await ussd(stack, session_id)
    for count in range(1, len(steps) + 1):
        screen = await ussd(stack, session_id, *steps[:count])
    assert screen.startswith("END "), screen
    [filed] = await world.ledger.recent_complaints(5)
    ticket = filed["ticket_number"]
    async with BillingClient(stack.settings.billing_url) as billing:
        world.clock.advance(minutes=20)
        await billing.set_complaint_status(ticket, "in_progress")
        world.clock.advance(hours=3)
        await billing.set_complaint_status(ticket, "resolved")

    url = f"{stack.gateway_url}/operator/complaints/{ticket}.json?lang=en"
    async with stack.http.get(url) as response:
        assert response.status == 401
    async with stack.http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        assert response.status == 200
        history = await response.json()
    assert history["ticket_number"] == ticket and history["status"] == "resolved"
    events = history["events"]
    assert [(e["status"], e["source"]) for e in events] == [
        ("open", "ussd"),
        ("in_progress", "operator"),
        ("resolved", "operator"),
    ]
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    assert events[0]["time"] < events[1]["time"] < events[2]["time"]
    assert all(e["notice"] is not None for e in events)
    assert world.account(2).code not in json.dumps(history)
