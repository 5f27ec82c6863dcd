"""cardkit bench on a virtual demo card: every suite, the JUnit XML, the JSON round trip, a broken card."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from applets.runtime import load_card
from cardkit.bench import BenchRun, BenchUsageError, run_bench, to_junit
from cardkit.bench.checks import apdu_name
from cardkit.bench.suites import parse_atr
from cardkit.readers import VirtualReader
from cli import cli

REPEAT = 3


def _bench(image: Path, suite: str) -> BenchRun:
    return run_bench(f"virtual:{image}", suite=suite, repeat=REPEAT, progress=False)


@pytest.mark.parametrize("suite", ["smoke", "emv", "transit", "eid", "tearing"])
def test_every_suite_passes_on_the_demo_card(demo_image: Path, suite: str) -> None:
    run = _bench(demo_image, suite)
    bad = [(c.name, c.status, c.message) for c in run.checks if c.status != "passed"]
    assert not bad
    assert run.ok and run.checks


def test_full_runs_every_suite_and_times_transactions(demo_image: Path, tmp_path: Path) -> None:
    pcap = tmp_path / "bench.pcap"
    run = run_bench(f"virtual:{demo_image}", suite="full", repeat=REPEAT, progress=False, trace=pcap)
    assert run.suites() == ["smoke", "emv", "transit", "eid"]
    assert run.ok
    tx = run.transactions()
    assert len(tx["emv-contactless"]) == REPEAT and len(tx["transit-tap"]) == 2 * REPEAT
    assert len(tx["eid-dg1"]) == REPEAT
    summary = run.summary()
    assert summary["checks"]["total"] == len(run.checks) == summary["checks"]["passed"]
    assert 0 < summary["apdu"]["median"] <= summary["apdu"]["p95"] <= summary["apdu"]["max"]
    assert pcap.stat().st_size > 1000
    assert b"123456" not in pcap.read_bytes()  # the PIN is masked
    names = {a.name for c in run.checks for a in c.apdus}
    assert {"SELECT 2PAY.SYS.DDF01", "GPO", "GENERATE AC ARQC", "VERIFY", "GET DATA 9F17"} <= names


def test_apdu_names() -> None:
    assert apdu_name(bytes.fromhex("00A404000E325041592E5359532E444446303100")) == "SELECT 2PAY.SYS.DDF01"
    assert apdu_name(bytes.fromhex("00B2020C00")) == "READ RECORD 1/2"
    assert apdu_name(bytes.fromhex("80AE80001D")) == "GENERATE AC ARQC"
    assert apdu_name(bytes.fromhex("80CA9F1700")) == "GET DATA 9F17"
    assert apdu_name(bytes.fromhex("805001020B")) == "INITIALIZE FOR PURCHASE"
    assert apdu_name(bytes.fromhex("80A8000002830000")) == "GPO"


def test_parse_atr() -> None:
    protocols, hist = parse_atr(bytes.fromhex("3B8D8031FE458057636172646B697473F6215BCD"))
    assert protocols == ["T=0", "T=1"] and hist.startswith(b"\x80W")
    assert parse_atr(bytes.fromhex("3B0280FF"))[0] == ["T=0"]


def test_junit_parses_back_with_matching_counts(demo_image: Path) -> None:
    run = _bench(demo_image, "smoke")
    failed = replace(run.checks[1], status="failed", message="SELECT answered 6F00")
    skipped = replace(run.checks[2], status="skipped", message="not on this card")
    run = replace(run, checks=(run.checks[0], failed, skipped, *run.checks[3:]))
    root = ET.fromstring(to_junit(run))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == (str(len(run.checks)), "1", "1")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "smoke" and suite.get("tests") == str(len(run.checks))
    assert len(suite.findall("testcase")) == len(run.checks)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["reader"] == run.reader and props["atr"] == run.atr.hex().upper()
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message") == "SELECT answered 6F00"
    assert suite.find("testcase/skipped") is not None
    assert all(float(c.get("time", "x")) >= 0 for c in suite.iter("testcase"))


def test_json_round_trip_through_the_cli(demo_image: Path, tmp_path: Path) -> None:
    junit = tmp_path / "bench.xml"
    result = CliRunner().invoke(cli, ["bench", "run", "--reader", f"virtual:{demo_image}", "--suite", "emv",
                                      "--repeat", str(REPEAT), "--json", "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    run = BenchRun.from_json(data)
    assert run.to_json() == data
    assert run.transactions()["emv-contactless"] and junit.exists()


def test_table_and_exit_code(demo_image: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "run", "--reader", f"virtual:{demo_image}", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert "per APDU" in result.output and "passed" in result.output


class _Broken:
    """The demo card, but an unknown INS makes it answer 6F00 (an applet bug)."""

    def __init__(self, image: Path) -> None:
        self._card = load_card(image)
        self.atr = self._card.atr

    def power_on(self) -> bytes:
        return self._card.power_on()

    def reset(self) -> bytes:
        return self._card.reset()

    def power_off(self) -> None:
        self._card.power_off()

    def transmit(self, capdu: bytes) -> bytes:
        return b"\x6f\x00" if capdu[1:2] == b"\xfe" else self._card.transmit(capdu)


def test_a_card_answering_6f00_fails_the_malformed_check(demo_image: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cardkit.bench.runner.open_reader", lambda name: VirtualReader(_Broken(demo_image)))
    run = run_bench("broken", suite="smoke", progress=False)
    failed = [c for c in run.checks if c.status == "failed"]
    assert [c.name for c in failed] == ["malformed: unknown INS"]
    assert "6F00" in failed[0].message and not run.ok


def test_tearing_and_keys_skip_on_other_cards(demo_image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cardkit.bench.runner.open_reader", lambda name: VirtualReader(_Broken(demo_image)))
    (check,) = run_bench("pcsc:somewhere", suite="tearing", progress=False).checks
    assert check.status == "skipped" and "virtual:" in check.message


def test_demo_key_checks_skip_on_another_card(demo_image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cardkit.bench.suites.is_demo_card", lambda ctx: False)
    run = run_bench(f"virtual:{demo_image}", suite="emv", repeat=1, progress=False)
    by_name = {c.name: c for c in run.checks}
    assert by_name["contactless transaction"].status == "skipped"
    assert "not the demo card" in by_name["PIN try counter"].message
    assert by_name["read bank debit (PBOC)"].status == "passed" and run.ok


def test_unknown_suite() -> None:
    with pytest.raises(BenchUsageError):
        run_bench("virtual:x", suite="nope")
