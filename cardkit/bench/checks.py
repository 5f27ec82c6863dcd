"""The machinery of a check: APDU names, the timing tracer, the context, skip/fail, run one check.

A check is a function of a :class:`Context`; it returns a message (passed), raises
:class:`Skipped` (skipped with the reason), :class:`Failed` or ``AssertionError`` (failed), and any
other exception makes it an error. :func:`run_check` times it and collects its APDUs through
:class:`ApduRecorder`, a :class:`~cardkit.readers.trace.Tracer` that keeps sizes, status words and
times only — never the data, so nothing secret reaches a report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cardkit.bench.model import ApduTiming, CheckResult
from cardkit.citizen import KNOWN_APPLICATIONS
from cardkit.readers.base import Connection
from cardkit.readers.channel import INS_NAMES, CardChannel
from cardkit.readers.trace import Tracer

__all__ = ["Check", "Context", "Failed", "Skipped", "ApduRecorder", "apdu_name", "run_check"]

#: Names for AIDs that are not applications but still show up in SELECTs.
_AID_NAMES: dict[bytes, str] = {
    b"1PAY.SYS.DDF01": "1PAY.SYS.DDF01", b"2PAY.SYS.DDF01": "2PAY.SYS.DDF01",
    bytes.fromhex("A0000002471001"): "eID",
}
_SHORT: dict[int, str] = {
    0xA8: "GPO", 0xAE: "GENERATE AC", 0x50: "INITIALIZE", 0x52: "CREDIT", 0x54: "DEBIT", 0x5C: "GET BALANCE",
    0x5A: "GET TRANSACTION PROVE", 0xDC: "UPDATE RECORD", 0x82: "EXTERNAL AUTHENTICATE",
}
_INITIALIZE_KIND = {0x00: "LOAD", 0x01: "PURCHASE", 0x03: "CAPP PURCHASE"}
_DEBIT_KIND = {0x54: "DEBIT", 0x52: "CREDIT"}


def _aid_label(aid: bytes) -> str:
    if aid in _AID_NAMES:
        return _AID_NAMES[aid]
    if aid in KNOWN_APPLICATIONS:
        return f"{aid.hex().upper()} ({KNOWN_APPLICATIONS[aid][1]})"
    return aid.hex().upper()


def apdu_name(capdu: bytes) -> str:
    """A short name from the command header: ``"SELECT 2PAY.SYS.DDF01"``, ``"READ RECORD 1/2"`` ...

    Only the header and, for SELECT by name, the AID are read; command data is never shown.
    """
    if len(capdu) < 4:
        return f"malformed ({len(capdu)} bytes)"
    cla, ins, p1, p2 = capdu[:4]
    data = capdu[5 : 5 + capdu[4]] if len(capdu) > 5 and capdu[4] else b""
    proprietary = bool(cla & 0x80)
    if ins == 0xA4:
        if p1 == 0x04 and data:
            return f"SELECT {_aid_label(data)}"
        return f"SELECT {data.hex().upper()}" if data else "SELECT"
    if ins == 0xB2:
        return f"READ RECORD {p2 >> 3}/{p1}"
    if ins == 0xB0:
        return f"READ BINARY {p1 & 0x1F:02X}" if p1 & 0x80 else f"READ BINARY @{(p1 << 8) | p2}"
    if ins == 0xCA:
        return f"GET DATA {(p1 << 8) | p2:04X}" if p1 else f"GET DATA {p2:02X}"
    if ins == 0xAE:
        kind = {0x00: "AAC", 0x40: "TC", 0x80: "ARQC"}.get(p1 & 0xC0, "")
        return f"GENERATE AC {kind}".rstrip()
    if proprietary and ins == 0x50:
        return f"INITIALIZE FOR {_INITIALIZE_KIND.get(p1, f'{p1:02X}')}"
    if proprietary and ins in _DEBIT_KIND:
        return _DEBIT_KIND[ins]
    if proprietary and ins in _SHORT:
        return _SHORT[ins]
    if ins in _SHORT and ins not in (0x50, 0x52, 0x54, 0x5C, 0x5A):
        return _SHORT[ins]
    return INS_NAMES.get(ins, f"INS {ins:02X}")


class ApduRecorder(Tracer):
    """Keeps one :class:`ApduTiming` per exchange, timed from :meth:`restart`."""

    def __init__(self) -> None:
        self.apdus: list[ApduTiming] = []
        self._origin = time.perf_counter()
        self._pending: tuple[bytes, float] | None = None

    def restart(self) -> None:
        self.apdus = []
        self._origin = time.perf_counter()

    def command(self, capdu: bytes, *, sensitive: bool = False) -> None:
        self._pending = (bytes(capdu[:5 + 255]), time.perf_counter() - self._origin)
        self._size = len(capdu)

    def response(self, rapdu: bytes, *, elapsed: float, sensitive: bool = False) -> None:
        if self._pending is None:
            return
        head, start = self._pending
        self._pending = None
        sw = int.from_bytes(rapdu[-2:], "big") if len(rapdu) >= 2 else 0
        ins = head[1] if len(head) > 1 else 0
        self.apdus.append(ApduTiming(len(self.apdus), apdu_name(head), ins, self._size, len(rapdu), sw,
                                     start, elapsed))

    def failed(self, exc: BaseException, *, elapsed: float) -> None:
        self._pending = None


class Skipped(Exception):
    """The check does not apply to this card or reader; the message says why."""


class Failed(Exception):
    """The card did not behave; the message says how."""


@dataclass
class Context:
    """What checks share: the reader, the connection and channel, the options, facts learned.

    Attributes:
        reader: the reader's name (``virtual:card.json``, ``pcsc:Virtual PCD 00 00``).
        connection, channel: the open connection and a channel on it.
        repeat: how many timed transactions a timing check runs.
        image: the card image path for ``virtual:`` readers (the tearing suite copies it).
        facts: what earlier checks learned (``"demo"``: whether this is the demo card).
    """

    reader: str
    connection: Connection
    channel: CardChannel
    repeat: int = 10
    image: Path | None = None
    facts: dict[str, object] = field(default_factory=dict)

    def require_demo(self, what: str) -> None:
        """Raise :class:`Skipped` unless this is the demo card (its keys are the demo keys)."""
        from cardkit.bench.suites import is_demo_card

        if not is_demo_card(self):
            raise Skipped(f"{what} needs the demo card's keys; this is not the demo card")


@dataclass(frozen=True)
class Check:
    """One named check of a suite; ``transaction`` marks a timed transaction sample."""

    name: str
    run: Callable[[Context], str]
    transaction: str | None = None


def run_check(ctx: Context, suite: str, check: Check, recorder: ApduRecorder) -> CheckResult:
    """Run ``check``: its verdict, message, wall time and APDUs."""
    recorder.restart()
    start = time.perf_counter()
    status: str
    try:
        message = check.run(ctx)
        status = "passed"
    except Skipped as exc:
        status, message = "skipped", str(exc)
    except (Failed, AssertionError) as exc:
        status, message = "failed", str(exc) or "assertion failed"
    except Exception as exc:  # noqa: BLE001 - a check that crashes is an error, the bench goes on
        status, message = "error", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    return CheckResult(suite, check.name, status, message, seconds, tuple(recorder.apdus),  # type: ignore[arg-type]
                       check.transaction)
