"""`python -m billing migrate | seed | prepare | serve | demo-codes`.

`prepare` = migrate + seed (only an empty ledger is seeded), what `make run` does first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiohttp import web

from billing.app import create_app
from billing.db import create_engine, session_factory
from billing.demo_data import plan_accounts, seed_demo_data
from billing.ledger import Ledger, utc_now
from billing.masking import mask_name
from billing.migrate import upgrade
from tasdeed.logs import configure_logging, get_logger
from tasdeed.money import Money, format_money
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
    app = create_app(Ledger(session_factory(engine), profile))
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


def demo_code_rows(profile_id: str, seed: int) -> list[str]:
    """README table rows: the four scenario accounts of a profile, as a person sees them."""
    profile = load_profile(profile_id)
    rows = []
    for demo, _amounts in plan_accounts(profile, seed)[:4]:
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
    parser.add_argument("command", choices=["migrate", "seed", "prepare", "serve", "demo-codes"])
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.command in ("migrate", "prepare"):
        upgrade(settings.resolved_database_url())
    if args.command in ("seed", "prepare"):
        asyncio.run(_seed())
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve())
    if args.command == "demo-codes":
        _print_demo_codes()
    return 0


if __name__ == "__main__":
    sys.exit(main())
