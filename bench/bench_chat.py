"""Chat benchmark: NLU parse latency and a chat turn's latency through the whole stack.

Starts the billing backend (PostgreSQL), the rasa-sdk action server, Rasa on the trained
model (var/models/tasdeed.tar.gz, `make model`) and the gateway, then:
- sends the held-out test messages to Rasa's /model/parse (p50/p99);
- runs N conversations through the gateway's web chat path (`/chat/web`, the same relay
  WhatsApp takes, minus the signature): "how much do I owe?", then the code → the balance,
  and prints each turn's latency p50/p99 and turns per second.

    .venv/bin/python bench/bench_chat.py --conversations 40 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time

import aiohttp
from load import Results, closed_loop, report
from stack import ROOT, SEED, BenchStack, cpu_seconds, wait_healthy

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

RASA_PORT, ACTIONS_PORT = 18305, 18355
QUESTIONS = ("كم علي فاتورة؟", "عليا كام؟", "3aleya kam", "ما قيمة فاتورتي")


def start_quietly(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack("postgres", args.profile, 200)
    await stack.prepare()
    token = secrets.token_hex(8)
    env = {**os.environ, "TASDEED_PROFILE": args.profile, "RASA_TELEMETRY_ENABLED": "false",
           "BILLING_URL": stack.billing_url, "SANIC_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
           "ACTION_SERVER_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook"}  # fmt: skip
    rasa = str(ROOT / ".venv-rasa" / "bin" / "rasa")
    model = str(ROOT / "var" / "models" / "tasdeed.tar.gz")
    commands = [
        [sys.executable, "-m", "actions.server", "--port", str(ACTIONS_PORT)],
        [rasa, "run", "--enable-api", "--auth-token", token, "--model", model,
         "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml",
         "--interface", "127.0.0.1", "--port", str(RASA_PORT)],
    ]  # fmt: skip
    helpers = [start_quietly(command, env) for command in commands]
    try:
        await stack.start(gateway=True, gateway_env={"RASA_URL": f"http://127.0.0.1:{RASA_PORT}"})
        await wait_healthy(f"http://127.0.0.1:{ACTIONS_PORT}")
        async with aiohttp.ClientSession() as http:
            for _ in range(360):
                try:
                    async with http.get(f"http://127.0.0.1:{RASA_PORT}/status?token={token}") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)
            parse = Results()
            for index in range(args.parses):
                text = QUESTIONS[index % len(QUESTIONS)]
                started = time.perf_counter()
                async with http.post(
                    f"http://127.0.0.1:{RASA_PORT}/model/parse?token={token}", json={"text": text}
                ) as r:
                    await r.json()
                parse.latencies_ms.append((time.perf_counter() - started) * 1000)
            codes = [d.code for d, _ in plan_accounts(profile, SEED, 200)]

            async def conversation(index: int, out: Results) -> None:
                sender = f"bench-{index}-{secrets.token_hex(4)}"
                for message in (QUESTIONS[index % len(QUESTIONS)], codes[index % len(codes)]):
                    started = time.perf_counter()
                    async with http.post(
                        stack.gateway_url + "/chat/web", json={"sender": sender, "message": message}
                    ) as r:
                        body = await r.json()
                    out.latencies_ms.append((time.perf_counter() - started) * 1000)
                    if r.status != 200 or not body.get("replies"):
                        out.errors += 1
                        return
                out.completed += 1

            print(f"\nchat benchmark: profile {args.profile}, Rasa + action server + gateway + "
                  "billing (PostgreSQL) on this machine")  # fmt: skip
            report("NLU /model/parse", "parses", parse, sum(parse.latencies_ms) / 1000)
            pids = {"rasa": helpers[1].pid, "actions": helpers[0].pid,
                    "gateway": stack.processes["gateway"].pid,
                    "billing": stack.processes["billing"].pid}  # fmt: skip
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            turns, elapsed = await closed_loop(conversation, args.concurrency, args.duration)
            cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
            report(f"chat turns, {args.concurrency} conversations at once", "turns", turns, elapsed)
            count = max(len(turns.latencies_ms), 1)
            shares = [
                f"{name} {1000 * used / count:.1f} ms ({100 * used / elapsed:.0f} % of a core)"
                for name, used in cpu.items()
            ]
            print("  CPU per turn: " + ", ".join(shares))
        print(
            "  peak RSS: " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in stack.peak_memory().items())
        )
    finally:
        for process in helpers:
            process.terminate()
            process.wait(timeout=30)
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--parses", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=15.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
