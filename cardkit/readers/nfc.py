"""NFC readers through nfcpy: poll ISO 14443 A and B, activate ISO-DEP, move APDUs.

Reader names (one parser, :func:`parse_nfc_name`, shared with the card side)::

    nfc:usb                  the first nfcpy-supported USB reader
    nfc:usb:VID:PID          a given USB reader (4-digit hex ids, e.g. nfc:usb:054c:06c3)
    nfc:tty:PORT[:DRIVER]    a serial reader on /dev/ttyPORT (e.g. nfc:tty:USB0:pn532)
    nfc:udp:HOST:PORT        nfcpy's simulated link over UDP (``cardkit emulate CARD --nfc udp:…``)

Activation follows ISO 14443-3 (REQA, anticollision, SELECT; REQB/ATTRIB for type B) and ISO 14443-4
§5 (RATS → ATS). APDUs travel in ISO 14443-4 §7 blocks through nfcpy's ``IsoDepInitiator``, which does
block numbering, chaining both ways, R(NAK) retries and S(WTX). This backend only moves bytes.

The connection's ATR is the one PC/SC part 3 §3.1.3.2.3 defines for contactless cards:
``3B 8n 80 01 <historical bytes> TCK`` — for type A the ATS historical bytes; for type B the ATQB
application data (4), protocol info (3) and an MBLI byte (sent as 00: nfcpy keeps no ATTRIB answer).

nfcpy is optional (``pip install 'cardkit[nfc]'``) and imported on first use.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from cardkit.errors import NoCardError, ReaderNotFoundError, TransportError
from cardkit.readers.base import Connection, Reader, normalize_protocol

__all__ = ["NfcConnection", "NfcPath", "NfcReader", "contactless_atr", "import_nfc", "parse_nfc_name"]

log = logging.getLogger(__name__)

_FSC = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # FSCI/FSDI → frame size (ISO 14443-4 §5.2.3, §5.1)
_CARRIER = 13.56e6
_RATS = 0xE0
_DESELECT = b"\xC2"  # S(DESELECT) without CID (ISO 14443-4 §7.1.1.1, §8)
#: The field stays off this long after a session before the next poll: ISO 14443-3 §6.1 asks for at
#: least 5 ms of reset; over UDP it also gives the card time to listen again (else a poll is lost: 1 s).
FIELD_RESET = 0.01
_HINT = "use nfc:usb[:VID:PID], nfc:tty:PORT[:DRIVER] or nfc:udp:HOST:PORT"


def import_nfc() -> Any:
    """The ``nfc`` package (nfcpy), imported on first use.

    Raises:
        TransportError: nfcpy is not installed.
    """
    try:
        import nfc
        import nfc.clf
        import nfc.tag.tt4
    except ImportError as exc:
        raise TransportError(f"NFC needs nfcpy: pip install 'cardkit[nfc]' ({exc})") from None
    return nfc


@dataclass(frozen=True, slots=True)
class NfcPath:
    """A parsed NFC device name: ``kind`` is ``usb``, ``tty`` or ``udp``; ``nfcpy`` is nfcpy's path."""

    kind: str
    nfcpy: str
    host: str = ""
    port: int = 0


def parse_nfc_name(name: str) -> NfcPath:
    """Parse ``nfc:usb[:VID:PID]``, ``nfc:tty:PORT[:DRIVER]``, ``nfc:udp:HOST:PORT`` (``nfc:`` optional).

    Raises:
        ReaderNotFoundError: anything else (the message lists the valid forms).
    """
    parts = name.split(":")
    if parts[0] == "nfc":
        parts = parts[1:]
    kind, args = (parts[0], parts[1:]) if parts else ("", [])
    if kind == "usb" and len(args) in (0, 2) and all(len(a) == 4 and _is_hex(a) for a in args):
        return NfcPath("usb", ":".join(["usb", *args]))
    if kind == "tty" and len(args) in (1, 2) and all(args):
        return NfcPath("tty", ":".join(["tty", *args]))
    if kind == "udp" and len(args) == 2 and args[0] and args[1].isdigit() and 0 < int(args[1]) < 65536:
        return NfcPath("udp", f"udp:{args[0]}:{int(args[1])}", args[0], int(args[1]))
    raise ReaderNotFoundError(f"bad NFC reader name {name!r}: {_HINT}")


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def contactless_atr(historical: bytes) -> bytes:
    """``3B 8n 80 01 <historical> TCK`` (PC/SC part 3 §3.1.3.2.3); TCK = XOR of T0 … last byte."""
    if len(historical) > 15:
        historical = historical[:15]
    body = bytes((0x3B, 0x80 | len(historical), 0x80, 0x01)) + historical
    tck = 0
    for b in body[1:]:
        tck ^= b
    return body + bytes((tck,))


