"""Simulator mode: the browser page at `/` that drives every channel without a phone, the
relay that signs its calls as Twilio would, the walk diagram and the demo-data reset.

`add_routes` mounts all of it. gateway/app.py calls it only when SIMULATOR_ENABLED is true
and TASDEED_ENV is not production: the relay signs call webhooks for anyone, so a
production gateway has none of these routes (and production refuses to start with
SIMULATOR_ENABLED=true, tasdeed/production.py). The operator view is not part of it: it has
its own switch and token (gateway/operator/).
"""

from __future__ import annotations

from aiohttp import web

from gateway import page_shell
from gateway.simulator import demo_reset, page, relay, walks
from gateway.simulator.state import SIMULATOR, Simulator
from tasdeed.billing_client import BillingClient
from tasdeed.profile import Profile
from tasdeed.settings import Settings


def enabled(settings: Settings) -> bool:
    """Simulator mode: asked for, and never in production."""
    return settings.simulator_enabled and settings.tasdeed_env != "production"


def add_routes(
    app: web.Application, settings: Settings, profile: Profile, billing: BillingClient
) -> None:
    """Mount the simulator; nothing at all outside simulator mode."""
    if not enabled(settings):
        return
    app[SIMULATOR] = Simulator(settings, profile, billing)
    app.router.add_get("/", page.simulator_page)
    page_shell.add_page(app, "/", "sim.nav.simulator", page.SCRIPTS)
    relay.add_routes(app, settings)
    walks.add_routes(app)
    demo_reset.add_routes(app)
