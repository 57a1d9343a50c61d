"""The core's billing client against the real backend over HTTP: typed answers, typed
refusals, timeouts, and a lost answer to a confirm retried under the same key."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from billing.app import create_app
from tasdeed.billing_client import (
    BillingClient,
    BillingRefused,
    BillingUnavailable,
    PaymentOutcomeUnknown,
    Timeouts,
)
from tasdeed.contract import RefusalReason
from tasdeed.money import Money
from tests.conftest import LedgerWorld, WorldFactory
from tests.faults import lose_payment_answers

FAST = Timeouts(connect_s=0.5, total_s=1.0)


async def serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def backend(make_world: WorldFactory) -> AsyncIterator[tuple[LedgerWorld, str]]:
    world = await make_world("eg")
    server = await serve(create_app(world.ledger))
    yield world, str(server.make_url(""))
    await server.close()


async def test_balance_quote_confirm_over_http(backend: tuple[LedgerWorld, str]) -> None:
    world, url = backend
    demo = world.account(1)
    async with BillingClient(url, timeouts=FAST) as client:
        balance = await client.balance(code=demo.code)
        assert balance.amount_due == Money(demo.amount_due_minor, "EGP")
        assert len(balance.unpaid_months) == 3
        quote = await client.quote(demo.code, channel="ussd")
        assert quote.amount == balance.amount_due
        receipt = await client.confirm(quote.quote_id, "sess-1:pay")
        assert receipt.amount == quote.amount
        assert (await client.confirm(quote.quote_id, "sess-1:pay")) == receipt
        assert (await client.payment_status("sess-1:pay")) == receipt
        assert (await client.balance(code=demo.code)).amount_due == Money(0, "EGP")


async def test_refusals_arrive_typed(backend: tuple[LedgerWorld, str]) -> None:
    world, url = backend
    async with BillingClient(url, timeouts=FAST) as client:
        with pytest.raises(BillingRefused) as bad:
            await client.quote("123", channel="ussd")
        assert bad.value.reason is RefusalReason.INVALID_CODE
        with pytest.raises(BillingRefused) as nothing:
            await client.quote(world.account(2).code, channel="ussd")
        assert nothing.value.reason is RefusalReason.NOTHING_DUE
        with pytest.raises(BillingRefused) as missing:
            await client.payment_status("never-used")
        assert missing.value.reason is RefusalReason.PAYMENT_UNKNOWN
        ticket = await client.file_complaint(
            category="outage",
            description="الكهرباء مقطوعة من الصبح",
            channel="ussd",
            idempotency_key="c1",
            code=world.account(0).code,
        )
        assert (await client.complaint_status(ticket.ticket_number)).status == "open"
        plan = await client.request_installments(
            months=3, acknowledge_debt=False, idempotency_key="i1", code=world.account(1).code
        )
        assert plan.months == 3 and plan.total.minor == world.account(1).amount_due_minor


async def test_malformed_requests_get_a_reason(backend: tuple[LedgerWorld, str]) -> None:
    _world, url = backend
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/quotes", data=b"not json") as response:
            assert response.status == 400
            assert (await response.json())["error"] == "invalid_request"
        async with session.post(url + "/v1/payments", json={"quote_id": "x"}) as response:
            assert response.status == 422
            assert (await response.json())["missing"] == "idempotency_key"
        async with session.post(url + "/v1/quotes", data=b"x" * 20000) as response:
            assert response.status == 413


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_backend_is_unavailable() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    async with BillingClient(url, timeouts=FAST, retries=1) as client:
        with pytest.raises(BillingUnavailable):
            await client.balance(code="627898622241")
        # A confirm that never reached anyone is still reported as "unknown": the client
        # cannot tell a refused connection from a lost answer in every case.
        with pytest.raises(PaymentOutcomeUnknown) as unknown:
            await client.confirm("q", "k")
        assert unknown.value.idempotency_key == "k"


async def test_lost_answer_is_retried_under_same_key(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    app = create_app(world.ledger)
    app.middlewares.insert(0, lose_payment_answers(1.5, count=1))
    server = await serve(app)
    try:
        demo = world.account(1)
        async with BillingClient(str(server.make_url("")), timeouts=FAST, retries=2) as client:
            quote = await client.quote(demo.code, channel="ivr")
            receipt = await client.confirm(quote.quote_id, "CA-lost")
            assert receipt.amount.minor == demo.amount_due_minor
        totals = await world.ledger.totals()
        assert totals["payments"] == 1
    finally:
        await server.close()


async def test_answer_lost_on_every_try_is_outcome_unknown(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    app = create_app(world.ledger)
    app.middlewares.insert(0, lose_payment_answers(1.5))
    server = await serve(app)
    try:
        demo = world.account(1)
        async with BillingClient(str(server.make_url("")), timeouts=FAST, retries=1) as client:
            quote = await client.quote(demo.code, channel="ivr")
            with pytest.raises(PaymentOutcomeUnknown):
                await client.confirm(quote.quote_id, "CA-unknown")
            # Later, the channel asks what happened: it was paid, once.
            receipt = await client.payment_status("CA-unknown")
            assert receipt.quote_id == quote.quote_id
        assert (await world.ledger.totals())["payments"] == 1
    finally:
        await server.close()