def parse_ats(ats: bytes) -> tuple[int, int, bytes]:
    """``(FSCI, FWI, historical bytes)`` of an ATS (ISO 14443-4 §5.2): TL T0 [TA] [TB] [TC] T1…Tk.

    Raises:
        TransportError: the ATS is shorter than its TL or its interface bytes.
    """
    if len(ats) < 1 or ats[0] != len(ats) or ats[0] < 1:
        raise TransportError(f"malformed ATS {ats.hex().upper()}: TL does not match its length")
    if len(ats) == 1:
        return 2, 4, b""  # defaults: FSCI 2 (32 bytes), FWI 4 (ISO 14443-4 §5.2.3, §5.2.5)
    t0 = ats[1]
    pos = 2
    if t0 & 0x10:
        pos += 1
    fwi = 4
    if t0 & 0x20:
        if pos >= len(ats):
            raise TransportError(f"malformed ATS {ats.hex().upper()}: TB announced but missing")
        fwi = ats[pos] >> 4
        pos += 1
    if t0 & 0x40:
        pos += 1
    if pos > len(ats):
        raise TransportError(f"malformed ATS {ats.hex().upper()}: interface bytes missing")
    return t0 & 0x0F, fwi if fwi <= 14 else 4, bytes(ats[pos:])


