"""The operator view: what is happening on the channels now, for the utility's staff.

`/operator` is the page; `/operator/metrics.json`, `/operator/sessions.json`,
`/operator/recent.json` and `/operator/complaints/<ticket>.json` are its data
(gateway/operator/data.py). Every route is behind OPERATOR_TOKEN (gateway/operator/auth.py).
It is mounted when OPERATOR_ENABLED is true, in production too (where the token is
required), and never depends on the simulator. In simulator mode the paths the simulator
page used before, `/simulator/metrics.json` and `/simulator/operator.json`, answer too,
behind the same token.
"""

from __future__ import annotations

from aiohttp import web

from gateway import page_shell
from gateway.metrics_sampling import MetricsSampler, sampling
from gateway.operator import data, page
from gateway.operator.auth import Handler, require_token
from gateway.operator.state import OPERATOR, OperatorView
from tasdeed.billing_client import BillingClient
from tasdeed.profile import Profile
from tasdeed.settings import Settings
from tasdeed.state_store import StateStore

ROUTES: dict[str, Handler] = {
    "/operator": page.operator_page,
    "/operator/metrics.json": data.metrics_json,
    "/operator/sessions.json": data.sessions_json,
    "/operator/recent.json": data.recent_json,
    r"/operator/complaints/{ticket:[0-9]{1,20}}.json": data.complaint_json,
}
SIMULATOR_PATHS: dict[str, Handler] = {
    "/simulator/metrics.json": data.metrics_json,
    "/simulator/operator.json": data.recent_json,
}


def add_routes(
    app: web.Application,
    settings: Settings,
    profile: Profile,
    billing: BillingClient,
    store: StateStore,
    *,
    simulator_paths: bool = False,
) -> None:
    """Mount the operator view behind its token; nothing when OPERATOR_ENABLED is false."""
    if not settings.operator_enabled:
        return
    view = OperatorView(profile, billing, store, MetricsSampler())
    app[OPERATOR] = view
    app.cleanup_ctx.append(sampling(view.sampler))
    routes = {**ROUTES, **(SIMULATOR_PATHS if simulator_paths else {})}
    for path, handler in routes.items():
        app.router.add_get(path, require_token(settings.operator_token, handler))
    page_shell.add_page(app, "/operator", "sim.nav.operator", page.SCRIPTS)
