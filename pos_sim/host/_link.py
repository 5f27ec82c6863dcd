"""How a terminal reaches the host: one ``exchange(fields) -> fields`` over a socket or in process.

The terminal codes against :class:`HostLink` only. A broken or silent link raises
:class:`HostTimeout` (the request may have been processed: send a reversal) or
:class:`HostUnavailable` (nothing was sent) — both are ``HostError``, which the EMV kernel reads as
"unable to go online".
"""

from __future__ import annotations

import logging
import select
import socket
import struct
from types import TracebackType
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from cardkit.errors import HostError
from pos_sim.host._errors import HostTimeout, HostUnavailable
from pos_sim.host._host import Host
from pos_sim.host.iso8583 import Fields, decode_message, encode_message, frame, response_mti

__all__ = ["DEFAULT_URL", "HostLink", "InProcessHostLink", "TcpHostLink", "open_host_link"]

log = logging.getLogger(__name__)

DEFAULT_URL = "tcp://127.0.0.1:8583"


@runtime_checkable
class HostLink(Protocol):
    """One request out, its response back (pyiso8583-style field dicts, see iso8583.py)."""

    def exchange(self, fields: Fields) -> Fields: ...


def _check_reply(request: Fields, reply: Fields) -> Fields:
    expected = response_mti(str(request["t"]))
    if reply.get("t") != expected or reply.get("11") != request.get("11"):
        raise HostError(f"the host answered MTI {reply.get('t')!s} STAN {reply.get('11')!s} to MTI "
                        f"{request['t']!s} STAN {request.get('11')!s}")
    return reply


class InProcessHostLink:
    """The host in this process: encode, ``host.handle``, decode — the same bytes as over TCP."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def exchange(self, fields: Fields) -> Fields:
        if self.host.faults.offline:
            raise HostUnavailable("the embedded host is switched offline")
        reply = self.host.handle(encode_message(fields))
        if self.host.faults.take_lost_reply():
            raise HostTimeout("no reply from the embedded host (lost on purpose)")
        return _check_reply(fields, decode_message(reply))

    def close(self) -> None:
        """Nothing to close; the host belongs to the caller."""

    def __enter__(self) -> InProcessHostLink:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class TcpHostLink:
    """A blocking TCP connection to ``cardkit host serve``; opened on first use.

    A connection the server closed while idle is noticed before sending and reopened once. Once a
    request has left, a broken connection is a :class:`HostTimeout` and is NOT retried: the host
    may have posted it, and only a reversal may settle that.
    """

    def __init__(self, url: str = DEFAULT_URL, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
            raise HostError(f"host URL {url!r} is not tcp://HOST:PORT")
        self.address = (parts.hostname, parts.port)
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def __repr__(self) -> str:
        return f"TcpHostLink('tcp://{self.address[0]}:{self.address[1]}', timeout={self.timeout})"

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except TimeoutError:
            raise HostUnavailable(f"no connection to the host at {self.address[0]}:{self.address[1]} in "
                                  f"{self.timeout:g} s") from None
        except OSError as exc:
            raise HostUnavailable(f"cannot reach the host at {self.address[0]}:{self.address[1]}: "
                                  f"{exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _live(self) -> socket.socket:
        """The open connection, or a new one when there is none or the server closed it."""
        sock = self._sock
        if sock is not None:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # an idle connection has nothing to read unless it was closed
                log.info("host connection closed by the server; reconnecting")
                self.close()
                sock = None
        if sock is None:
            sock = self._sock = self._connect()
        return sock

    def exchange(self, fields: Fields) -> Fields:
        data = frame(encode_message(fields))
        sock = self._live()
        try:
            sock.sendall(data)
        except OSError:
            self.close()
            sock = self._live()  # the one reconnect: nothing of this request reached the host
            try:
                sock.sendall(data)
            except OSError as exc:
                self.close()
                raise HostUnavailable(f"cannot send to the host: {exc}") from None
        try:
            header = self._read(sock, 2)
            reply = self._read(sock, struct.unpack(">H", header)[0])
        except HostTimeout:
            self.close()
            raise
        except OSError:  # TimeoutError included
            self.close()  # a late reply must not be read as the answer to the next request
            raise HostTimeout(f"no reply from the host in {self.timeout:g} s") from None
        return _check_reply(fields, decode_message(reply))

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise HostTimeout("the host closed the connection before answering")
            buf += chunk
        return bytes(buf)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> TcpHostLink:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def open_host_link(url: str | None, host: Host | None = None) -> HostLink:
    """``None`` or ``"embedded"``: the in-process host (``host``, else a fresh in-memory demo host
    with the demo accounts); ``"tcp://HOST:PORT"``: :class:`TcpHostLink`.

    Raises:
        HostError: any other URL.
    """
    if url is None or url == "embedded":
        if host is None:
            host = Host()
            host.seed_demo_accounts()
        return InProcessHostLink(host)
    if url.startswith("tcp://"):
        return TcpHostLink(url)
    raise HostError(f"host {url!r}: give 'embedded' or tcp://HOST:PORT")

