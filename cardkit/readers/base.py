"""The two abstractions every backend implements: a ``Reader`` and a ``Connection`` to its card.

A backend only moves bytes (STYLE.md §2-3): ``Connection._transmit`` turns a C-APDU into an R-APDU.
Timing, tracing and hooks live once in the public ``Connection.transmit``; GET RESPONSE, 6Cxx, chaining
and status-word checks live once in :class:`cardkit.readers.channel.CardChannel`.
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from cardkit.errors import TransportError

if TYPE_CHECKING:
    from cardkit.readers.trace import Tracer

__all__ = ["CardLike", "Connection", "ExchangeHook", "Reader", "ReaderInfo", "normalize_protocol"]

log = logging.getLogger(__name__)

#: Called after every exchange: ``hook(capdu, rapdu, elapsed_seconds)``. Sees unredacted bytes.
ExchangeHook = Callable[[bytes, bytes, float], None]

_PROTOCOLS = {"T0": "T0", "T=0": "T0", "t0": "T0", "T1": "T1", "T=1": "T1", "t1": "T1"}


def normalize_protocol(protocol: str | None) -> str | None:
    """``"T0"``/``"T=0"`` → ``"T0"``, ``"T1"``/``"T=1"`` → ``"T1"``, ``None``/``"any"`` → ``None``.

    Raises:
        TransportError: anything else.
    """
    if protocol is None or protocol.lower() == "any":
        return None
    try:
        return _PROTOCOLS[protocol]
    except KeyError:
        raise TransportError(f"unknown protocol {protocol!r}: use T0, T1 or any") from None


@runtime_checkable
class CardLike(Protocol):
    """What the virtual and vpcd backends need from a card (``applets.runtime.SimulatedCard`` fits)."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes: ...

    def reset(self) -> bytes: ...

    def power_off(self) -> None: ...

    def transmit(self, capdu: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    """One line of :func:`cardkit.readers.list_readers`."""

    name: str
    backend: str
    has_card: bool
    atr: bytes | None


class Connection(abc.ABC):
    """An open session with the card in a reader. Use it as a context manager.

    Subclasses implement ``_transmit`` (bytes in, bytes out), ``_reconnect`` and ``_close``.
    """

    def __init__(self, reader_name: str, protocol: str) -> None:
        self.reader_name = reader_name
        self._protocol = protocol
        self.tracers: list[Tracer] = []
        self.hooks: list[ExchangeHook] = []
        self._closed = False

    # ---------------------------------------------------------------- public, backend-independent
    @property
    @abc.abstractmethod
    def atr(self) -> bytes:
        """The ATR of the card as last powered or reset."""

    @property
    def protocol(self) -> str:
        """The negotiated transmission protocol: ``"T0"`` or ``"T1"``."""
        return self._protocol

    @property
    def closed(self) -> bool:
        return self._closed

    def add_tracer(self, tracer: Tracer) -> None:
        """Attach a tracer (idempotent): it sees every exchange on this connection, redacted."""
        if tracer not in self.tracers:
            self.tracers.append(tracer)

    def transmit(self, capdu: bytes, *, sensitive: bool = False) -> bytes:
        """Send one C-APDU as is and return the R-APDU (data || SW1 SW2).

        Args:
            capdu: the command bytes; nothing is added, removed or retried here.
            sensitive: mask the command and response data in traces (PIN and key commands are
                masked anyway, see :func:`cardkit.readers.trace.masked_range`).

        Raises:
            TransportError: the connection is closed, the card went away, or the backend failed.
        """
        if self._closed:
            raise TransportError(f"connection to {self.reader_name!r} is closed")
        for t in self.tracers:
            t.command(capdu, sensitive=sensitive)
        start = time.perf_counter()
        try:
            rapdu = self._transmit(bytes(capdu))
        except BaseException as exc:
            elapsed = time.perf_counter() - start
            for t in self.tracers:
                t.failed(exc, elapsed=elapsed)
            raise
        elapsed = time.perf_counter() - start
        if len(rapdu) < 2:
            raise TransportError(f"reader {self.reader_name!r} returned {len(rapdu)} bytes, no status word")
        for t in self.tracers:
            t.response(rapdu, elapsed=elapsed, sensitive=sensitive)
        for hook in self.hooks:
            hook(capdu, rapdu, elapsed)
        return rapdu

    def reconnect(self, reset: bool = True) -> bytes:
        """Reconnect to the card; with ``reset`` the card is warm-reset. Returns the ATR."""
        if self._closed:
            raise TransportError(f"connection to {self.reader_name!r} is closed")
        return self._reconnect(reset)

    def close(self) -> None:
        """Release the card (idempotent)."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------ backend hooks
    @abc.abstractmethod
    def _transmit(self, capdu: bytes) -> bytes:
        """Move the bytes: C-APDU out, R-APDU back. Nothing else."""

    @abc.abstractmethod
    def _reconnect(self, reset: bool) -> bytes: ...

    @abc.abstractmethod
    def _close(self) -> None: ...


class Reader(abc.ABC):
    """A slot that may hold a card."""

    backend: str = "?"

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    def has_card(self) -> bool:
        """True when a card is present (and powered or powerable)."""

    @abc.abstractmethod
    def atr(self) -> bytes | None:
        """The ATR of the present card, or ``None`` when empty."""

    @abc.abstractmethod
    def wait_for_card(self, timeout: float | None = None) -> None:
        """Block until a card is present.

        Raises:
            NoCardError: none arrived within ``timeout`` seconds (``None`` waits forever).
        """

    @abc.abstractmethod
    def wait_for_removal(self, timeout: float | None = None) -> None:
        """Block until the reader is empty.

        Raises:
            TransportError: the card was still there after ``timeout`` seconds.
        """

    @abc.abstractmethod
    def connect(self, protocol: str | None = None) -> Connection:
        """Power the card and open a connection.

        Args:
            protocol: ``"T0"``, ``"T1"`` or ``None`` for whatever the card and reader agree on.

        Raises:
            NoCardError: the reader is empty.
            TransportError: the protocol is not offered by the card, or the reader failed.
        """

    def info(self) -> ReaderInfo:
        return ReaderInfo(self.name, self.backend, self.has_card(), self.atr())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
