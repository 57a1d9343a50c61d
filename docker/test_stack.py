"""`make docker-test` (scripts/docker-test.sh): docker/compose.yaml run on this machine with host
networking, and one USSD and one chat payment driven through its HAProxy.

    test_stack.py secrets          `export` lines: a random value for every secret compose asks for
    test_stack.py compose DIR      DIR/compose.yaml and DIR/haproxy.cfg, derived from docker/
    test_stack.py wait             until every container of the stack is healthy (or done)
    test_stack.py drive            the two payments; checks the receipts and the ledger
    test_stack.py listeners        every socket a container of the stack listens on is loopback
    test_stack.py builder DIR FILE the derived service that builds the image of Dockerfile FILE

The derived compose file is docker/compose.yaml with only what host networking and this
machine need changed: no networks (`network_mode: host`) and no published ports; every
process bound to 127.0.0.1 on a port of its own (replicas become services `gateway-1`,
`gateway-2`…, since two containers cannot share a port on one network namespace); service
names in URLs become 127.0.0.1 and those ports; HAProxy's `server-template` over Docker's DNS
becomes one `server` line per replica. Images, commands, users, read-only roots, tmpfs,
dropped capabilities, health checks, dependencies and environment are compose.yaml's.
Prometheus and Grafana are left out (no Debian image for Grafana; neither is on a payment's
path). Twilio's API is pointed at https://127.0.0.1:9, so nothing leaves the machine.

Runs with the host's .venv (it imports the billing code to pick demo codes and read the
ledger); compose reads the secrets from the environment, never from a file.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
BASE = int(os.environ.get("DOCKER_TEST_PORT_BASE", "28700"))
# Every listening port of the stack, all on 127.0.0.1 (offsets from DOCKER_TEST_PORT_BASE).
PORTS = {
    "webhooks": BASE + 80,  # HAProxy: the outside webhooks
    "haproxy-rasa": BASE + 5,  # HAProxy: Rasa, one conversation to one replica
    "haproxy-actions": BASE + 55,  # HAProxy: the action servers
    "haproxy-stats": BASE + 4,
    "gateway": BASE + 81,  # + replica - 1
    "rasa": BASE + 6,
    "actions": BASE + 56,
    "billing": BASE + 90,
    "postgres": BASE + 32,
    "redis": BASE + 79,
    "messaging": BASE + 10,
    "messaging-worker": BASE + 11,
}
# The port each of compose.yaml's own listeners uses, as named in its health checks.
COMPOSE_PORTS = {"gateway": 8080, "rasa": 5005, "actions": 5055, "billing": 8090}
HAPROXY_BINDS = {8080: "webhooks", 5005: "haproxy-rasa", 5055: "haproxy-actions",
                 8404: "haproxy-stats"}  # fmt: skip
LEFT_OUT = ("prometheus", "grafana")
PUBLIC_BASE_URL = "https://pay.docker-test.invalid"  # signatures only: never contacted
REPLICA_HEADER = "X-Tasdeed-Replica"
PROJECT = os.environ.get("DOCKER_TEST_PROJECT", "tasdeed-test")


def port(name: str, replica: int = 1) -> int:
    return PORTS[name] + replica - 1


def load_compose() -> dict[str, Any]:
    import yaml  # the host's .venv

    data = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ---- secrets ---------------------------------------------------------------------------------


def secrets_command() -> int:
    """Random secrets for this run, as `export` lines for the shell (never written to disk)."""
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    required = sorted(set(re.findall(r"\$\{([A-Z_]+):\?", text)))
    values = {name: secrets.token_hex(32) for name in required}
    values["TWILIO_ACCOUNT_SID"] = "AC" + secrets.token_hex(16)
    values["PUBLIC_BASE_URL"] = PUBLIC_BASE_URL
    for name, value in sorted(values.items()):
        print(f"export {name}={value}")
    return 0


# ---- compose -----------------------------------------------------------------------------------


def _local(value: str) -> str:
    """compose.yaml's service addresses as this stack's loopback ones."""
    rewrites = {
        "http://haproxy:5005": f"http://127.0.0.1:{port('haproxy-rasa')}",
        "http://haproxy:5055": f"http://127.0.0.1:{port('haproxy-actions')}",
        "http://billing:8090": f"http://127.0.0.1:{port('billing')}",
        "redis://redis:6379": f"redis://127.0.0.1:{port('redis')}",
        "@postgres:5432/": f"@127.0.0.1:{port('postgres')}/",
    }
    for old, new in rewrites.items():
        value = value.replace(old, new)
    return value


def _healthcheck(test: list[str], listener: int, own: int) -> list[str]:
    return [item.replace(f"127.0.0.1:{listener}/", f"127.0.0.1:{own}/") for item in test]


def _tasdeed_env(env: dict[str, Any], role: str, replica: int) -> dict[str, str]:
    out = {key: _local(str(value)) for key, value in env.items()}
    out.update(
        GATEWAY_HOST="127.0.0.1",
        BILLING_HOST="127.0.0.1",
        ACTIONS_HOST="127.0.0.1",
        METRICS_HOST="127.0.0.1",
        TWILIO_STANDIN_HOST="127.0.0.1",
        BILLING_PORT=str(port("billing")),
    )
    if role == "gateway":
        out["GATEWAY_PORT"] = str(port("gateway", replica))
    if role == "actions":
        out["ACTIONS_PORT"] = str(port("actions", replica))
    if role in ("messaging", "messaging-worker"):
        out["METRICS_PORT"] = str(port(role, replica))
        out["TWILIO_API_BASE"] = "https://127.0.0.1:9"  # nothing leaves this machine
    return out


def derive_service(
    name: str, service: dict[str, Any], replica: int, haproxy_cfg: Path
) -> dict[str, Any]:
    s = copy.deepcopy(service)
    s.pop("networks", None)
    s.pop("ports", None)
    s.pop("deploy", None)
    s["network_mode"] = "host"
    if "build" in s:
        s["build"]["context"] = str(ROOT)
    env = s.get("environment", {})
    check = s.get("healthcheck", {})
    if name == "postgres":
        s["command"] = ["postgres", "-c", "listen_addresses=127.0.0.1", "-p", str(port(name))]
        check["test"] = [*check["test"], "-h", "127.0.0.1", "-p", str(port(name))]
    elif name == "redis":
        s["command"] = [*s["command"], "--bind", "127.0.0.1", "--port", str(port(name))]
        check["test"] = ["CMD", "redis-cli", "-p", str(port(name)), "ping"]
    elif name == "haproxy":
        s["volumes"] = [f"{haproxy_cfg.resolve()}:/usr/local/etc/haproxy/haproxy.cfg:ro"]
    elif name == "rasa":
        env = {key: _local(str(value)) for key, value in env.items()}
        env.update(REDIS_HOST="127.0.0.1", REDIS_PORT=str(port("redis")))
        env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{port('haproxy-actions')}/webhook"
        s["command"] = ["--interface", "127.0.0.1", "--port", str(port("rasa", replica))]
        check["test"] = _healthcheck(check["test"], 5005, port("rasa", replica))
    elif env.get("TASDEED_ENV") == "production":  # Tasdeed's own image
        env = _tasdeed_env(env, name, replica)
        if name in COMPOSE_PORTS:
            own = port(name, replica)
            check["test"] = _healthcheck(check["test"], COMPOSE_PORTS[name], own)
        elif name.startswith("messaging"):
            check["test"] = _healthcheck(check["test"], 9100, port(name, replica))
    if env:
        s["environment"] = env
    volumes = []
    for volume in s.get("volumes", []):
        source, _, rest = volume.partition(":")
        if source.startswith("."):
            source = str((DOCKER / source).resolve())
        volumes.append(f"{source}:{rest}")
    if volumes:
        s["volumes"] = volumes
    return s


def derive_compose(data: dict[str, Any], haproxy_cfg: Path) -> dict[str, Any]:
    services = data["services"]
    replicas = {
        name: int(s.get("deploy", {}).get("replicas", 1))
        for name, s in services.items()
        if name not in LEFT_OUT
    }

    def names(name: str) -> list[str]:
        count = replicas[name]
        return [name] if count == 1 else [f"{name}-{i}" for i in range(1, count + 1)]

    out: dict[str, Any] = {}
    for name, service in services.items():
        if name in LEFT_OUT:
            continue
        for replica, new_name in enumerate(names(name), start=1):
            derived = derive_service(name, service, replica, haproxy_cfg)
            if replica > 1:
                derived.pop("build", None)  # one build per image: the first replica's
            depends = {}
            for dependency, condition in derived.get("depends_on", {}).items():
                if dependency in LEFT_OUT:
                    continue
                depends.update({n: condition for n in names(dependency)})
            if depends:
                derived["depends_on"] = depends
            out[new_name] = derived
    # One `build` per image: compose v1 would send the whole context once per service.
    built: set[str] = set()
    for service in out.values():
        if "build" in service:
            key = service["build"]["dockerfile"]
            if key in built:
                del service["build"]
            built.add(key)
    text = json.dumps(out)
    for host in ("postgres", "redis", "billing", "gateway", "rasa", "actions", "haproxy"):
        leftover = re.search(rf"(//|@){host}:\d", text)
        assert leftover is None, f"compose.yaml names the service {host} in a URL: translate it"
    volumes = {k: v for k, v in data.get("volumes", {}).items() if k not in LEFT_OUT}
    return {"services": out, "volumes": volumes}


def derive_haproxy(config: str, replicas: dict[str, int]) -> str:
    """docker/haproxy/haproxy.cfg with loopback binds and one server line per replica."""
    config = re.sub(r"\nresolvers docker\n(?:[ \t]+.*\n)+", "\n", config)

    def bind(match: re.Match[str]) -> str:
        return f"{match.group(1)}bind 127.0.0.1:{port(HAPROXY_BINDS[int(match.group(2))])}"

    config = re.sub(r"^([ \t]+)bind :(\d+)\b", bind, config, flags=re.M)

    def servers(match: re.Match[str]) -> str:
        indent, prefix, host, options = match.group(1, 2, 4, 6)
        options = re.sub(r"\s*(resolvers \S+|init-addr \S+)", "", options)
        return "\n".join(
            f"{indent}server {prefix}{i} 127.0.0.1:{port(host, i)} {options.strip()}"
            for i in range(1, replicas[host] + 1)
        )

    config = re.sub(
        r"^([ \t]+)server-template (\S+) (\d+) (\w[\w-]*):(\d+) (.*)$", servers, config, flags=re.M
    )
    live = "\n".join(line for line in config.splitlines() if not line.lstrip().startswith("#"))
    assert "server-template" not in live and "resolvers" not in live, live
    return (
        "# Derived by docker/test_stack.py from docker/haproxy/haproxy.cfg for `make docker-test`\n"
        "# (host networking: loopback binds, one server per replica).\n" + config
    )


def compose_command(out_dir: str) -> int:
    data = load_compose()
    out = Path(out_dir)
    derived = derive_compose(data, out / "haproxy.cfg")
    replicas = {
        name: int(s.get("deploy", {}).get("replicas", 1)) for name, s in data["services"].items()
    }
    out.mkdir(parents=True, exist_ok=True)
    haproxy = derive_haproxy((DOCKER / "haproxy" / "haproxy.cfg").read_text(), replicas)
    (out / "haproxy.cfg").write_text(haproxy, encoding="utf-8")
    header = (
        "# Derived by docker/test_stack.py from docker/compose.yaml for `make docker-test`:\n"
        "# host networking, every process on 127.0.0.1 and a port of its own. Do not edit.\n"
    )
    (out / "compose.yaml").write_text(
        header + json.dumps(derived, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    listeners = ", ".join(
        f"{name} {port(name)}" for name in ("webhooks", "gateway", "billing", "postgres", "redis")
    )
    print(f"derived {len(derived['services'])} services from docker/compose.yaml "
          f"(left out: {', '.join(LEFT_OUT)}); 127.0.0.1 ports: {listeners} …")  # fmt: skip
    return 0


# ---- wait --------------------------------------------------------------------------------------


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def containers(running: bool = False) -> dict[str, str]:
    """This project's containers, by service (with the replica's number when it has one)."""
    label = f"label=com.docker.compose.project={PROJECT}"
    fields = '{{.ID}} {{.Label "com.docker.compose.service"}}'
    out = _docker("ps", *([] if running else ["-a"]), "--filter", label, "--format", fields)
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


def wait_command(timeout_s: float) -> int:
    started = time.monotonic()
    last = ""
    while True:
        states = {}
        for service, cid in sorted(containers().items()):
            info = json.loads(_docker("inspect", cid))[0]["State"]
            health = (info.get("Health") or {}).get("Status")
            if info["Status"] == "exited":
                states[service] = f"exited {info['ExitCode']}"
            else:
                states[service] = health or info["Status"]
        line = ", ".join(f"{s}={v}" for s, v in states.items())
        waiting = [s for s, v in states.items() if v not in ("healthy", "exited 0")]
        failed = [s for s, v in states.items() if v.startswith("exited") and v != "exited 0"]
        elapsed = time.monotonic() - started
        if line != last:
            print(f"  [{elapsed:5.0f} s] {line}", flush=True)
            last = line
        if failed:
            print(f"failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        if states and not waiting:
            print(f"all {len(states)} containers healthy (or done) after {elapsed:.0f} s")
            return 0
        if elapsed > timeout_s:
            print(f"still not healthy after {timeout_s:.0f} s: {', '.join(waiting)}",
                  file=sys.stderr)  # fmt: skip
            return 1
        time.sleep(3)


# ---- drive -------------------------------------------------------------------------------------


def database_url() -> str:
    password = os.environ["POSTGRES_PASSWORD"]
    return f"postgresql+asyncpg://tasdeed:{password}@127.0.0.1:{port('postgres')}/tasdeed"


async def drive() -> int:
    import aiohttp
    from sqlalchemy import text
    from twilio.request_validator import RequestValidator

    from billing.db import create_engine, session_factory
    from billing.demo_data import readme_accounts
    from billing.ledger import Ledger
    from tasdeed.profile import load_profile
    from tasdeed.settings import Settings

    settings = Settings()
    profile = load_profile(os.environ.get("TASDEED_PROFILE", "eg"))
    payable = [d for d in readme_accounts(profile, settings.demo_seed) if d.unpaid_bills]
    ussd_bill, chat_bill = payable[0], payable[1]
    url = f"http://127.0.0.1:{port('webhooks')}"
    key = os.environ["USSD_CALLBACK_SECRET"]
    token = os.environ["TWILIO_AUTH_TOKEN"]
    served: list[str] = []
    ok = True

    def check(condition: bool, what: str) -> None:
        nonlocal ok
        ok = ok and condition
        print(f"  {'ok  ' if condition else 'FAIL'} {what}")

    stats = f"http://127.0.0.1:{port('haproxy-stats')}/metrics"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        # Docker's health checks are not HAProxy's: wait until HAProxy's own checks have every
        # replica of every backend up (a server needs two good checks to come back up).
        started = time.monotonic()
        up: dict[str, dict[str, bool]] = {}
        while time.monotonic() - started < 90:
            async with http.get(stats) as response:
                metrics = await response.text()
            up = {}
            pattern = r'haproxy_server_status{proxy="([\w-]+)",server="(\w+)",state="UP"} (\d)'
            for proxy, server, value in re.findall(pattern, metrics):
                up.setdefault(proxy, {})[server] = value == "1"
            if up and all(all(servers.values()) for servers in up.values()):
                break
            await asyncio.sleep(1)
        ready = ", ".join(
            f"{proxy} {sum(servers.values())}/{len(servers)}" for proxy, servers in up.items()
        )
        waited = time.monotonic() - started
        check(
            bool(up) and all(all(servers.values()) for servers in up.values()),
            f"HAProxy's checks see every replica up ({ready}; waited {waited:.0f} s)",
        )

        # USSD, as Africa's Talking posts it: hop by hop, the inputs joined with "*".
        print(f"USSD payment of code {ussd_bill.code[:3]}… through {url}/ussd/at?key=…")
        session_id = f"ATUid_{uuid.uuid4().hex}"
        inputs: list[str] = []

        async def hop(value: str | None) -> str:
            if value is not None:
                inputs.append(value)
            form = {"sessionId": session_id, "serviceCode": profile.ussd_service_code,
                    "phoneNumber": "+201001234567", "networkCode": "60201",
                    "text": "*".join(inputs)}  # fmt: skip
            async with http.post(f"{url}/ussd/at?key={key}", data=form) as response:
                body = await response.text()
                replica = response.headers.get(REPLICA_HEADER, "?")
                served.append(replica)
                first = body.splitlines()[0] if body else ""
                print(f"    {replica:9} {response.status} {first[:70]}")
                if response.status != 200:
                    raise AssertionError(f"USSD hop answered {response.status}: {body}")
                return body

        screen = await hop(None)
        for value in ("1", "2", ussd_bill.code):
            screen = await hop(value)
        for _ in range(5):  # the confirmation, paged with 99 when long
            if "\n1 " in screen and "لا يسترد" in screen:
                break
            screen = await hop("99")
        receipt = await hop("1")
        check(receipt.startswith("END تم الدفع"), "USSD receipt: END تم الدفع …")
        ussd_hops = list(served)
        check(len(set(ussd_hops)) == 2, "the session's hops were served by both gateways")

        # Chat: a WhatsApp message as Twilio relays it, signed over PUBLIC_BASE_URL.
        print(f"chat payment of code {chat_bill.code[:3]}… through {url}/chat/twilio (signed)")
        sender = f"whatsapp:+2010{uuid.uuid4().int % 10**8:08d}"

        async def say(body: str) -> tuple[str, list[str]]:
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                      "From": sender, "To": "whatsapp:+14155238886", "Body": body,
                      "NumMedia": "0"}  # fmt: skip
            signature = RequestValidator(token).compute_signature(
                os.environ["PUBLIC_BASE_URL"] + "/chat/twilio", params
            )
            headers = {"X-Twilio-Signature": signature}
            async with http.post(url + "/chat/twilio", data=params, headers=headers) as response:
                twiml = await response.text()
                replica = response.headers.get(REPLICA_HEADER, "?")
                served.append(replica)
                if response.status != 200:
                    raise AssertionError(f"chat answered {response.status}: {twiml}")
            messages = list(ET.fromstring(twiml).iter("Message"))
            answer = "\n".join(m.findtext("Body") or (m.text or "") for m in messages)
            media = [m.findtext("Media") or "" for m in messages if m.find("Media") is not None]
            shown = " / ".join(answer.split("\n"))
            print(f"    {replica:9} 200 > {body}\n              < {shown[:110]}")
            return answer, media

        ask, _ = await say("عايز أدفع الفاتورة")
        check("كود" in ask, "chat asks for the payment code")
        quote, _ = await say(chat_bill.code)
        check("لا يسترد" in quote, "chat quotes the amount, non-refundable")
        answer, media = await say("ايوه")
        check("تم الدفع" in answer, "chat receipt: تم الدفع …")
        if media:
            path = media[0][len(os.environ["PUBLIC_BASE_URL"]) :]
            async with http.get(url + path) as image:
                png = image.status == 200 and (await image.read())[:8] == b"\x89PNG\r\n\x1a\n"
            check(png, "receipt image served through HAProxy (PNG)")
        chat_hops = served[len(ussd_hops) :]

        # Behind the gateways: HAProxy's own counters (its Prometheus exporter) say which Rasa
        # and action server replicas the chat reached.
        async with http.get(stats) as response:
            metrics = await response.text()
        behind = {}
        for proxy in ("rasa", "actions"):
            pattern = rf'haproxy_server_sessions_total{{proxy="{proxy}",server="(\w+)"}} (\d+)'
            behind[proxy] = {server: int(n) for server, n in re.findall(pattern, metrics)}
            counts = ", ".join(f"{k}={v}" for k, v in sorted(behind[proxy].items()))
            print(f"  HAProxy {proxy} backend, requests per replica: {counts}")
        used = [server for server, n in behind["rasa"].items() if n]
        check(len(used) == 1, "the conversation stayed on one Rasa replica (sender hashed)")

    # The ledger, read from the host: one payment per channel, both bills settled.
    engine = create_engine(database_url())
    try:
        ledger = Ledger(session_factory(engine), profile)
        totals = await ledger.totals()
        async with session_factory(engine)() as s:
            rows = await s.execute(
                text("SELECT channel, count(*) FROM payments GROUP BY channel ORDER BY channel")
            )
            channels = {str(channel): int(count) for channel, count in rows}
        check(totals["payments"] == 2, f"ledger: {totals['payments']} payments {channels}")
        check(totals["paid_minor"] == totals["allocated_minor"], "ledger: paid == allocated")
        for demo in (ussd_bill, chat_bill):
            due = (await ledger.balance(code=demo.code))["amount_due_minor"]
            check(due == 0, f"code {demo.code[:3]}… has nothing left to pay")
    finally:
        await engine.dispose()

    def spread(hops: list[str]) -> str:
        return ", ".join(f"{r}={hops.count(r)}" for r in sorted(set(hops)))

    print(f"hops per gateway replica: USSD {len(ussd_hops)} ({spread(ussd_hops)}); "
          f"chat {len(chat_hops)} ({spread(chat_hops)})")  # fmt: skip
    print("payments: ok" if ok else "payments: FAILED")
    return 0 if ok else 1


# ---- listeners ---------------------------------------------------------------------------------


def listeners_command() -> int:
    """Every TCP socket a process of the stack listens on (host networking: they are the
    host's sockets) is on 127.0.0.1 or ::1; with each container's user, root filesystem and
    capabilities as Docker runs it."""
    pids: dict[str, str] = {}
    hardening: dict[str, str] = {}
    for service, cid in containers(running=True).items():
        for line in _docker("top", cid, "-eo", "pid").splitlines()[1:]:
            pids[line.strip()] = service
        info = json.loads(_docker("inspect", cid))[0]
        host = info["HostConfig"]
        user = info["Config"]["User"] or "root"
        root = "read-only" if host["ReadonlyRootfs"] else "writable"
        caps = "cap_drop=" + ",".join(host["CapDrop"] or ["-"])
        hardening[service] = f"user={user:<9} {root:9} {caps:12} net={host['NetworkMode']}"
    ss = subprocess.run(["ss", "-ltnpH"], check=True, capture_output=True, text=True).stdout
    found: dict[str, set[str]] = {}
    bad = []
    for line in ss.splitlines():
        local = line.split()[3]
        for pid in re.findall(r"pid=(\d+)", line):
            if pid in pids:
                found.setdefault(pids[pid], set()).add(local)
                if not (local.startswith("127.0.0.1:") or local.startswith("[::1]:")):
                    bad.append(f"{pids[pid]} listens on {local}")
    for service in sorted(hardening):
        sockets = " ".join(sorted(found.get(service, set())))
        print(f"  {service:18} {hardening[service]}  {sockets}")
    if bad or not found:
        print("\n".join(bad) or "no listening sockets found", file=sys.stderr)
        return 1
    print(f"every listening socket of {len(found)} containers is on loopback")
    return 0


def builder_command(out_dir: str, dockerfile: str) -> int:
    """The service of the derived compose file that carries the build of `dockerfile`."""
    data = json.loads(
        "\n".join(
            line
            for line in (Path(out_dir) / "compose.yaml").read_text().splitlines()
            if not line.startswith("#")
        )
    )
    for name, service in data["services"].items():
        if service.get("build", {}).get("dockerfile") == dockerfile:
            print(name)
            return 0
    print(f"no service builds {dockerfile}", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("secrets")
    sub.add_parser("compose").add_argument("out_dir")
    sub.add_parser("wait").add_argument("--timeout", type=float, default=600)
    sub.add_parser("drive")
    sub.add_parser("listeners")
    builder = sub.add_parser("builder")
    builder.add_argument("out_dir")
    builder.add_argument("dockerfile")
    args = parser.parse_args()
    if args.command == "secrets":
        return secrets_command()
    if args.command == "compose":
        return compose_command(args.out_dir)
    if args.command == "wait":
        return wait_command(args.timeout)
    if args.command == "builder":
        return builder_command(args.out_dir, args.dockerfile)
    if args.command == "drive":
        return asyncio.run(drive())
    return listeners_command()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
