"""A small TCP proxy for fault tests, in the spirit of toxiproxy: it listens on
127.0.0.1:<free port>, forwards every connection to an upstream on 127.0.0.1, and does to
the bytes in between what the test says, switched while connections are live:

- `pass`: forward everything (plus `latency_s` per chunk, in any mode);
- `drop`: accept new connections and close them at once (live ones go on);
- `stall`: hold every chunk `seconds` before forwarding it (new and live connections); the
  held bytes are still delivered afterwards, even when the sender gave up meanwhile, as
  packets in flight are: a request can reach the server after its client timed out;
- `reset`: send RST on every live connection (SO_LINGER 0, then close) and on every new one;
- `cut`: let `after_bytes` bytes through per connection and direction, then close both
  sides (the rest is lost).

`direction` limits stall and cut to requests (`up`: client → upstream), answers (`down`) or
both. `stats` counts what happened to real connections, so a soak can tell the faults that
hit something from the ones that found the line idle.

    proxy = TcpProxy(upstream_port=5432)
    await proxy.start()            # proxy.port is where clients connect
    proxy.set(Fault(Mode.STALL, seconds=2.0, direction="down"))
    proxy.reset_live()             # RST everything that is open now
    proxy.set(Fault())             # back to pass
    await proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Direction = Literal["up", "down", "both"]
CHUNK = 64 * 1024


class Mode(StrEnum):
    PASS = "pass"
    DROP = "drop"
    STALL = "stall"
    RESET = "reset"
    CUT = "cut"


@dataclass(frozen=True, slots=True)
class Fault:
    """What the proxy does now; `Fault()` is a clean line."""

    mode: Mode = Mode.PASS
    seconds: float = 0.0  # stall: how long each chunk is held
    after_bytes: int = 0  # cut: bytes let through per connection and direction
    direction: Direction = "both"  # stall and cut: which way

    def applies(self, direction: Literal["up", "down"]) -> bool:
        return self.direction in ("both", direction)


@dataclass(slots=True)
class ProxyStats:
    connections: int = 0  # accepted
    upstream_refused: int = 0  # accepted, but the upstream did not answer the connect
    dropped: int = 0  # new connections closed at once (drop)
    reset: int = 0  # connections ended with RST (reset, reset_live)
    cut: int = 0  # connections cut after some bytes
    stalled: int = 0  # connections that had bytes held (once per connection and fault)
    bytes_up: int = 0
    bytes_down: int = 0

    @property
    def hits(self) -> int:
        """Connections a fault really did something to."""
        return self.dropped + self.reset + self.cut + self.stalled


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: SO_LINGER on, timeout 0, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    sent: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    stalled_in: int = -1  # the fault generation this link was last counted as stalled in
    closed: bool = False

    def close(self, *, rst: bool = False, flush: bool = False) -> None:
        """End both sides: RST, a plain close that first sends what is buffered (`flush`,
        after a clean end of stream), or at once (a fault)."""
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.upstream):
            if writer is None:
                continue
            if rst:
                _rst(writer)
            elif flush:
                writer.close()
            else:
                writer.transport.abort()


class TcpProxy:
    """One listening port in front of one upstream port, both on 127.0.0.1."""

    def __init__(self, upstream_port: int, *, listen_port: int = 0, host: str = "127.0.0.1"):
        self.host = host
        self.upstream_port = upstream_port
        self.listen_port = listen_port
        self.fault = Fault()
        self.latency_s = 0.0
        self.stats = ProxyStats()
        self._generation = 0
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def live(self) -> int:
        return len(self._links)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # ---- switching ------------------------------------------------------------------------

    def set(self, fault: Fault | None = None) -> None:
        """Switch to `fault` (None or no argument: pass). `reset` also RSTs what is open."""
        self.fault = fault or Fault()
        self._generation += 1
        if self.fault.mode is Mode.RESET:
            self.reset_live()

    def reset_live(self) -> int:
        """RST every live connection now; returns how many."""
        links = [link for link in self._links if not link.closed]
        for link in links:
            link.close(rst=True)
        self.stats.reset += len(links)
        return len(links)

    # ---- forwarding -----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        mode = self.fault.mode
        if mode is Mode.DROP:
            self.stats.dropped += 1
            writer.transport.abort()
            return
        if mode is Mode.RESET:
            self.stats.reset += 1
            _rst(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            self.stats.upstream_refused += 1
            self._links.discard(link)
            link.close()
            return
        link.upstream = up_writer
        if link.closed:  # reset while connecting
            up_writer.transport.abort()
            self._links.discard(link)
            return
        self._spawn(self._pump(link, reader, up_writer, "up"))
        self._spawn(self._pump(link, up_reader, writer, "down"))

    async def _pump(
        self,
        link: _Link,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        direction: Literal["up", "down"],
    ) -> None:
        clean = False
        try:
            while True:
                data = await source.read(CHUNK)
                if not data:
                    clean = True
                    break
                if self.latency_s > 0:
                    await asyncio.sleep(self.latency_s)
                fault = self.fault
                if fault.mode is Mode.STALL and fault.applies(direction) and fault.seconds > 0:
                    if link.stalled_in != self._generation:
                        link.stalled_in = self._generation
                        self.stats.stalled += 1
                    await asyncio.sleep(fault.seconds)
                    fault = self.fault
                if fault.mode is Mode.CUT and fault.applies(direction):
                    room = max(0, fault.after_bytes - link.sent[direction])
                    if room < len(data):
                        if room:
                            sink.write(data[:room])
                            with contextlib.suppress(ConnectionError):
                                await sink.drain()
                        if not link.closed:
                            self.stats.cut += 1
                        break
                if link.closed:
                    break
                sink.write(data)
                await sink.drain()
                link.sent[direction] += len(data)
                if direction == "up":
                    self.stats.bytes_up += len(data)
                else:
                    self.stats.bytes_down += len(data)
        except (ConnectionError, OSError):
            pass
        finally:
            link.close(flush=clean)
            self._links.discard(link)
