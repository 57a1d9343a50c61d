"""The "reset demo data" button (`POST /simulator/demo-reset`): the backend puts the demo
ledger back as the seed made it (billing/demo_routes.py), every demo code payable again."""

from __future__ import annotations

from aiohttp import web

from gateway.page_shell import dumps, page_language
from gateway.simulator.state import SIMULATOR
from tasdeed.billing_client import BillingError
from tasdeed.i18n import translate
from tasdeed.logs import get_logger

log = get_logger("gateway.simulator.demo_reset")


async def demo_reset(request: web.Request) -> web.Response:
    """JSON only, so no other site's form can post it (a cross-site JSON POST needs a CORS
    preflight this gateway never answers)."""
    sim = request.app[SIMULATOR]
    language = page_language(request)
    if request.content_type != "application/json":
        return web.json_response({"error": "send application/json"}, status=415)
    try:
        done = await sim.billing.demo_reset()
    except BillingError as exc:
        log.warning("demo reset failed", error=str(exc))
        return web.json_response(
            {"error": translate("sim.demo.reset_failed", language)}, status=502, dumps=dumps
        )
    log.info("demo data reset from the simulator", accounts=done.get("accounts"))
    return web.json_response(
        {"reset": True, "message": translate("sim.demo.reset_done", language)}, dumps=dumps
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/simulator/demo-reset", demo_reset)
