"""`python -m messaging <command>`: bill-cycle campaigns, the relay, workers, and what an
operator needs to watch them.

  campaign YYYY-MM [--watch]  write the cycle's bill notices to the outbox (once per account),
                              relay them with a progress bar; --watch follows delivery
  sweep                       due-date reminders, complaint SLA breaches, prepaid warnings
  relay [--once]              queue every new outbox row (receipts, complaint updates …)
  worker                      send queued messages (needs REDIS_URL; run as many as you like)
  serve                       relay + sweep + workers in one process (`make run`)
  status [--campaign C]       counts by state
  requeue --older-than S      rows queued longer than S seconds back to the relay (after a
                              lost work queue; the ledger's claim still sends each once)
  segments                    what each template costs in SMS segments, per profile/language
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping

from prometheus_client import start_http_server
from tqdm import tqdm

from messaging.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from messaging.relay import Relay, RelayCounts
from messaging.sender import TwilioSender
from messaging.status_routes import STATUS_PATH
from messaging.work_queue import MemoryWorkQueue, RedisWorkQueue, WorkQueue, create_work_queue
from messaging.worker import Worker, run_workers
from tasdeed.billing_client import BillingClient, BillingUnavailable, Timeouts
from tasdeed.logs import configure_logging
from tasdeed.notices.costs import template_costs
from tasdeed.production import refuse_unsafe_defaults
from tasdeed.profile import Profile, load_profile
from tasdeed.settings import Settings, get_settings

FINAL_STATES = ("sent", "delivered", "read", "undelivered", "failed", "suppressed")


def _billing(settings: Settings) -> BillingClient:
    return BillingClient(
        settings.billing_url,
        timeouts=Timeouts(
            settings.billing_connect_timeout_s, max(settings.billing_total_timeout_s, 30)
        ),
        retries=settings.billing_retries,
        service_token=settings.service_token,
    )


def _limiter(settings: Settings, queue: WorkQueue) -> RateLimiter:
    if isinstance(queue, RedisWorkQueue):
        return RedisRateLimiter(
            queue.redis, f"{settings.redis_prefix}notices:rate", settings.notices_rate_per_s
        )
    return MemoryRateLimiter(settings.notices_rate_per_s)


def _sender(settings: Settings) -> TwilioSender:
    return TwilioSender.create(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_base or None,
        settings.public_base_url.rstrip("/") + STATUS_PATH,
        settings.notices_send_timeout_s,
    )


def _workers(
    settings: Settings,
    profile: Profile,
    billing: BillingClient,
    queue: WorkQueue,
    sender: TwilioSender,
) -> list[Worker]:
    limiter = _limiter(settings, queue)
    base = f"{socket.gethostname()}-{os.getpid()}"
    return [
        Worker(
            consumer=f"{base}-{index}",
            billing=billing,
            queue=queue,
            sender=sender,
            limiter=limiter,
            profile=profile,
            max_attempts=settings.notices_max_attempts,
            stale_after_s=settings.notices_stale_after_s,
            respect_quiet_hours=settings.notices_quiet_hours == "profile",
        )
        for index in range(settings.notices_workers)
    ]


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _counts_line(counts: Mapping[str, int]) -> str:
    return " ".join(f"{state}={counts[state]}" for state in sorted(counts) if counts[state])


async def campaign(settings: Settings, cycle: str, watch: bool, max_backlog: int | None) -> int:
    profile = load_profile(settings.tasdeed_profile)
    queue = create_work_queue(settings.redis_url, settings.redis_prefix)
    if isinstance(queue, MemoryWorkQueue):
        print("campaign: REDIS_URL is empty; the workers of `serve` will relay this cycle")
    async with _billing(settings) as billing:
        issued = await billing.issue_bill_cycle(cycle)
        name, total = issued.campaign, issued.total
        print(f"{name}: {issued.created} notices written now, {total} in the cycle")
        if isinstance(queue, MemoryWorkQueue):
            return 0
        relay = Relay(billing, queue, profile, max_backlog=max_backlog)
        already = (await billing.notice_counts(name)).counts
        start = total - already.get("new", 0)
        with tqdm(total=total, initial=start, unit="msg", desc="queued", file=sys.stdout) as bar:

            def progress(counts: RelayCounts) -> None:
                bar.update(counts.handled - (bar.n - start))
                bar.set_postfix(
                    suppressed=sum(counts.suppressed.values()), segments=counts.segments
                )

            counts = await relay.run_once(name, progress)
        print(
            f"queued {counts.queued}, suppressed {counts.suppressed},"
            f" SMS segments {counts.segments}"
        )
        if watch:
            await follow(billing, name, total)
        await queue.close()
    return 0


async def follow(billing: BillingClient, name: str, total: int) -> None:
    stop = _stop_on_signals()
    with tqdm(total=total, unit="msg", desc="done", file=sys.stdout) as bar:
        while not stop.is_set():
            counts = (await billing.notice_counts(name)).counts
            bar.n = sum(counts.get(state, 0) for state in FINAL_STATES)
            bar.set_postfix_str(_counts_line(counts))
            bar.refresh()
            if bar.n >= total:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def status(settings: Settings, name: str | None) -> int:
    async with _billing(settings) as billing:
        by_campaign = await billing.notice_counts_by_campaign()
    for campaign_name, counts in sorted(by_campaign.items()):
        if name is None or campaign_name == name:
            print(f"{campaign_name:<16} total={sum(counts.values()):<8} {_counts_line(counts)}")
    return 0


async def requeue(settings: Settings, older_than_s: int) -> int:
    async with _billing(settings) as billing:
        print(f"requeued {await billing.requeue_stale_notices(older_than_s)}")
    return 0


async def sweep(settings: Settings) -> int:
    async with _billing(settings) as billing:
        print(await billing.sweep_notices())
    return 0


async def relay(settings: Settings, once: bool) -> int:
    profile = load_profile(settings.tasdeed_profile)
    queue = create_work_queue(settings.redis_url, settings.redis_prefix)
    if isinstance(queue, MemoryWorkQueue):
        print("relay: needs REDIS_URL (without it, `serve` relays and sends in one process)")
        return 2
    async with _billing(settings) as billing:
        relayer = Relay(billing, queue, profile)
        if once:
            counts = await relayer.run_once()
            print(f"queued {counts.queued}, suppressed {counts.suppressed}")
        else:
            await relayer.run_forever(_stop_on_signals())
    await queue.close()
    return 0


async def serve(settings: Settings, run_relay: bool, metrics_port: int | None) -> int:
    """Workers, and with `run_relay` the relay and the sweep, until SIGINT/SIGTERM."""
    profile = load_profile(settings.tasdeed_profile)
    queue = create_work_queue(settings.redis_url, settings.redis_prefix)
    if not run_relay and isinstance(queue, MemoryWorkQueue):
        print("worker: needs REDIS_URL (without it, use `serve`)")
        return 2
    if metrics_port:
        start_http_server(metrics_port, addr=settings.metrics_host)
    stop = _stop_on_signals()
    sender = _sender(settings)
    async with _billing(settings) as billing:
        tasks = [
            asyncio.create_task(
                run_workers(_workers(settings, profile, billing, queue, sender), stop)
            )
        ]
        if run_relay:
            tasks.append(asyncio.create_task(Relay(billing, queue, profile).run_forever(stop)))
            tasks.append(asyncio.create_task(_sweep_forever(billing, stop)))
        await asyncio.gather(*tasks)
    await sender.close()
    await queue.close()
    return 0


async def _sweep_forever(billing: BillingClient, stop: asyncio.Event, every_s: float = 60) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):
            await billing.sweep_notices()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def segments() -> int:
    """The measured worst case of each SMS template against its stated budget."""
    print(
        f"{'profile':<8}{'lang':<6}{'kind':<24}{'encoding':<10}{'units':>6}{'segments':>10}{'budget':>8}"
    )
    for cost in template_costs():
        print(
            f"{cost.profile_id:<8}{cost.language:<6}{cost.kind.value:<24}{cost.worst.encoding:<10}"
            f"{cost.worst.units:>6}{cost.worst.segments:>10}{cost.budget:>8}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messaging",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("campaign")
    p.add_argument("cycle", help="bill month, YYYY-MM")
    p.add_argument(
        "--watch", action="store_true", help="follow delivery until every message is done"
    )
    p.add_argument("--max-backlog", type=int, default=200_000)
    commands.add_parser("sweep")
    p = commands.add_parser("relay")
    p.add_argument("--once", action="store_true")
    for name in ("worker", "serve"):
        p = commands.add_parser(name)
        p.add_argument("--metrics-port", type=int, default=None)
    p = commands.add_parser("status")
    p.add_argument("--campaign", default=None)
    commands.add_parser("segments")
    p = commands.add_parser("requeue")
    p.add_argument("--older-than", type=int, default=3600, help="seconds in 'queued'")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command in ("serve", "worker", "relay"):
        refuse_unsafe_defaults(settings, "messaging")
    elif args.command != "segments":  # an operator's command: it only calls the backend
        refuse_unsafe_defaults(settings, "cli")
    configure_logging(settings.log_level, settings.log_json)
    try:
        return _run(args, settings)
    except BillingUnavailable as error:
        print(f"messaging: the billing backend at {settings.billing_url} is unreachable ({error})")
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "segments":
        return segments()
    if args.command == "campaign":
        return asyncio.run(campaign(settings, args.cycle, args.watch, args.max_backlog))
    if args.command == "requeue":
        return asyncio.run(requeue(settings, args.older_than))
    if args.command == "sweep":
        return asyncio.run(sweep(settings))
    if args.command == "relay":
        return asyncio.run(relay(settings, args.once))
    if args.command == "status":
        return asyncio.run(status(settings, args.campaign))
    return asyncio.run(serve(settings, args.command == "serve", args.metrics_port))


if __name__ == "__main__":
    raise SystemExit(main())
