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

from billing import service_auth
from billing.exam_periods import ExamPeriods, parse_exam_periods
from billing.ledger import Ledger, Refusal
from billing.notices import DEFAULT_STALE_AFTER_S, NoticeOutbox
from tasdeed.contract import RefusalReason
from tasdeed.logs import get_logger

log = get_logger("billing.http")
LEDGER = web.AppKey("ledger", Ledger)
NOTICES = web.AppKey("notices", NoticeOutbox)
EXAM_PERIODS = web.AppKey("exam_periods", ExamPeriods)
MAX_BODY_BYTES = 16 * 1024
# The relay marks thousands of messages per call (about 50 bytes each).
BULK_BODY_BYTES = 2 * 1024 * 1024
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


async def _body(request: web.Request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    if max_bytes != MAX_BODY_BYTES:
        request = request.clone(client_max_size=max_bytes)
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
    from_quote = _str(data, "from_quote")
    result = await request.app[LEDGER].quote(
        None if from_quote else _str(data, "code", required=True),
        amount_minor=_int(data, "amount_minor"),
        override=bool(data.get("override", False)),
        channel=_str(data, "channel") or "api",
        from_quote=from_quote,
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


async def set_complaint_status(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[LEDGER].set_complaint_status(
        request.match_info["ticket"], _str(data, "status", required=True) or ""
    )
    return _json(result)


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
    account_number = _str(data, "account_number")
    result = await request.app[LEDGER].submit_reading(
        code=None if account_number else _str(data, "code", required=True),
        account_number=account_number,
        kind=_str(data, "kind", required=True) or "",
        value=_int(data, "value") or 0,
        channel=_str(data, "channel") or "api",
    )
    return _json(result, status=201)


# ---- outbound notices (billing/notices.py): campaigns, the relay and the workers ---------


def _bool(data: dict[str, Any], key: str, *, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key})
    return value


def _query_int(request: web.Request, key: str, default: int) -> int:
    text = request.query.get(key)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key})
    return int(text)


def _objects(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key})
    return value


def _outbox_id(request: web.Request) -> int:
    return int(request.match_info["id"])  # the route only matches digits


async def issue_bill_cycle(request: web.Request) -> web.Response:
    data = await _body(request)
    cycle = _str(data, "cycle")
    if cycle is None:
        raise Refusal(RefusalReason.INVALID_REQUEST, 400, {"field": "cycle"})
    return _json(await request.app[NOTICES].issue_bill_cycle(cycle))


async def sweep_notices(request: web.Request) -> web.Response:
    data = await _body(request)
    return _json(await request.app[NOTICES].sweep(_moment(data, "now", required=False)))


async def pending_notices(request: web.Request) -> web.Response:
    result = await request.app[NOTICES].pending(
        _query_int(request, "after", 0),
        _query_int(request, "limit", 1000),
        request.query.get("campaign") or None,
    )
    return _json(result)


async def mark_queued(request: web.Request) -> web.Response:
    data = await _body(request, BULK_BODY_BYTES)
    queued = []
    for item in _objects(data, "items"):
        outbox_id, segments = _int(item, "id"), _int(item, "segments")
        channel = _str(item, "channel", required=True) or ""
        if outbox_id is None:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"missing": "id"})
        queued.append((outbox_id, channel, segments))
    suppressed = []
    for item in _objects(data, "suppressed"):
        outbox_id = _int(item, "id")
        if outbox_id is None:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"missing": "id"})
        suppressed.append((outbox_id, _str(item, "reason", required=True) or ""))
    return _json(await request.app[NOTICES].mark_queued(queued, suppressed))


async def claim_notice(request: web.Request) -> web.Response:
    data = await _body(request)
    stale_after = _int(data, "stale_after_s")
    result = await request.app[NOTICES].claim(
        _outbox_id(request),
        worker=_str(data, "worker", required=True) or "",
        stale_after_s=DEFAULT_STALE_AFTER_S if stale_after is None else stale_after,
        claim_token=_str(data, "claim_token"),
    )
    return _json(result)


