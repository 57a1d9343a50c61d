"""`python -m gateway`: serve the gateway on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

from aiohttp import web

from gateway.app import create_app
from tasdeed.event_loop import new_loop
from tasdeed.logs import configure_logging
from tasdeed.production import refuse_unsafe_defaults
from tasdeed.settings import get_settings


def main() -> None:
    settings = get_settings()
    refuse_unsafe_defaults(settings, "gateway")
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    print(
        f"gateway listening on http://{settings.gateway_host}:{settings.gateway_port}", flush=True
    )
    web.run_app(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=None,
        print=None,
        loop=new_loop(),
    )


if __name__ == "__main__":
    main()
