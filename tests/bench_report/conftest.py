"""A bench run with two timed transactions, a failure, a skip and hostile strings, for the report tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cardkit.bench.model import ApduTiming, BenchRun, CheckResult

HOSTILE = '<script>alert("x")</script>&'

# (name, ins, bytes out, bytes back, seconds): a contactless EMV purchase and a transit tap
EMV = [("SELECT 2PAY.SYS.DDF01", 0xA4, 20, 62, 0.008), ("SELECT A000000333010101", 0xA4, 13, 88, 0.011),
       ("GPO", 0xA8, 41, 34, 0.046), ("READ RECORD 1/1", 0xB2, 5, 210, 0.013),
       ("READ RECORD 2/1", 0xB2, 5, 180, 0.012), ("READ RECORD 1/2", 0xB2, 5, 250, 0.014),
       ("GENERATE AC", 0xAE, 60, 42, 0.121)]
TRANSIT = [("SELECT 1PAY.SYS.DDF01", 0xA4, 20, 40, 0.006), ("INITIALIZE FOR PURCHASE", 0x50, 16, 17, 0.018),
           ("DEBIT FOR PURCHASE", 0x54, 20, 10, 0.034)]


def apdus(script: list[tuple[str, int, int, int, float]], scale: float = 1.0) -> tuple[ApduTiming, ...]:
    out, start = [], 0.001
    for i, (name, ins, out_bytes, back, seconds) in enumerate(script):
        out.append(ApduTiming(i, name, ins, out_bytes, back, 0x9000, start, seconds * scale))
        start += seconds * scale + 0.0005
    return tuple(out)


def make_run(reader: str = "ACS ACR122U 00 00", extra_name: str | None = None) -> BenchRun:
    checks = []
    for i, scale in enumerate((1.0, 1.3, 0.9, 1.1)):
        checks.append(CheckResult("emv", f"purchase {i + 1}", "passed", "", sum(s for *_, s in EMV) * scale,
                                  apdus(EMV, scale), "emv-contactless"))
        checks.append(CheckResult("transit", f"tap {i + 1}", "passed", "", 0.06 * scale,
                                  apdus(TRANSIT, scale), "transit-tap"))
    odd = [("VERIFY", 0x20, 13, 2, 0.002)] if extra_name is None else [(extra_name, 0x00, 5, 2, 0.003)]
    checks.append(CheckResult("eid", "pin tries", "failed", "expected 63C3, got 6983 & more", 0.002,
                              apdus(odd)))
    checks.append(CheckResult("social", "medical file", "skipped", "no social application", 0.0, ()))
    return BenchRun(reader, bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"), "T=CL",
                    datetime(2026, 11, 25, 9, 30, tzinfo=UTC), tuple(checks))


@pytest.fixture
def run() -> BenchRun:
    return make_run()


@pytest.fixture
def hostile_run() -> BenchRun:
    return make_run(reader=HOSTILE, extra_name="<img src=x onerror=alert(1)>")