def _id_list(data: dict[str, Any], key: str) -> list[int]:
    raw = data.get(key)
    if not isinstance(raw, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in raw
    ):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": key})
    return raw


async def claim_notices(request: web.Request) -> web.Response:
    data = await _body(request, BULK_BODY_BYTES)
    stale_after = _int(data, "stale_after_s")
    answers = await request.app[NOTICES].claim_many(
        _id_list(data, "ids"),
        worker=_str(data, "worker", required=True) or "",
        stale_after_s=DEFAULT_STALE_AFTER_S if stale_after is None else stale_after,
        claim_token=_str(data, "claim_token"),
    )
    return _json({"claims": {str(i): answer for i, answer in answers.items()}})


async def notices_sent(request: web.Request) -> web.Response:
    data = await _body(request, BULK_BODY_BYTES)
    raw = data.get("items")
    if not isinstance(raw, list):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "items"})
    items: list[tuple[int, str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "items"})
        outbox_id = _int(item, "id")
        sid = _str(item, "provider_sid", required=True) or ""
        if outbox_id is None or outbox_id <= 0:
            raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "id"})
        items.append((outbox_id, sid, _str(item, "status") or "queued"))
    answers = await request.app[NOTICES].sent_many(items)
    return _json({"results": {str(i): answer for i, answer in answers.items()}})


