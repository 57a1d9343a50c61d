"""The stand-in's own control API under /_standin/ (not part of Twilio; no auth, local only).

- POST /_standin/outcomes        {"<address>": {outcome} | null, ...}  merge per-recipient fates
- GET  /_standin/outcomes        the outcomes in force, with transient errors left
- POST /_standin/whatsapp_sessions {"open": [...], "close": [...], "enforce": bool}
- GET  /_standin/messages        every stored message (?to=, ?status=, ?limit=)
- GET  /_standin/stats           counters
- POST /_standin/reset           forget messages, outcomes, sessions and counters
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from twilio_standin.api import STANDIN
from twilio_standin.outcomes import OutcomeError
from twilio_standin.resource import StoredMessage

PREFIX = "/_standin"


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
    )


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"invalid JSON: {exc}") from exc


def message_record(message: StoredMessage) -> dict[str, object]:
    return {
        "sid": message.sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "channel": str(message.channel),
        "status": message.status,
        "num_segments": message.segments,
        "messaging_service_sid": message.messaging_service_sid,
        "status_callback": message.status_callback,
        "error_code": message.error_code,
        "date_created": message.date_created.isoformat(),
        "date_sent": message.date_sent.isoformat() if message.date_sent else None,
        "callbacks": [
            {
                "status": record.status,
                "at": record.at.isoformat(),
                "http_status": record.http_status,
                "error": record.error,
            }
            for record in message.callbacks
        ],
    }


async def set_outcomes(request: web.Request) -> web.Response:
    book = request.app[STANDIN].outcomes
    try:
        book.update(await _body(request))
    except OutcomeError as exc:
        return _json({"error": str(exc)}, status=400)
    return _json(book.as_json())


async def get_outcomes(request: web.Request) -> web.Response:
    return _json(request.app[STANDIN].outcomes.as_json())


async def whatsapp_sessions(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    spec = await _body(request)
    if not isinstance(spec, dict):
        return _json({"error": 'expected {"open": [...], "close": [...]}'}, status=400)
    opened, closed = spec.get("open", []), spec.get("close", [])
    lists = (opened, closed)
    if not all(isinstance(v, list) and all(isinstance(a, str) for a in v) for v in lists):
        return _json({"error": "open and close are lists of addresses"}, status=400)
    standin.open_whatsapp_sessions(opened)
    standin.close_whatsapp_sessions(closed)
    if isinstance(spec.get("enforce"), bool):
        standin.enforce_whatsapp_window = spec["enforce"]
    return _json({"enforce": standin.enforce_whatsapp_window})


async def list_messages(request: web.Request) -> web.Response:
    store = request.app[STANDIN].store
    to = request.query.get("to") or None
    status = request.query.get("status") or None
    try:
        limit = int(request.query.get("limit", "0"))
    except ValueError:
        return _json({"error": "limit must be an integer"}, status=400)
    records: list[dict[str, object]] = []
    for message in store.select(to, None if status is None else lambda m: m.status == status):
        records.append(message_record(message))
        if limit and len(records) >= limit:
            break
    return _json({"messages": records})


async def stats(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    payload = standin.stats.as_json(pending_callbacks=standin.callbacks.pending())
    payload["stored"] = len(standin.store)
    payload["statuses"] = {k: v for k, v in sorted(standin.store.status_counts.items()) if v}
    payload["changes_scheduled"] = len(standin.scheduler)
    return _json(payload)


async def reset(request: web.Request) -> web.Response:
    request.app[STANDIN].reset()
    return _json({"reset": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX + "/outcomes", set_outcomes)
    app.router.add_get(PREFIX + "/outcomes", get_outcomes)
    app.router.add_post(PREFIX + "/whatsapp_sessions", whatsapp_sessions)
    app.router.add_get(PREFIX + "/messages", list_messages)
    app.router.add_get(PREFIX + "/stats", stats)
    app.router.add_post(PREFIX + "/reset", reset)
