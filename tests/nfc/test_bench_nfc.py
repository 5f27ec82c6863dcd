"""The bench over NFC: `run_bench` against the demo card served as an ISO 14443-4 type A target on
nfcpy's UDP driver — the same suites as through PC/SC, through real ISO-DEP framing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cardkit.bench import run_bench, to_junit
from cardkit.readers.nfc_card import NfcCardServer


def test_the_emv_and_transit_suites_over_nfc(card_server: NfcCardServer, port: int) -> None:
    run = run_bench(f"nfc:udp:127.0.0.1:{port}", suite="emv", repeat=3, progress=False)
    assert run.ok, [(c.name, c.message) for c in run.checks if c.status in ("failed", "error")]
    assert run.atr[0] == 0x3B and run.transactions()["emv-contactless"]  # a PC/SC-style ATR from the ATS
    suites = ET.fromstring(to_junit(run))
    assert int(suites.find("testsuite").get("failures", "0")) == 0  # type: ignore[union-attr]
    tap = run_bench(f"nfc:udp:127.0.0.1:{port}", suite="transit", repeat=2, progress=False)
    assert tap.ok and len(tap.transactions()["transit-tap"]) == 4