async def notice_sent(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[NOTICES].sent(
        _outbox_id(request),
        _str(data, "provider_sid", required=True) or "",
        _str(data, "status") or "queued",
    )
    return _json(result)


async def notice_failed(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[NOTICES].failed(
        _outbox_id(request),
        _str(data, "error_code", required=True) or "",
        release=_bool(data, "release", default=False),
        attempt=_int(data, "attempt"),
    )
    return _json(result)


async def notice_status(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[NOTICES].provider_status(
        _str(data, "provider_sid", required=True) or "",
        _str(data, "status", required=True) or "",
        _str(data, "error_code") or None,
    )
    return _json(result)


async def notice_counts(request: web.Request) -> web.Response:
    return _json(await request.app[NOTICES].counts(request.query.get("campaign") or None))


async def requeue_stale_notices(request: web.Request) -> web.Response:
    older_than = _int(await _body(request), "older_than_s")
    if older_than is None or older_than < 0:
        return _json({"error": "invalid_request", "field": "older_than_s"}, 422)
    return _json(await request.app[NOTICES].requeue_stale(older_than))


async def notice_counts_by_campaign(request: web.Request) -> web.Response:
    return _json({"campaigns": await request.app[NOTICES].counts_by_campaign()})


async def set_contact_preference(request: web.Request) -> web.Response:
    data = await _body(request)
    result = await request.app[NOTICES].set_contact_preference(
        _str(data, "phone", required=True) or "",
        _str(data, "channel", required=True) or "",
        opted_in=_bool(data, "opted_in"),
        source=_str(data, "source") or "api",
    )
    return _json(result)


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


async def operator_complaint_history(request: web.Request) -> web.Response:
    """One complaint with every status it reached, for an operator following it."""
    return _json(await request.app[LEDGER].complaint_history(request.match_info["ticket"]))


# ---- operator actions: exam periods and the disconnection check (the service token, like
# every call but /health; billing/exam_periods.py) -----------------------------------------


async def operator_exam_periods(request: web.Request) -> web.Response:
    return _json({"exam_periods": await request.app[EXAM_PERIODS].listed()})


async def load_exam_periods(request: web.Request) -> web.Response:
    """An operator loads public-school exam periods (billing/exam_periods.py)."""
    data = await _body(request, BULK_BODY_BYTES)
    raw = data.get("periods")
    if not isinstance(raw, list):
        raise Refusal(RefusalReason.INVALID_REQUEST, 422, {"field": "periods"})
    result = await request.app[EXAM_PERIODS].load(
        parse_exam_periods(raw), replace=_bool(data, "replace", default=False)
    )
    return _json(result)


async def check_disconnection(request: web.Request) -> web.Response:
    """Before cutting an account's power for non-payment: 200 when allowed, 409
    `disconnection_prohibited` with the reasons when a protected time or case forbids it."""
    data = await _body(request)
    result = await request.app[LEDGER].check_disconnection(
        account_number=_str(data, "account_number", required=True) or "",
        at=_moment(data, "at", required=False),
    )
    return _json(result)


async def operator_demo_codes(request: web.Request) -> web.Response:
    demos = await request.app[LEDGER].demo_codes()
    if demos is None:
        raise Refusal(RefusalReason.INVALID_REQUEST, 404, {"detail": "not a demo ledger"})
    return _json({"demo_codes": demos})


def create_app(ledger: Ledger, notices: NoticeOutbox | None = None) -> web.Application:
    app = web.Application(middlewares=[refusals], client_max_size=MAX_BODY_BYTES)
    app.middlewares.insert(0, service_auth.from_settings())  # SERVICE_TOKEN, when set
    app[LEDGER] = ledger
    app[NOTICES] = notices or NoticeOutbox(ledger.sessions, ledger.profile, ledger.clock)
    app[EXAM_PERIODS] = ExamPeriods(ledger.sessions, ledger.profile, ledger.clock)
    app.router.add_get("/health", health)
    app.router.add_post("/v1/balance", balance)
    app.router.add_post("/v1/quotes", create_quote)
    app.router.add_post("/v1/payments", confirm_payment)
    app.router.add_get("/v1/payments/{key}", payment_status)
    app.router.add_post("/v1/complaints", file_complaint)
    app.router.add_get("/v1/complaints/{ticket}", complaint_status)
    app.router.add_post("/v1/complaints/{ticket}/status", set_complaint_status)
    app.router.add_post("/v1/installment-plans", request_installments)
    app.router.add_post("/v1/readings", submit_reading)
    app.router.add_post("/v1/rules/{topic}", rule_answer)
    app.router.add_post("/v1/events", record_event)
    app.router.add_post("/v1/notices/bill-cycle", issue_bill_cycle)
    app.router.add_post("/v1/notices/sweep", sweep_notices)
    app.router.add_get("/v1/outbox/pending", pending_notices)
    app.router.add_post("/v1/outbox/queued", mark_queued)
    app.router.add_post("/v1/outbox/status", notice_status)
    app.router.add_get("/v1/outbox/counts", notice_counts)
    app.router.add_get("/v1/outbox/campaigns", notice_counts_by_campaign)
    app.router.add_post("/v1/outbox/requeue", requeue_stale_notices)
    app.router.add_post("/v1/outbox/claims", claim_notices)
    app.router.add_post("/v1/outbox/sent", notices_sent)
    app.router.add_post(r"/v1/outbox/{id:[0-9]{1,12}}/claim", claim_notice)
    app.router.add_post(r"/v1/outbox/{id:[0-9]{1,12}}/sent", notice_sent)
    app.router.add_post(r"/v1/outbox/{id:[0-9]{1,12}}/failed", notice_failed)
    app.router.add_post("/v1/contact-preferences", set_contact_preference)
    app.router.add_get("/v1/operator/payments", operator_payments)
    app.router.add_get("/v1/operator/complaints", operator_complaints)
    app.router.add_get(r"/v1/operator/complaints/{ticket:[0-9]{1,20}}", operator_complaint_history)
    app.router.add_get("/v1/operator/demo-codes", operator_demo_codes)
    app.router.add_get("/v1/operator/exam-periods", operator_exam_periods)
    app.router.add_post("/v1/operator/exam-periods", load_exam_periods)
    app.router.add_post("/v1/operator/disconnections", check_disconnection)
    return app
