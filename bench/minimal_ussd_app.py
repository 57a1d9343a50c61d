"""The comparison point for bench/bench_ussd_payments.py: the smallest USSD payment app one
would write on a plain web framework, with none of Tasdeed's guarantees (sessions in memory,
no replay handling, no paging, no budgets, no resume), making the same two backend calls
(quote, then confirm) through the same billing client. It answers in Africa's Talking's
format in four screens: dial → "1 pay" menu, code prompt, payee and amount, receipt.

    .venv/bin/python bench/minimal_ussd_app.py --port 18081 --billing-url http://127.0.0.1:18090
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tasdeed.billing_client import BillingClient, BillingError

SESSIONS: dict[str, str] = {}  # session id → quote id


async def callback(request: web.Request) -> web.Response:
    form = await request.post()
    session_id, text = str(form.get("sessionId", "")), str(form.get("text", ""))
    billing: BillingClient = request.app["billing"]
    inputs = text.split("*") if text else []
    try:
        if not inputs:
            return web.Response(text="CON Tasdeed\n1 Pay a bill")
        if len(inputs) == 1:
            return web.Response(text="CON Enter the payment code")
        if len(inputs) == 2:
            quote = await billing.quote(inputs[1], channel="ussd")
            SESSIONS[session_id] = quote.quote_id
            return web.Response(
                text=f"CON {quote.payee_masked}\n{quote.amount.minor}\n1 Confirm\n2 Cancel"
            )
        quote_id = SESSIONS.pop(session_id, "")
        if inputs[2] != "1" or not quote_id:
            return web.Response(text="END Cancelled")
        receipt = await billing.confirm(quote_id, f"minimal:{session_id}")
        return web.Response(text=f"END Paid. Receipt {receipt.receipt_number}")
    except BillingError:
        return web.Response(text="END Service unavailable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--billing-url", default="http://127.0.0.1:18090")
    args = parser.parse_args()
    app = web.Application()
    app["billing"] = BillingClient(args.billing_url)
    app.router.add_post("/ussd/at", callback)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
