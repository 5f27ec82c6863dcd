"""PC/SC readers through pyscard's low-level ``smartcard.scard`` API (real readers and pcscd's vpcd).

The low-level API skips pyscard's observer and decorator layers: one ``SCardTransmit`` per APDU.
Every PC/SC failure becomes a :mod:`cardkit.errors` exception that says what to do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from cardkit.errors import NoCardError, ReaderNotFoundError, TransportError
from cardkit.readers.base import Connection, Reader, ReaderInfo, normalize_protocol

__all__ = ["PcscConnection", "PcscReader", "list_pcsc_readers", "pcsc_available"]

log = logging.getLogger(__name__)

try:  # pyscard is the optional extra cardkit[pcsc]
    from smartcard import scard as _scard
except ImportError:  # pragma: no cover - exercised only without pyscard
    _scard = None

_NO_SERVICE_HINT = ("PC/SC service not available: start pcscd ('sudo systemctl start pcscd', or "
                    "'pcscd --foreground' in another terminal; the test suite starts its own)")
_E_NO_SERVICE = 0x8010001D
_E_SERVICE_STOPPED = 0x8010001E
_E_NO_READERS = 0x8010002E
_E_TIMEOUT = 0x8010000A
_E_NO_SMARTCARD = 0x8010000C
_E_PROTO_MISMATCH = 0x8010000F
_E_UNKNOWN_READER = 0x80100009
_E_READER_UNAVAILABLE = 0x80100017
_E_INVALID_HANDLE = 0x80100003
_W_UNRESPONSIVE = 0x80100066
_W_UNPOWERED = 0x80100067
_W_RESET = 0x80100068
_W_REMOVED = 0x80100069
_SERVICE_GONE = {_E_NO_SERVICE, _E_SERVICE_STOPPED, _E_INVALID_HANDLE}
_INFINITE = 0xFFFFFFFF
_POLL_SLICE_MS = 1000  # wake regularly so a pcscd restart is noticed while waiting


def pcsc_available() -> bool:
    """True when pyscard is importable (whether pcscd runs is another matter)."""
    return _scard is not None


def _api() -> Any:
    if _scard is None:
        raise TransportError("pyscard is not installed: pip install 'cardkit[pcsc]'")
    return _scard


def _message(hr: int) -> str:
    try:
        return f"{_api().SCardGetErrorMessage(hr)} (0x{hr & 0xFFFFFFFF:08X})"
    except Exception:  # noqa: BLE001
        return f"PC/SC error 0x{hr & 0xFFFFFFFF:08X}"


def _fail(hr: int, what: str, reader: str | None = None) -> TransportError:
    """Turn a PC/SC result code into the cardkit error that tells the user what to do."""
    hr &= 0xFFFFFFFF
    if hr in (_E_NO_SERVICE, _E_SERVICE_STOPPED):
        return TransportError(_NO_SERVICE_HINT)
    if reader is not None and hr in (_E_NO_SMARTCARD, _W_REMOVED):
        return NoCardError(f"no card in reader {reader!r}: start one with 'cardkit emulate CARD' "
                           f"or insert a card")
    if reader is not None and hr == _W_UNRESPONSIVE:
        return NoCardError(f"the card in reader {reader!r} does not answer (mute): reinsert it")
    if reader is not None and hr in (_E_UNKNOWN_READER, _E_READER_UNAVAILABLE):
        return ReaderNotFoundError(f"reader {reader!r} is gone: {_message(hr)}")
    return TransportError(f"{what}: {_message(hr)}")


class _Context:
    """An SCARDCONTEXT that re-establishes itself after pcscd restarts."""

    def __init__(self) -> None:
        self._h: Any = None

    @property
    def handle(self) -> Any:
        if self._h is None:
            api = _api()
            hr, h = api.SCardEstablishContext(api.SCARD_SCOPE_USER)
            if hr != 0:
                raise _fail(hr, "cannot reach PC/SC")
            self._h = h
        return self._h

    def invalidate(self) -> None:
        h, self._h = self._h, None
        if h is not None:
            try:
                _api().SCardReleaseContext(h)
            except Exception:  # releasing a context of a dead daemon may fail
                log.debug("SCardReleaseContext failed", exc_info=True)

    def reader_names(self) -> list[str]:
        hr, names = _api().SCardListReaders(self.handle, [])
        if hr in _SERVICE_GONE:
            self.invalidate()
            hr, names = _api().SCardListReaders(self.handle, [])
        if hr == _E_NO_READERS:
            return []
        if hr != 0:
            raise _fail(hr, "cannot list PC/SC readers")
        return list(names)

    def state(self, reader: str, current: int, timeout_ms: int) -> tuple[int, int, bytes]:
        """One SCardGetStatusChange on one reader: ``(hresult, event state, ATR)``."""
        hr, states = _api().SCardGetStatusChange(self.handle, timeout_ms, [(reader, current)])
        if hr != 0:
            return hr, current, b""
        _, event, atr = states[0]
        return 0, event, bytes(atr)


def list_pcsc_readers() -> list[ReaderInfo]:
    """Every PC/SC reader with its card state and ATR.

    Raises:
        TransportError: pcscd is not running (or pyscard is missing).
    """
    ctx = _Context()
    try:
        out = []
        api = _api()
        for name in ctx.reader_names():
            hr, event, atr = ctx.state(name, api.SCARD_STATE_UNAWARE, 0)
            present = hr == 0 and bool(event & api.SCARD_STATE_PRESENT)
            out.append(ReaderInfo(name, "pcsc", present, atr if present and atr else None))
        return out
    finally:
        ctx.invalidate()


def _resolve(spec: str, names: list[str]) -> str:
    if spec in names:
        return spec
    if spec.isdigit() and int(spec) < len(names):
        return names[int(spec)]
    hits = [n for n in names if spec.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    listing = listing or "none (is a reader plugged in, or vpcd installed?)"
    if len(hits) > 1:
        raise ReaderNotFoundError(f"reader {spec!r} is ambiguous; readers: {listing}")
    raise ReaderNotFoundError(f"no PC/SC reader matches {spec!r}; readers: {listing}")


class PcscReader(Reader):
    """A PC/SC reader, named exactly, by index (``"0"``) or by a unique part of its name.

    Raises:
        TransportError: pcscd is not running.
        ReaderNotFoundError: nothing matches ``spec`` (the message lists the readers there are).
    """

    backend = "pcsc"

    def __init__(self, spec: str) -> None:
        self._ctx = _Context()
        super().__init__(_resolve(spec, self._ctx.reader_names()))

    def _status(self, timeout_ms: int = 0, current: int | None = None) -> tuple[int, int, bytes]:
        api = _api()
        hr, event, atr = self._ctx.state(self.name, api.SCARD_STATE_UNAWARE if current is None else current, timeout_ms)
        if hr in _SERVICE_GONE:  # pcscd restarted: a fresh context, then one more try
            self._ctx.invalidate()
            hr, event, atr = self._ctx.state(self.name, api.SCARD_STATE_UNAWARE, timeout_ms)
        return hr, event, atr

    def has_card(self) -> bool:
        hr, event, _ = self._status()
        if hr != 0:
            raise _fail(hr, f"cannot read the state of {self.name!r}", self.name)
        return bool(event & _api().SCARD_STATE_PRESENT)

    def atr(self) -> bytes | None:
        hr, event, atr = self._status()
        if hr != 0:
            raise _fail(hr, f"cannot read the state of {self.name!r}", self.name)
        return atr if event & _api().SCARD_STATE_PRESENT and atr else None

    def _wait(self, want_present: bool, timeout: float | None) -> bool:
        api = _api()
        deadline = None if timeout is None else time.monotonic() + timeout
        current = api.SCARD_STATE_UNAWARE
        while True:
            remaining = _POLL_SLICE_MS if deadline is None else int(max(0.0, deadline - time.monotonic()) * 1000)
            hr, event, _ = self._status(min(remaining, _POLL_SLICE_MS), current)
            if hr == 0:
                if bool(event & api.SCARD_STATE_PRESENT) == want_present:
                    return True
                current = event & ~api.SCARD_STATE_CHANGED
            elif hr in _SERVICE_GONE:
                time.sleep(0.05)  # pcscd is restarting
                current = api.SCARD_STATE_UNAWARE
            elif hr != _E_TIMEOUT:
                raise _fail(hr, f"cannot watch reader {self.name!r}", self.name)
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def wait_for_card(self, timeout: float | None = None) -> None:
        if not self._wait(True, timeout):
            raise NoCardError(f"no card in reader {self.name!r} after {timeout} s: start one with "
                              f"'cardkit emulate CARD' or insert a card")

    def wait_for_removal(self, timeout: float | None = None) -> None:
        if not self._wait(False, timeout):
            raise TransportError(f"the card is still in reader {self.name!r} after {timeout} s")

    def connect(self, protocol: str | None = None) -> PcscConnection:
        return PcscConnection(self, normalize_protocol(protocol))

    def close(self) -> None:
        self._ctx.invalidate()

    def __del__(self) -> None:
        try:
            self._ctx.invalidate()
        except Exception:  # noqa: BLE001, S110 - never raise from __del__
            pass


class PcscConnection(Connection):
    """A shared-mode connection to the card in a PC/SC reader."""

    def __init__(self, reader: PcscReader, protocol: str | None) -> None:
        api = _api()
        self._reader = reader
        self._ctx = _Context()  # our own context: the connection outlives reader polls
        self._protocols = {None: api.SCARD_PROTOCOL_T0 | api.SCARD_PROTOCOL_T1,
                           "T0": api.SCARD_PROTOCOL_T0, "T1": api.SCARD_PROTOCOL_T1}[protocol]
        hr, self._card, active = api.SCardConnect(self._ctx.handle, reader.name, api.SCARD_SHARE_SHARED,
                                                  self._protocols)
        if hr & 0xFFFFFFFF == _E_PROTO_MISMATCH:
            # The card may still run the protocol an earlier session negotiated: a warm reset lets
            # PC/SC negotiate again. Only if the ATR does not offer the protocol is it a real mismatch.
            hr, active = self._connect_with_reset(reader.name)
            if hr & 0xFFFFFFFF == _E_PROTO_MISMATCH:
                self._ctx.invalidate()
                raise TransportError(f"the card in {reader.name!r} does not offer {protocol} "
                                     f"(its ATR decides): connect with another protocol or 'any'")
        if hr != 0:
            self._ctx.invalidate()
            raise _fail(hr, f"cannot connect to the card in {reader.name!r}", reader.name)
        super().__init__(reader.name, self._set_protocol(active))
        self._atr = self._read_atr()
        log.debug("connected to %r, %s, ATR %s", reader.name, self.protocol, self._atr.hex())

    def _connect_with_reset(self, name: str) -> tuple[int, int]:
        api = _api()
        hr, self._card, active = api.SCardConnect(self._ctx.handle, name, api.SCARD_SHARE_SHARED,
                                                  api.SCARD_PROTOCOL_T0 | api.SCARD_PROTOCOL_T1)
        if hr != 0:
            return hr, active
        log.info("resetting the card in %r to negotiate another protocol", name)
        hr, active = api.SCardReconnect(self._card, api.SCARD_SHARE_SHARED, self._protocols, api.SCARD_RESET_CARD)
        if hr != 0:
            api.SCardDisconnect(self._card, api.SCARD_LEAVE_CARD)
        return hr, active

    def _set_protocol(self, active: int) -> str:
        api = _api()
        if active == api.SCARD_PROTOCOL_T0:
            self._pci = api.SCARD_PCI_T0
            return "T0"
        self._pci = api.SCARD_PCI_T1
        return "T1"

    def _read_atr(self) -> bytes:
        hr, _name, _state, _proto, atr = _api().SCardStatus(self._card)
        if hr != 0:
            raise _fail(hr, f"cannot read the ATR in {self.reader_name!r}", self.reader_name)
        return bytes(atr)

    @property
    def atr(self) -> bytes:
        return self._atr

    def _transmit(self, capdu: bytes) -> bytes:
        hr, response = _api().SCardTransmit(self._card, self._pci, list(capdu))
        if hr == 0:
            return bytes(response)
        hr &= 0xFFFFFFFF
        if hr == _W_REMOVED:
            raise NoCardError(f"the card was removed from {self.reader_name!r} during the command")
        if hr == _W_RESET:
            raise TransportError(f"another program reset the card in {self.reader_name!r}: reconnect")
        raise _fail(hr, f"SCardTransmit to {self.reader_name!r} failed", self.reader_name)

    def _reconnect(self, reset: bool) -> bytes:
        api = _api()
        init = api.SCARD_RESET_CARD if reset else api.SCARD_LEAVE_CARD
        hr, active = api.SCardReconnect(self._card, api.SCARD_SHARE_SHARED, self._protocols, init)
        if hr != 0:
            raise _fail(hr, f"cannot reconnect to the card in {self.reader_name!r}", self.reader_name)
        self._protocol = self._set_protocol(active)
        self._atr = self._read_atr()
        return self._atr

    def _close(self) -> None:
        try:
            _api().SCardDisconnect(self._card, _api().SCARD_LEAVE_CARD)
        finally:
            self._ctx.invalidate()
