"""`python -m twilio_standin`: serve the stand-in of Twilio's Messaging REST API.

Defaults come from Tasdeed's settings (TWILIO_STANDIN_HOST/PORT, TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN), so the workers' client and the stand-in agree without flags.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from aiohttp import web

from tasdeed.logs import configure_logging, get_logger
from tasdeed.production import refuse_in_production
from tasdeed.settings import get_settings
from twilio_standin.app import create_app
from twilio_standin.config import StandinConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m twilio_standin",
        description="A local stand-in for Twilio's Programmable Messaging REST API.",
    )
    parser.add_argument("--host", default=settings.twilio_standin_host)
    parser.add_argument("--port", type=int, default=settings.twilio_standin_port)
    parser.add_argument("--account-sid", default=settings.twilio_account_sid)
    parser.add_argument("--auth-token", default=settings.twilio_auth_token)
    parser.add_argument(
        "--mps", type=float, default=0.0, help="accepted creates per second (0: unlimited)"
    )
    parser.add_argument(
        "--callback-delay-ms", type=int, default=50, help="pause between status changes"
    )
    parser.add_argument("--callback-concurrency", type=int, default=64)
    parser.add_argument(
        "--duplicate-callbacks", action="store_true", help="send every status callback twice"
    )
    parser.add_argument(
        "--max-messages", type=int, default=1_000_000, help="messages kept (0: all)"
    )
    parser.add_argument(
        "--enforce-whatsapp-window",
        action="store_true",
        help="free-form WhatsApp outside an open 24 h session fails with 63016",
    )
    parser.add_argument(
        "--outcomes",
        default="",
        help='per-recipient outcomes as JSON, e.g. \'{"+966500000001": {"create_error": 21610}}\'',
    )
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> StandinConfig:
    return StandinConfig(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        mps=args.mps,
        callback_delay_ms=args.callback_delay_ms,
        callback_concurrency=args.callback_concurrency,
        duplicate_callbacks=args.duplicate_callbacks,
        max_messages=args.max_messages,
        enforce_whatsapp_window=args.enforce_whatsapp_window,
        outcomes=json.loads(args.outcomes) if args.outcomes else {},
    )


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    refuse_in_production(
        settings, "twilio_standin", "the Twilio stand-in is for tests and `make run` only"
    )
    configure_logging(settings.log_level, settings.log_json)
    args = parse_args(argv)
    get_logger("twilio_standin").info(
        "twilio_standin_starting", host=args.host, port=args.port, mps=args.mps
    )
    # Access logs would print every request line (phone numbers in list queries): off.
    web.run_app(
        create_app(config_from(args)),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
