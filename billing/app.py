"""The reference billing backend's HTTP API (aiohttp).

Codes travel in request bodies, never in URLs, so access logs cannot leak them. Every
refusal answers `{"error": <reason>, ...details}` with a 4xx status; channels turn the
reason into words from the catalogues.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from billing.ledger import Ledger, Refusal
from tasdeed.contract import RefusalReason
from tasdeed.logs import get_logger

log = get_logger("billing.http")
LEDGER = web.AppKey("ledger", Ledger)
MAX_BODY_BYTES = 16 * 1024
# Arabic stays readable in the JSON (names, areas), not \u escapes.
_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusal_response(refusal: Refusal) -> web.Response:
    return _json({"error": refusal.reason.value, **refusal.details}, status=refusal.status)


@web.middleware
async def refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as refusal:
        log.info("refused", path=request.path, reason=refusal.reason.value)
        return _refusal_response(refusal)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Refusal(RefusalReason.INVALID_REQUEST, 400, {"detail": "body is not JSON"}) from exc
    if not isinstance(data, dict):
        raise Refusal(RefusalReason.INVALID_REQUEST, 400, {"detail": "body is not an object"})
    return data


def _str(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"missing": key})
        return None
    if not isinstance(value, str):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key})
    return value


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refusal(
            RefusalReason.INVALID_AMOUNT if "amount" in key else RefusalReason.INVALID_REQUEST,
            422,
            {"field": key},
        )
    return value


async def health(_request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def balance(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[LEDGER].balance(
        code=_str(data, "code"), account_number=_str(data, "account_number")
    )
    return _json(result)


async def create_quote(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[LEDGER].quote(
        _str(data, "code", required=True) or "",
        amount_minor=_int(data, "amount_minor"),
        override=bool(data.get("override", False)),
        channel=_str(data, "channel") or "api",
    )
    return _json(result, status=201)


async def confirm_payment(request: web.Request) -> web.Response:
    data = await _body(request)
    receipt, replayed = await request.app[LEDGER].confirm(
        _str(data, "quote_id", required=True) or "",
        _str(data, "idempotency_key", required=True) or "",
    )
    return _json({**receipt, "replayed": replayed}, status=200 if replayed else 201)


async def payment_status(request: web.Request) -> web.Response:
    result = await request.app[LEDGER].payment_by_key(request.match_info["key"])
    return _json(result)


async def file_complaint(request: web.Request) -> web.Response:
    data = await _body(request)
    ticket, replayed = await request.app[LEDGER].file_complaint(
        category=_str(data, "category", required=True) or "",
        description=_str(data, "description") or "",
        channel=_str(data, "channel") or "api",
        idempotency_key=_str(data, "idempotency_key"),
        code=_str(data, "code"),
        account_number=_str(data, "account_number"),
    )
    return _json({**ticket, "replayed": replayed}, status=200 if replayed else 201)


async def complaint_status(request: web.Request) -> web.Response:
    return _json(await request.app[LEDGER].complaint(request.match_info["ticket"]))


async def request_installments(request: web.Request) -> web.Response:
    data = await _body(request)
    plan, replayed = await request.app[LEDGER].request_installments(
        months=_int(data, "months") or 0,
        acknowledge_debt=bool(data.get("acknowledge_debt", False)),
        idempotency_key=_str(data, "idempotency_key"),
        code=_str(data, "code"),
        account_number=_str(data, "account_number"),
    )
    return _json({**plan, "replayed": replayed}, status=200 if replayed else 201)


async def rule_answer(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[LEDGER].rule_answer(
        request.match_info["topic"], _str(data, "code", required=True) or ""
    )
    return _json(result)


def _moment(data: dict[str, Any], key: str, *, required: bool) -> datetime | None:
    text = _str(data, key, required=required)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError as exc:
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key}) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


async def record_event(request: web.Request) -> web.Response:
    data = await _body(request)
    details = data.get("details") or {}
    if not isinstance(details, dict):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "details"})
    result = await request.app[LEDGER].record_event(
        account_number=_str(data, "account_number", required=True) or "",
        event_id=_str(data, "event_id", required=True) or "",
        kind=_str(data, "kind", required=True) or "",
        started_at=_moment(data, "started_at", required=True) or datetime.min,
        ended_at=_moment(data, "ended_at", required=False),
        details=details,
    )
    return _json(result, status=201)


async def submit_reading(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[LEDGER].submit_reading(
        code=_str(data, "code", required=True) or "",
        kind=_str(data, "kind", required=True) or "",
        value=_int(data, "value") or 0,
        channel=_str(data, "channel") or "api",
    )
    return _json(result, status=201)


# ---- operator views (read-only; used by the gateway's simulator operator page) ----------

OPERATOR_MAX_ROWS = 100


def _limit(request: web.Request) -> int:
    text = request.query.get("limit", "20")
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= OPERATOR_MAX_ROWS:
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "limit"})
    return int(text)


async def operator_payments(request: web.Request) -> web.Response:
    return _json({"payments": await request.app[LEDGER].recent_payments(_limit(request))})


async def operator_complaints(request: web.Request) -> web.Response:
    return _json({"complaints": await request.app[LEDGER].recent_complaints(_limit(request))})


async def operator_demo_codes(request: web.Request) -> web.Response:
    demos = await request.app[LEDGER].demo_codes()
    if demos is None:
        raise Refusal(RefusalReason.INVALID_REQUEST, 404, {"detail": "not a demo ledger"})
    return _json({"demo_codes": demos})


def create_app(ledger: Ledger) -> web.Application:
    app = web.Application(middlewares=[refusals], client_max_size=MAX_BODY_BYTES)
    app[LEDGER] = ledger
    app.router.add_get("/health", health)
    app.router.add_post("/v1/balance", balance)
    app.router.add_post("/v1/quotes", create_quote)
    app.router.add_post("/v1/payments", confirm_payment)
    app.router.add_get("/v1/payments/{key}", payment_status)
    app.router.add_post("/v1/complaints", file_complaint)
    app.router.add_get("/v1/complaints/{ticket}", complaint_status)
    app.router.add_post("/v1/installment-plans", request_installments)
    app.router.add_post("/v1/readings", submit_reading)
    app.router.add_post("/v1/rules/{topic}", rule_answer)
    app.router.add_post("/v1/events", record_event)
    app.router.add_get("/v1/operator/payments", operator_payments)
    app.router.add_get("/v1/operator/complaints", operator_complaints)
    app.router.add_get("/v1/operator/demo-codes", operator_demo_codes)
    return app
