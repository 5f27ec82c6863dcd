"""The host over TCP: an asyncio server that frames messages (2-byte length) around ``Host.handle``.

Many terminals at once, one event loop: each request is decided inline on the loop, so requests
are serialized exactly as the ledger wants them and there is no thread hop per message (a decision
is a few hundred microseconds of CPU; SQLite in WAL mode does not fsync per commit).

Graceful shutdown (SIGINT/SIGTERM for ``cardkit host serve``, :meth:`HostServer.stop` otherwise):
stop accepting, drop the connections that wait idle for their next request, let every request
already read finish and send its reply, then return so the caller closes the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from cardkit.errors import HostError
from pos_sim.host._errors import HostMessageError
from pos_sim.host._host import Host
from pos_sim.host.iso8583 import frame

__all__ = ["HostServer", "ServerThread", "run_server"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Connection:
    task: asyncio.Task[None]
    busy: bool = False
    peer: str = field(default="?")


class HostServer:
    """``Host`` behind ``asyncio.start_server``; :attr:`port` is the bound port after :meth:`start`."""

    def __init__(self, host: Host, bind: str = "127.0.0.1", port: int = 8583, *, grace: float = 30.0) -> None:
        self.host = host
        self.bind = bind
        self.port = port
        self.grace = grace
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._stopping = False
        self._stop: asyncio.Event | None = None

    async def start(self) -> None:
        self._stop = asyncio.Event()
        try:
            self._server = await asyncio.start_server(self._serve, self.bind, self.port)
        except OSError as exc:
            raise HostError(f"cannot listen on {self.bind}:{self.port}: {exc.strerror or exc}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("host listening on %s:%d", self.bind, self.port)

    def stop(self) -> None:
        """Ask for a graceful shutdown (call on the loop's thread; see ServerThread otherwise)."""
        if self._stop is not None:
            self._stop.set()

    async def serve(self) -> None:
        """Serve until :meth:`stop`, then shut down gracefully."""
        if self._server is None:
            await self.start()
        assert self._stop is not None and self._server is not None
        await self._stop.wait()
        self._stopping = True
        self._server.close()  # no new connections
        idle = [c for c in self._connections if not c.busy]
        for conn in idle:
            conn.task.cancel()
        busy = [c.task for c in self._connections if c.busy]
        log.info("host stopping: %d request(s) in flight, %d idle connection(s) closed", len(busy), len(idle))
        tasks = [c.task for c in self._connections]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace)
            for task in pending:
                task.cancel()
        await self._server.wait_closed()
        log.info("host stopped")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = _Connection(task, peer=str(writer.get_extra_info("peername")))
        self._connections.add(conn)
        faults = self.host.faults
        try:
            while not self._stopping:
                header = await reader.readexactly(2)
                conn.busy = True
                body = await reader.readexactly(struct.unpack(">H", header)[0])
                try:
                    reply = self.host.handle(body)
                except HostMessageError as exc:
                    log.info("%s sent something that is not a request (%s); closing", conn.peer, exc)
                    break
                lost = faults.take_lost_reply()
                if faults.delay:
                    await asyncio.sleep(faults.delay)
                if not lost:
                    writer.write(frame(reply))
                    await writer.drain()
                conn.busy = False
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the terminal hung up
        except asyncio.CancelledError:
            if conn.busy:
                raise
        finally:
            self._connections.discard(conn)
            writer.close()


def run_server(host: Host, bind: str = "127.0.0.1", port: int = 8583,
               on_ready: Callable[[HostServer], None] | None = None) -> None:
    """Serve in this (main) thread until SIGINT or SIGTERM; returns after a graceful shutdown."""

    async def main() -> None:
        server = HostServer(host, bind, port)
        await server.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        if on_ready is not None:
            on_ready(server)
        await server.serve()

    asyncio.run(main())


class ServerThread:
    """A :class:`HostServer` on a background thread (tests, benchmarks, an embedding terminal).

    ``with ServerThread(host) as server: TcpHostLink(server.url)``; leaving the block stops it
    gracefully. ``port=0`` picks a free port.
    """

    def __init__(self, host: Host, bind: str = "127.0.0.1", port: int = 0) -> None:
        self.server = HostServer(host, bind, port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cardkit-host", daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://{self.server.bind}:{self.server.port}"

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            try:
                await self.server.start()
            finally:
                self._ready.set()
            await self.server.serve()

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful shutdown; returns when in-flight requests have been answered."""
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.server.stop)
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