class NfcReader(Reader):
    """An nfcpy contactless frontend as a :class:`~cardkit.readers.base.Reader`.

    Args:
        name: ``nfc:usb[:VID:PID]``, ``nfc:tty:PORT[:DRIVER]`` or ``nfc:udp:HOST:PORT``.
        poll: technologies to poll, in order: ``"106A"`` and/or ``"106B"``. Over UDP each silent
            technology costs nfcpy's 1 s answer timeout, so ``("106A",)`` polls faster.

    Raises:
        ReaderNotFoundError: bad name, or nfcpy found no device there.
        TransportError: nfcpy is not installed.
    """

    backend = "nfc"

    def __init__(self, name: str, *, poll: tuple[str, ...] = ("106A", "106B")) -> None:
        super().__init__(name if name.startswith("nfc:") else f"nfc:{name}")
        self.path = parse_nfc_name(name)
        self.poll = poll
        self._nfc = import_nfc()
        self._clf: Any = self._nfc.ContactlessFrontend()
        try:
            opened = self._clf.open(self.path.nfcpy)
        except OSError as exc:
            raise ReaderNotFoundError(f"cannot open NFC reader {self.name!r}: {exc}") from None
        if not opened:
            raise ReaderNotFoundError(f"no NFC reader at {self.name!r} (is it plugged in? {_HINT})")
        self._target: Any = None
        self._last_atr: bytes | None = None
        self._conn: NfcConnection | None = None
        self._quiet_until = 0.0

    # ----------------------------------------------------------------------------- polling
    def _sense(self) -> Any:
        """One poll of each technology (ISO 14443-3 §6.3 / §7.3); the target found, or ``None``."""
        if self._conn is not None:
            self._conn._gone = True  # sensing switches the field off: that session is over
        targets = [self._nfc.clf.RemoteTarget(brty) for brty in self.poll]
        pause = self._quiet_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        try:
            self._target = self._clf.sense(*targets)
        except self._nfc.clf.CommunicationError as exc:
            log.debug("sense failed: %s", exc)
            self._target = None
        except OSError as exc:
            raise TransportError(f"NFC reader {self.name!r} failed: {exc}") from None
        return self._target

    def has_card(self) -> bool:
        if self._conn is not None and not self._conn.closed:
            return self._conn.present()
        return self._sense() is not None

    def atr(self) -> bytes | None:
        """The ATR of the open connection, else of the last card activated if it still answers."""
        if self._conn is not None and not self._conn.closed:
            return self._conn.atr
        return self._last_atr if self.has_card() else None

    def wait_for_card(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._target is not None or self._sense() is not None:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise NoCardError(f"no card in the field of {self.name!r} after {timeout} s: start one "
                                  f"with 'cardkit emulate CARD --nfc …' or tap a card")
            time.sleep(0.05)

    def wait_for_removal(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.has_card():
            if deadline is not None and time.monotonic() >= deadline:
                raise TransportError(f"the card is still in the field of {self.name!r} after {timeout} s")
            time.sleep(0.05)
        self._target = None

    def connect(self, protocol: str | None = None) -> NfcConnection:
        """Activate the card in the field (ISO 14443-4 §5) and open a connection.

        Raises:
            NoCardError: nothing answered the poll.
            TransportError: ``protocol`` is T0 (contactless is block-oriented, T=1-like), or the card
                is not ISO-DEP (e.g. a MIFARE Classic or a type 2 tag).
        """
        if normalize_protocol(protocol) == "T0":
            raise TransportError(f"{self.name!r}: contactless cards speak ISO 14443-4 (T1), not T0")
        target = self._target if self._target is not None else self._sense()
        self._target = None
        if target is None:
            raise NoCardError(f"no card in the field of {self.name!r}: start one with "
                              f"'cardkit emulate CARD --nfc …' or tap a card")
        dep, atr = self._activate(target)
        self._last_atr = atr
        self._conn = NfcConnection(self, dep, atr)
        return self._conn

    def _activate(self, target: Any) -> tuple[Any, bytes]:
        nfc = self._nfc
        try:
            if target.brty.endswith("B"):
                tag = nfc.tag.tt4.Type4BTag(self._clf, target)
                res = bytes(target.sensb_res)
                return tag._dep, contactless_atr(res[5:9] + res[9:12] + b"\x00")
            sel_res = target.sel_res or b"\x00"
            if not sel_res[0] & 0x20:
                raise TransportError(f"the card in {self.name!r} is not ISO 14443-4 (SAK "
                                     f"{sel_res[0]:02X}): cardkit needs an ISO-DEP card")
            fsdi = 8 if self._clf.max_recv_data_size >= 256 else 7
            ats = bytes(self._clf.exchange(bytearray((_RATS, fsdi << 4)), timeout=0.03))
        except nfc.clf.CommunicationError as exc:
            raise NoCardError(f"the card left the field of {self.name!r} during activation ({exc})") from None
        fsci, fwi, historical = parse_ats(ats)
        fsc = min(_FSC[min(fsci, 8)], self._clf.max_send_data_size)
        fwt = 4096 / _CARRIER * 2**fwi
        log.debug("ISO-DEP active on %s: ATS %s FSC %d FWT %.1f ms", self.name, ats.hex(), fsc, fwt * 1e3)
        return nfc.tag.tt4.IsoDepInitiator(self._clf, fsc, fwt), contactless_atr(historical)

    def close(self) -> None:
        """Release the frontend (the RF field goes off)."""
        if self._conn is not None:
            self._conn.close()
        self._clf.close()


class NfcConnection(Connection):
    """An ISO-DEP session with a contactless card; ``_transmit`` is one ``IsoDepInitiator.exchange``."""

    def __init__(self, reader: NfcReader, dep: Any, atr: bytes) -> None:
        super().__init__(reader.name, "T1")
        self._reader = reader
        self._dep = dep
        self._atr = atr
        self._gone = False

    @property
    def atr(self) -> bytes:
        return self._atr

    def _transmit(self, capdu: bytes) -> bytes:
        if self._gone:
            raise NoCardError(f"the card left the field of {self.reader_name!r}: tap it again and reconnect")
        nfc = self._reader._nfc
        try:
            rapdu = self._dep.exchange(bytearray(capdu))
        except (nfc.tag.TagCommandError, nfc.clf.CommunicationError) as exc:
            self._gone = True
            raise NoCardError(f"the card left the field of {self.reader_name!r} during the command ({exc})") from None
        except OSError as exc:
            self._gone = True
            raise TransportError(f"NFC reader {self.reader_name!r} failed: {exc}") from None
        if rapdu is None:
            self._gone = True
            raise NoCardError(f"the card in {self.reader_name!r} sent no answer")
        return bytes(rapdu)

    def present(self) -> bool:
        """ISO 14443-4 presence check: an R(NAK) the card must answer with an R(ACK) (§7.5.4.2)."""
        if self._gone:
            return False
        nfc = self._reader._nfc
        try:
            self._dep.exchange(None)
        except (nfc.clf.CommunicationError, OSError):
            self._gone = True
        return not self._gone

    def _reconnect(self, reset: bool) -> bytes:
        """Deselect, poll again and re-activate: the card is power-cycled as it leaves ISO-DEP."""
        self._deselect()
        self._reader._quiet_until = time.monotonic() + FIELD_RESET
        reader = self._reader
        target = reader._sense()
        if target is None:
            raise NoCardError(f"the card left the field of {self.reader_name!r}")
        self._dep, self._atr = reader._activate(target)
        self._gone = False
        return self._atr

    def _deselect(self) -> None:
        if self._gone:
            return
        nfc = self._reader._nfc
        try:
            self._reader._clf.exchange(bytearray(_DESELECT), timeout=0.1)
        except (nfc.clf.CommunicationError, OSError) as exc:
            log.debug("DESELECT not answered: %s", exc)

    def _close(self) -> None:
        self._deselect()
        self._gone = True
        self._reader._quiet_until = time.monotonic() + FIELD_RESET
