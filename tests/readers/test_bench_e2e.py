"""cardkit bench run through pyscard → pcscd → vpcd against `cardkit emulate`, as a subprocess."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from applets.runtime import save_card
from pos_sim.demo_card import make_demo_card

from .conftest import CARDKIT, REPO, ServeCard

pytestmark = pytest.mark.pcsc


def test_bench_emv_through_pcscd(serve_card: ServeCard, tmp_path: Path) -> None:
    demo_image = tmp_path / "demo.json"
    save_card(make_demo_card(), demo_image)
    serve_card(demo_image)
    junit, pcap = tmp_path / "bench.xml", tmp_path / "bench.pcap"
    proc = subprocess.run([*CARDKIT, "bench", "run", "--reader", "pcsc:Virtual PCD 00 00", "--suite", "emv",
                           "--repeat", "3", "--junit", str(junit), "--trace", str(pcap)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert int(suite.get("tests", "0")) == 8
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["reader"] == "pcsc:Virtual PCD 00 00"
    assert pcap.stat().st_size > 1000
