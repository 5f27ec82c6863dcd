"""APDU traces: human text lines and pcap files Wireshark dissects, with secrets masked.

Masking (one rule set, :func:`masked_range`, shared by both tracers): the command data of VERIFY
(INS 20/21), CHANGE REFERENCE DATA (24/25), RESET RETRY COUNTER (2C/2D), GlobalPlatform PUT KEY (D8)
and PBOC's proprietary RELOAD/CHANGE PIN (CLA 8x, INS 5E) is replaced by the same number of filler
bytes — ``XX`` in text, ``MASK_BYTE`` in pcap — as is the command *and* response data of any exchange
the caller marks ``sensitive``. The header, Lc, Le and status word stay visible.

The pcap link type is LINKTYPE_ISO_14443 (264): each record is a 4-byte pseudo-header (version 00,
event FE for PCD→PICC or FF for PICC→PCD, 2-byte big-endian length) followed by the APDU wrapped in
an ISO 14443-4 I-block (PCB 02/03, toggling per exchange) with its CRC_A (ISO/IEC 14443-3 Annex B).
Wireshark's iso14443 dissector hands the I-block payload to its iso7816 dissector.
"""

from __future__ import annotations

import abc
import logging
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Self, TextIO

from cardkit.apdu import CommandAPDU, describe_sw
from cardkit.errors import ApduError

__all__ = [
    "LINKTYPE_ISO_14443",
    "MASK_BYTE",
    "TSHARK_HINT",
    "PcapTracer",
    "TextTracer",
    "Tracer",
    "crc_a",
    "masked_range",
    "redact_command",
    "redact_response",
]

log = logging.getLogger(__name__)

LINKTYPE_ISO_14443 = 264
MASK_BYTE = 0x58  # "X": shows as XXXX in Wireshark's ASCII pane
# Wireshark 4.0 does not hand ISO 14443 payloads to its ISO 7816 dissector unless told to.
TSHARK_HINT = "tshark -r {pcap} -d iso14443.subdissector,iso7816 -V"
EVENT_PCD_TO_PICC = 0xFE
EVENT_PICC_TO_PCD = 0xFF

#: INS codes whose command data is secret whatever the CLA (ISO 7816-4 §11.5, GP 2.3 §11.8).
_SECRET_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D, 0xD8})
#: INS codes secret only in a proprietary class (CLA b8 set): PBOC RELOAD PIN / CHANGE PIN.
_SECRET_PROPRIETARY_INS = frozenset({0x5E})


# ------------------------------------------------------------------------------------ redaction
def _is_secret_command(cla: int, ins: int) -> bool:
    return ins in _SECRET_INS or (bool(cla & 0x80) and ins in _SECRET_PROPRIETARY_INS)


def masked_range(capdu: bytes, *, sensitive: bool = False) -> range | None:
    """The byte positions of ``capdu`` a trace must mask, or ``None`` when nothing is secret.

    A malformed APDU that would be masked gets everything after the 4-byte header masked.
    """
    if len(capdu) <= 5 or not (sensitive or _is_secret_command(capdu[0], capdu[1])):
        return None
    try:
        cmd = CommandAPDU.parse(capdu)
    except ApduError:
        return range(4, len(capdu))
    if not cmd.data:
        return None
    start = 7 if cmd.extended else 5
    return range(start, start + len(cmd.data))


def redact_command(capdu: bytes, *, sensitive: bool = False, filler: int = MASK_BYTE) -> bytes:
    """``capdu`` with its secret data replaced by as many ``filler`` bytes."""
    r = masked_range(capdu, sensitive=sensitive)
    if r is None:
        return bytes(capdu)
    return capdu[: r.start] + bytes([filler]) * len(r) + capdu[r.stop :]


def redact_response(rapdu: bytes, *, sensitive: bool = False, filler: int = MASK_BYTE) -> bytes:
    """``rapdu`` with its data masked when the exchange is marked sensitive (the SW stays)."""
    if not sensitive or len(rapdu) <= 2:
        return bytes(rapdu)
    return bytes([filler]) * (len(rapdu) - 2) + rapdu[-2:]


# -------------------------------------------------------------------------------------- tracers
class Tracer(abc.ABC):
    """Receives every exchange of a connection. Implementations must redact (see module doc)."""

    @abc.abstractmethod
    def command(self, capdu: bytes, *, sensitive: bool = False) -> None:
        """A C-APDU is about to be sent."""

    @abc.abstractmethod
    def response(self, rapdu: bytes, *, elapsed: float, sensitive: bool = False) -> None:
        """The R-APDU for the last command arrived after ``elapsed`` seconds."""

    def failed(self, exc: BaseException, *, elapsed: float) -> None:
        """The last command got no response (the card went away, the reader failed)."""

    def close(self) -> None:
        """Flush and release resources (idempotent)."""


def _hex_masked(data: bytes, masked: range | None) -> str:
    if masked is None:
        return data.hex(" ").upper()
    return " ".join("XX" if i in masked else f"{b:02X}" for i, b in enumerate(data))


