"""Demo-only backend routes, for the simulator page: `POST /v1/demo/reset` puts the demo ledger
back as the demo seed made it (billing/demo_reset.py), so the demo codes are payable again.

Mounted by `add_routes` only where the simulator is (SIMULATOR_ENABLED true, TASDEED_ENV not
production): a utility's backend never offers to empty its ledger. Even where mounted, only a
ledger the demo seed filled for this profile is reset (404 otherwise). The route sits behind
the app's middlewares like every other (service token when set, refusals as JSON).
`add_routes` may be called more than once on an app; it mounts once.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from billing.demo_reset import NotADemoLedger, reset_demo_data
from billing.ledger import Ledger, Refusal
from tasdeed.contract import RefusalReason
from tasdeed.logs import get_logger
from tasdeed.settings import Settings, get_settings

DEMO_RESET_PATH = "/v1/demo/reset"
log = get_logger("billing.demo")


@dataclass(frozen=True)
class _Demo:
    ledger: Ledger
    seed: int


DEMO = web.AppKey("demo", _Demo)


def add_routes(app: web.Application, ledger: Ledger, settings: Settings | None = None) -> bool:
    """Mount the demo routes when the simulator is enabled outside production; whether they
    are mounted."""
    settings = settings or get_settings()
    if not settings.simulator_enabled or settings.tasdeed_env == "production":
        return False
    if DEMO not in app:
        app[DEMO] = _Demo(ledger, settings.demo_seed)
        app.router.add_post(DEMO_RESET_PATH, demo_reset)
    return True


async def demo_reset(request: web.Request) -> web.Response:
    demo = request.app[DEMO]
    ledger = demo.ledger
    try:
        done = await reset_demo_data(ledger.sessions, ledger.profile, demo.seed, ledger.clock())
    except NotADemoLedger as exc:
        raise Refusal(RefusalReason.INVALID_REQUEST, 404, {"detail": str(exc)}) from exc
    log.info("demo data reset", profile=done.profile, accounts=done.accounts)
    return web.json_response(
        {"reset": True, "profile": done.profile, "seed": done.seed, "accounts": done.accounts}
    )
