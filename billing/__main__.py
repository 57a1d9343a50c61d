"""`python -m billing migrate | seed | prepare | serve | demo-codes | demo-reset`.

`prepare` = migrate + seed (only an empty ledger is seeded), what `make run` does first.
`demo-reset` puts the demo ledger back as the seed made it (billing/demo_reset.py): every
demo code payable again. `serve` mounts the simulator's demo routes (billing/demo_routes.py)
when SIMULATOR_ENABLED, outside production.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable

from aiohttp import web

from billing import demo_routes
from billing.app import create_app
from billing.db import create_engine, session_factory
from billing.demo_data import readme_accounts, seed_demo_data
from billing.demo_reset import NotADemoLedger, reset_demo_data
from billing.ledger import Ledger, utc_now
from billing.masking import mask_name
from billing.migrate import upgrade
from tasdeed.logs import configure_logging, get_logger
from tasdeed.money import Money, format_money
from tasdeed.production import refuse_in_production, refuse_unsafe_defaults
from tasdeed.profile import available_profiles, load_profile
from tasdeed.settings import get_settings

log = get_logger("billing")


async def _seed() -> None:
    settings = get_settings()
    profile = load_profile(settings.tasdeed_profile)
    engine = create_engine(settings.resolved_database_url())
    try:
        created = await seed_demo_data(
            session_factory(engine), profile, settings.demo_seed, utc_now()
        )
        log.info("demo data", profile=profile.id, seeded=created)
    finally:
        await engine.dispose()


async def _serve() -> None:
    settings = get_settings()
    profile = load_profile(settings.tasdeed_profile)
    engine = create_engine(settings.resolved_database_url())
    ledger = Ledger(session_factory(engine), profile)
    app = create_app(ledger)
    demo_routes.add_routes(app, ledger, settings)  # mounts once, simulator mode only
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.billing_host, settings.billing_port)
    await site.start()
    print(
        f"billing backend ({profile.id}) listening on "
        f"http://{settings.billing_host}:{settings.billing_port}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await engine.dispose()


async def _reset() -> int:
    settings = get_settings()
    profile = load_profile(settings.tasdeed_profile)
    engine = create_engine(settings.resolved_database_url())
    try:
        done = await reset_demo_data(
            session_factory(engine), profile, settings.demo_seed, utc_now()
        )
    except NotADemoLedger as exc:
        print(f"demo-reset: {exc}; nothing changed", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"demo data of profile {done.profile} reset: {done.accounts} accounts (seed {done.seed})")
    return 0


def _loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when it is installed (rasa-sdk's sanic brings it): its transports and event
    loop are C, which the backend's many small requests and statements feel; asyncio's own
    loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def demo_code_rows(profile_id: str, seed: int) -> list[str]:
    """README table rows: the scenario accounts of a profile, then more accounts with bills to
    pay, a dozen payable codes in all (billing.demo_data.readme_accounts), as a person sees
    them."""
    profile = load_profile(profile_id)
    rows = []
    for demo in readme_accounts(profile, seed):
        due = format_money(Money(demo.amount_due_minor, profile.currency), "en")
        rows.append(
            f"| {profile.id} | `{demo.code}` | {mask_name(demo.payee_name)} | {demo.area} "
            f"| {demo.unpaid_bills} | {due} |"
        )
    return rows


def _print_demo_codes() -> None:
    settings = get_settings()
    for profile_id in available_profiles():
        print("\n".join(demo_code_rows(profile_id, settings.demo_seed)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m billing")
    parser.add_argument(
        "command",
        choices=["migrate", "seed", "prepare", "serve", "demo-codes", "demo-reset"],
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "serve":
        refuse_unsafe_defaults(settings, "billing")
    if args.command in ("seed", "prepare"):
        refuse_in_production(
            settings, f"billing {args.command}", "demo data is never seeded in production"
        )
    if args.command == "demo-reset":
        refuse_in_production(
            settings, "billing demo-reset", "a production ledger holds no demo data to reset"
        )
    configure_logging(settings.log_level, settings.log_json)
    if args.command in ("migrate", "prepare"):
        upgrade(settings.resolved_database_url())
    if args.command in ("seed", "prepare"):
        asyncio.run(_seed())
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop()) as run:
            run.run(_serve())
    if args.command == "demo-codes":
        _print_demo_codes()
    if args.command == "demo-reset":
        return asyncio.run(_reset())
    return 0


if __name__ == "__main__":
    sys.exit(main())