class TextTracer(Tracer):
    """Human lines: ``>> 00 A4 ...`` then ``<< 6F ... 90 00  normal processing  (0.12 ms)`` and TLV.

    Args:
        out: a callable taking one line (``print``, ``rich.Console.print``), a text stream, or
            ``None`` to log at INFO on this module's logger.
        tlv: also decode response data as BER-TLV (silently skipped when it is not TLV).
        width: data bytes per line before wrapping.
    """

    def __init__(self, out: Callable[[str], object] | TextIO | None = None, *, tlv: bool = True,
                 width: int = 32) -> None:
        if out is None:
            self._emit: Callable[[str], object] = lambda line: log.info("%s", line)
        elif callable(out):
            self._emit = out
        else:
            stream = out
            self._emit = lambda line: stream.write(line + "\n")
        self._tlv = tlv
        self._width = width

    def _lines(self, prefix: str, shown: str, tail: str = "") -> None:
        parts = shown.split(" ") if shown else []
        chunks = [" ".join(parts[i : i + self._width]) for i in range(0, len(parts), self._width)] or [""]
        for i, chunk in enumerate(chunks):
            lead = prefix if i == 0 else " " * len(prefix)
            last = i == len(chunks) - 1
            self._emit(f"{lead}{chunk}{tail if last else ''}".rstrip())

    def command(self, capdu: bytes, *, sensitive: bool = False) -> None:
        self._lines(">> ", _hex_masked(capdu, masked_range(capdu, sensitive=sensitive)))

    def response(self, rapdu: bytes, *, elapsed: float, sensitive: bool = False) -> None:
        sw = int.from_bytes(rapdu[-2:], "big")
        data = rapdu[:-2]
        masked = range(len(data)) if sensitive and data else None
        tail = f"  {describe_sw(sw)}  ({elapsed * 1000:.2f} ms)"
        self._lines("<< ", _hex_masked(rapdu, masked), tail)
        if self._tlv and data and not sensitive:
            for line in _format_tlv(data):
                self._emit("   " + line)

    def failed(self, exc: BaseException, *, elapsed: float) -> None:
        self._emit(f"<< no response: {exc}  ({elapsed * 1000:.2f} ms)")


def _format_tlv(data: bytes) -> list[str]:
    try:
        from cardkit.tlv import format_tlv

        return format_tlv(data)
    except Exception:  # noqa: BLE001 - not TLV, or no tag dictionary yet: the hex line is enough
        return []


# ------------------------------------------------------------------------------------------ pcap
def crc_a(data: bytes) -> bytes:
    """ISO/IEC 14443-3 CRC_A (init 0x6363, reflected poly 0x8408, no final XOR), LSB first."""
    crc = 0x6363
    for b in data:
        b ^= crc & 0xFF
        b = (b ^ (b << 4)) & 0xFF
        crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xFFFF
    return crc.to_bytes(2, "little")


_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ISO_14443)
#: ISO 14443-4 activation written first so Wireshark knows the card is type A and verifies CRC_A:
#: RATS (FSDI 8 = 256-byte frames, CID 0) and an ATS (FSCI 8, TA1 80, TB1 70, TC1 02, no history).
_RATS = bytes.fromhex("E080")
_ATS = bytes.fromhex("0578807002")
#: Largest INF per I-block: FSC 256 minus PCB and CRC_A. Longer APDUs are chained (PCB b5).
_MAX_INF = 253
_PCB_I = 0x02
_PCB_CHAINING = 0x10
_PCB_R_ACK = 0xA2


class PcapTracer(Tracer):
    """Write exchanges to a pcap file (LINKTYPE_ISO_14443 = 264) that Wireshark dissects to ISO 7816.

    Each APDU travels in ISO 14443-4 I-blocks (chained, with R(ACK) answers, beyond 253 bytes),
    after a synthetic RATS/ATS so Wireshark checks every CRC_A. Wireshark hands I-block payloads to
    its ISO 7816 dissector once told to: ``tshark -r FILE -d iso14443.subdissector,iso7816 -V``
    (GUI: Analyze › Decode As… › ISO14443 payload subdissector → ISO 7816).

    Args:
        path: the file to create (truncated). Each record is flushed, so a crash loses nothing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._f: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._f.write(_PCAP_HEADER)
        self._block = 0
        self._frame(EVENT_PCD_TO_PICC, _RATS)
        self._frame(EVENT_PICC_TO_PCD, _ATS)

    def _frame(self, event: int, frame: bytes) -> None:
        frame += crc_a(frame)
        body = bytes((0x00, event)) + len(frame).to_bytes(2, "big") + frame
        now = time.time()
        sec = int(now)
        record = struct.pack("<IIII", sec, int((now - sec) * 1_000_000), len(body), len(body)) + body
        with self._lock:
            if self._f is not None:
                self._f.write(record)
                self._f.flush()

    def _blocks(self, event: int, apdu: bytes) -> None:
        """Send ``apdu`` as I-blocks from one side, the other side acknowledging chained ones."""
        answer = EVENT_PICC_TO_PCD if event == EVENT_PCD_TO_PICC else EVENT_PCD_TO_PICC
        chunks = [apdu[i : i + _MAX_INF] for i in range(0, len(apdu), _MAX_INF)] or [b""]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            self._frame(event, bytes((_PCB_I | self._block | (0 if last else _PCB_CHAINING),)) + chunk)
            if not last:
                self._frame(answer, bytes((_PCB_R_ACK | self._block,)))
                self._block ^= 1

    def command(self, capdu: bytes, *, sensitive: bool = False) -> None:
        self._blocks(EVENT_PCD_TO_PICC, redact_command(capdu, sensitive=sensitive))

    def response(self, rapdu: bytes, *, elapsed: float, sensitive: bool = False) -> None:
        self._blocks(EVENT_PICC_TO_PCD, redact_response(rapdu, sensitive=sensitive))
        self._block ^= 1

    def failed(self, exc: BaseException, *, elapsed: float) -> None:
        self._block ^= 1

    def close(self) -> None:
        with self._lock:
            if self._f is not None:
                self._f.close()
                self._f = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
