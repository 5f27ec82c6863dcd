"""What a bench run produces: the checks, their APDU timings, and the summary figures.

The model is plain frozen data so the runner, the JUnit writer, the HTML report and the JSON file
all read the same thing. Times are seconds (``float``); an APDU's ``start`` counts from the start
of the check it belongs to. :meth:`BenchRun.to_json` and :meth:`BenchRun.from_json` round-trip.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

__all__ = ["STATUSES", "ApduTiming", "BenchRun", "CheckResult", "Status", "percentile", "spread"]

Status = Literal["passed", "failed", "skipped", "error"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "skipped", "error")


@dataclass(frozen=True, slots=True)
class ApduTiming:
    """One exchange on the wire (GET RESPONSE and 6Cxx resends are exchanges of their own).

    Attributes:
        index: position in the check, from 0.
        name: from the header, e.g. ``"SELECT 2PAY.SYS.DDF01"``, ``"GPO"``, ``"READ RECORD 1/2"``.
        ins: the INS byte.
        command: bytes sent.
        response: bytes received, status word included.
        sw: the status word.
        start: seconds since the check's start when the command went out.
        seconds: the time to the response.
    """

    index: int
    name: str
    ins: int
    command: int
    response: int
    sw: int
    start: float
    seconds: float


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of a suite: its verdict, why, how long it took and the APDUs it sent.

    ``transaction`` names the kind of a repeated timed transaction (``"emv-contactless"``,
    ``"transit-tap"``, ``"eid-dg1"``): every check with the same kind is one sample of it.
    """

    suite: str
    name: str
    status: Status
    message: str
    seconds: float
    apdus: tuple[ApduTiming, ...]
    transaction: str | None = None


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` (0-1) percentile by linear interpolation between closest ranks; 0.0 when empty."""
    data = sorted(values)
    if not data:
        return 0.0
    pos = (len(data) - 1) * q
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def spread(values: Iterable[float]) -> dict[str, float]:
    """``{"count", "median", "p95", "max"}`` of ``values`` (zeros when empty)."""
    data = list(values)
    if not data:
        return {"count": 0, "median": 0.0, "p95": 0.0, "max": 0.0}
    return {"count": len(data), "median": statistics.median(data), "p95": percentile(data, 0.95),
            "max": max(data)}


@dataclass(frozen=True)
class BenchRun:
    """A bench run: the reader, the card's ATR and protocol, and every check in order."""

    reader: str
    atr: bytes
    protocol: str
    started: datetime
    checks: tuple[CheckResult, ...]

    def apdu_latencies(self) -> list[float]:
        """Seconds of every APDU of every check, in order."""
        return [a.seconds for c in self.checks for a in c.apdus]

    def transactions(self) -> dict[str, list[float]]:
        """Total seconds of each passed timed transaction, by kind, in order."""
        out: dict[str, list[float]] = {}
        for c in self.checks:
            if c.transaction is not None and c.status == "passed":
                out.setdefault(c.transaction, []).append(c.seconds)
        return out

    def counts(self) -> dict[str, int]:
        """Checks per status, every status present (zero when none)."""
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for c in self.checks:
            out[c.status] += 1
        return out

    def suites(self) -> list[str]:
        """The suites of the checks, in first-seen order."""
        return list(dict.fromkeys(c.suite for c in self.checks))

    def summary(self) -> dict[str, Any]:
        """``{"checks": {status: n, "total": n}, "apdu": spread, "transactions": {kind: spread}}``.

        ``apdu`` spreads every APDU's seconds; each transaction kind spreads its totals.
        """
        counts: dict[str, int] = self.counts()
        counts["total"] = len(self.checks)
        return {"checks": counts, "apdu": spread(self.apdu_latencies()),
                "transactions": {k: spread(v) for k, v in self.transactions().items()}}

    @property
    def ok(self) -> bool:
        """No check failed or erred."""
        return not any(c.status in ("failed", "error") for c in self.checks)

    # --------------------------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (ATR in hex, ``started`` in ISO 8601) with the summary beside."""
        return {
            "reader": self.reader, "atr": self.atr.hex().upper(), "protocol": self.protocol,
            "started": self.started.isoformat(),
            "checks": [{
                "suite": c.suite, "name": c.name, "status": c.status, "message": c.message,
                "seconds": c.seconds, "transaction": c.transaction,
                "apdus": [{"index": a.index, "name": a.name, "ins": a.ins, "command": a.command,
                           "response": a.response, "sw": a.sw, "start": a.start, "seconds": a.seconds}
                          for a in c.apdus],
            } for c in self.checks],
            "summary": self.summary(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BenchRun:
        """The run :meth:`to_json` wrote (``summary`` is recomputed, not read).

        Raises:
            KeyError, ValueError: the data is not a bench run.
        """
        checks = []
        for c in data["checks"]:
            status = c["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown check status {status!r}")
            apdus = tuple(ApduTiming(int(a["index"]), str(a["name"]), int(a["ins"]), int(a["command"]),
                                     int(a["response"]), int(a["sw"]), float(a["start"]), float(a["seconds"]))
                          for a in c["apdus"])
            checks.append(CheckResult(str(c["suite"]), str(c["name"]), cast(Status, status), str(c["message"]),
                                      float(c["seconds"]), apdus, c.get("transaction")))
        return cls(str(data["reader"]), bytes.fromhex(data["atr"]), str(data["protocol"]),
                   datetime.fromisoformat(data["started"]), tuple(checks))
