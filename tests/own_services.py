"""Throwaway Redis and PostgreSQL servers of a test's own, on free ports of 127.0.0.1, so that
killing and restarting them disturbs nothing else on the machine (the shared 5432 and 6379
serve other tests at the same time).

- `OwnRedis`: `redis-server --save "" --appendonly no`; `kill()` is SIGKILL (everything in it
  is lost, as the design expects of Redis), `start()` brings it back on the same port.
- `OwnPostgres`: a cluster made with `initdb` in a temporary folder (as the `postgres` user
  when we are root: PostgreSQL refuses to run as root), started with `pg_ctl`; `restart()`
  is `pg_ctl restart -m fast`, `crash()` is `pg_ctl stop -m immediate` (every server
  process quits at once, without a checkpoint: the next start runs crash recovery).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int, probe: bytes, expect: bytes, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(probe)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


class OwnRedis:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--loglevel", "warning"]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(self.port, b"PING\r\n", b"+PONG"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        self.kill()


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) found")
    return Path(initdb).parent


class OwnPostgres:
    """A PostgreSQL cluster of our own; `url(db)` is the SQLAlchemy asyncpg URL."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="tasdeed-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.restarts = 0
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        # Never pipes: the server pg_ctl starts would hold them open and this would hang.
        with open(self.root / "pg_ctl.out", "ab") as out:
            return subprocess.run(command, check=check, stdout=out, stderr=out, timeout=120)

    def dsn(self, database: str = "postgres") -> str:
        """For asyncpg."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str = "postgres") -> str:
        """For SQLAlchemy (billing.db.create_engine)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale", "C", "--no-sync")  # fmt: skip
        self.start()

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                  "-t", "60", "start")  # fmt: skip

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: sessions are ended, the server comes back on the port."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart"
        )
        self.restarts += 1

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: like a power cut for the server's processes."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def crash_and_start(self) -> None:
        self.crash()
        self.start()
        self.restarts += 1

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
