"""`python -m billing migrate | seed | prepare | serve | demo-codes | demo-reset | exam-periods`.

`prepare` = migrate + seed (only an empty ledger is seeded), what `make run` does first.
`demo-reset` puts the demo ledger back as the seed made it (billing/demo_reset.py): every
demo code payable again. `serve` mounts the simulator's demo routes (billing/demo_routes.py)
when SIMULATOR_ENABLED, outside production. `exam-periods [FILE]` loads public-school exam
periods (FILE or EXAM_PERIODS_FILE; billing/exam_periods.py), which `serve` also does at
start-up, warning in production when none covers today or later.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from aiohttp import web

from billing import demo_routes
from billing.app import create_app
from billing.db import create_engine, session_factory
from billing.demo_data import readme_accounts, seed_demo_data
from billing.demo_reset import NotADemoLedger, reset_demo_data
from billing.exam_periods import ExamPeriods, read_exam_periods_file
from billing.ledger import Ledger, Refusal, utc_now
from billing.masking import mask_name
from billing.migrate import upgrade
from tasdeed.event_loop import loop_factory
from tasdeed.logs import configure_logging, get_logger
from tasdeed.money import Money, format_money
from tasdeed.production import refuse_in_production, refuse_unsafe_defaults, warn_in_production
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
    exams = ExamPeriods(ledger.sessions, profile)
    if settings.exam_periods_file:
        loaded = await exams.load(read_exam_periods_file(Path(settings.exam_periods_file)))
        log.info("exam periods", file=settings.exam_periods_file, **loaded)
    warn_in_production(settings, "billing", await exams.startup_warnings())
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


async def _load_exam_periods(path: str) -> int:
    settings = get_settings()
    profile = load_profile(settings.tasdeed_profile)
    engine = create_engine(settings.resolved_database_url())
    try:
        exams = ExamPeriods(session_factory(engine), profile)
        loaded = await exams.load(read_exam_periods_file(Path(path)))
        warnings = await exams.startup_warnings()
    except Refusal as refusal:
        print(f"exam-periods: {path}: {refusal.details}; nothing loaded", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"exam periods from {path}: {loaded['loaded']} loaded, {loaded['total']} in the ledger")
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    return 0


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
        choices=["migrate", "seed", "prepare", "serve", "demo-codes", "demo-reset", "exam-periods"],
    )
    parser.add_argument(
        "file", nargs="?", help="exam-periods: the TOML/CSV file (default: EXAM_PERIODS_FILE)"
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
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=loop_factory()) as runner,
        ):
            runner.run(_serve())
    if args.command == "demo-codes":
        _print_demo_codes()
    if args.command == "demo-reset":
        return asyncio.run(_reset())
    if args.command == "exam-periods":
        path = args.file or settings.exam_periods_file
        if not path:
            parser.error("exam-periods needs a FILE or EXAM_PERIODS_FILE")
        return asyncio.run(_load_exam_periods(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
