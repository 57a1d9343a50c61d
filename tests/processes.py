"""Real processes for tests that kill them: the billing backend, the Twilio stand-in, the
messaging workers, HAProxy. Each is `python -m <module> ...` with its own environment, started and
awaited asynchronously, and killed with SIGKILL when a test says so."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import LedgerWorld


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """`python -m <module> <args>`; `health_url`, when given, is polled until it answers 200."""

    def __init__(
        self,
        module: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ):
        self.argv = [sys.executable, "-m", module, *args]
        self.env = dict(env or {})
        self.log = log  # where its output goes (nowhere by default)
        self.process: subprocess.Popen[bytes] | None = None

    async def start(
        self, health_url: str | None = None, wait_s: float = 15.0, **extra_env: str
    ) -> None:
        # Popen only forks; the waiting below is asynchronous.
        output = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self.argv,
            env={**os.environ, **self.env, **extra_env},
            stdout=output,
            stderr=output,
        )
        if not isinstance(output, int):
            output.close()  # the child has its own copy
        if health_url is None:
            return
        async with aiohttp.ClientSession() as session:
            for _ in range(int(wait_s / 0.05)):
                try:
                    async with session.get(health_url) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{' '.join(self.argv[:3])} did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_dead(self) -> int:
        assert self.process is not None
        for _ in range(200):
            code = self.process.poll()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.argv[2]} should have died")

    def stop(self) -> None:
        if self.alive():
            self.kill()


class RasaProcess(ServiceProcess):
    """`rasa run` from the Rasa environment (.venv-rasa) with the trained model."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None, log: Path | None = None):
        super().__init__("rasa", env=env, log=log)
        root = Path(__file__).resolve().parents[1]
        self.argv = [str(root / ".venv-rasa" / "bin" / "rasa"), "run", *args]


class BackendProcess(ServiceProcess):
    """`python -m billing serve` as its own process, on a given ledger."""

    def __init__(self, world: LedgerWorld):
        self.world = world
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            "billing",
            "serve",
            env={
                "TASDEED_PROFILE": world.profile.id,
                "DATABASE_URL": world.database.url,
                "BILLING_PORT": str(self.port),
            },
        )

    async def start(
        self, health_url: str | None = None, wait_s: float = 15.0, **extra_env: str
    ) -> None:
        await super().start(health_url or self.url + "/health", **extra_env)


class HaproxyProcess:
    """HAProxy (Debian's package) in the foreground with a test's configuration."""

    def __init__(self, config: Path):
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(binary).exists():
            pytest.fail("haproxy is not installed: run scripts/ensure-haproxy.sh (make test does)")
        check = subprocess.run([binary, "-c", "-f", str(self.config)], capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr
        # -db: stay in the foreground, so the test owns the process.
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
