"""The gateway: one aiohttp app that receives every outside webhook and mounts the channel
adapters, plus health and Prometheus metrics, the operator view (behind OPERATOR_TOKEN) and,
in simulator mode only, the simulator (never in production)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chat import routes as chat_routes
from chat.rasa_client import RasaClient
from chat.service import ChatService
from gateway import operator, simulator
from gateway.hostile_input import refuse_hostile_input
from ivr import routes as ivr_routes
from ivr.calls import IvrService
from ivr.voice import TwimlBuilder
from messaging import status_routes
from tasdeed.billing_client import BillingClient, Timeouts
from tasdeed.profile import load_profile
from tasdeed.settings import Settings
from tasdeed.state_store import create_store
from twilio_webhooks.signature import TwilioSignatures
from ussd import routes as ussd_routes
from ussd.aggregator_check import AggregatorCheck
from ussd.service import UssdService

MAX_BODY_BYTES = 64 * 1024


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def index(request: web.Request) -> web.Response:
    profile = request.app[PROFILE_ID]
    return web.Response(
        text=(
            f"Tasdeed gateway ({profile})\n"
            "POST /ussd/at       Africa's Talking USSD callback\n"
            "POST /ussd/hubtel   JSON USSD callback (Hubtel format)\n"
            "POST /ivr/voice     Twilio Voice: a call comes in (signed)\n"
            "POST /chat/twilio   Twilio Messaging: WhatsApp and SMS (signed)\n"
            "POST /chat/web      web chat: {sender, message}\n"
            "GET  /operator      operator view (OPERATOR_TOKEN)\n"
            "GET  /health        liveness\n"
            "GET  /metrics       Prometheus metrics\n"
        ),
        content_type="text/plain",
    )


PROFILE_ID = web.AppKey("profile_id", str)


def create_app(settings: Settings) -> web.Application:
    profile = load_profile(settings.tasdeed_profile)
    billing = BillingClient(
        settings.billing_url,
        timeouts=Timeouts(settings.billing_connect_timeout_s, settings.billing_total_timeout_s),
        retries=settings.billing_retries,
        service_token=settings.service_token,
    )
    store = create_store(settings.redis_url, settings.redis_prefix)
    # Unreadable bodies (not UTF-8, broken forms, deep or non-finite JSON) get a 400 here.
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[refuse_hostile_input])
    app[PROFILE_ID] = profile.id
    ussd_routes.add_routes(
        app,
        UssdService(
            profile,
            billing,
            store,
            session_ttl_s=settings.ussd_session_ttl_s,
            resume_ttl_s=settings.ussd_resume_ttl_s,
            reshape_networks=settings.reshape_networks(),
            sessions_per_minute=settings.ussd_sessions_per_minute,
            max_inputs_per_hop=settings.ussd_max_inputs_per_hop,
            phone_salt=settings.phone_hash_salt,
        ),
        AggregatorCheck(settings.ussd_callback_secret, settings.ussd_sources()),
    )
    # One Rasa client: its REST channel for chat, its NLU for what callers say at the IVR's
    # main menu.
    rasa = RasaClient(settings.rasa_url, token=settings.rasa_token)
    ivr_routes.add_routes(
        app,
        IvrService(
            profile,
            billing,
            store,
            TwimlBuilder(profile, settings.public_base_url),
            nlu=rasa,
            phone_salt=settings.phone_hash_salt,
        ),
        TwilioSignatures(settings.twilio_auth_token, settings.public_base_url),
    )
    chat_routes.add_routes(
        app,
        ChatService(profile, rasa, store, billing),
        TwilioSignatures(settings.twilio_auth_token, settings.public_base_url),
        settings.public_base_url,
    )
    status_routes.add_routes(
        app, billing, TwilioSignatures(settings.twilio_auth_token, settings.public_base_url)
    )
    app.cleanup_ctx.append(status_routes.outbox_gauge(billing))
    # The simulator page answers at / in simulator mode; otherwise the plain list below.
    in_simulator_mode = simulator.enabled(settings)
    simulator.add_routes(app, settings, profile, billing)
    operator.add_routes(app, settings, profile, billing, store, simulator_paths=in_simulator_mode)
    if not in_simulator_mode:
        app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)

    async def close_clients(_app: web.Application) -> None:
        await billing.close()
        await rasa.close()
        await store.close()

    app.on_cleanup.append(close_clients)
    return app
