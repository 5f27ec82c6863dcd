"""Transit end to end: the demo card served by `cardkit emulate` to pcscd through vpcd; `cardkit
transit` taps in and out at two gates, tops up through the TCP host, and reads the card's log."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from applets.runtime import load_card, save_card
from cardkit.purse import PurseClient
from cardkit.readers import CardChannel, VirtualReader
from cardkit.readers.pcsc import PcscReader
from pos_sim.demo_card import make_demo_card
from pos_sim.host import Host
from pos_sim.host._server import ServerThread

from .conftest import CARDKIT, REPO, VPCD_READER

pytestmark = pytest.mark.pcsc


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "demo.card"
    save_card(make_demo_card(), path)
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with Host(tmp_path / "host.sqlite") as host, ServerThread(host) as running:
        yield running


def _transit(*args: str, journal: Path) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([*CARDKIT, "transit", *args, "--reader", f"pcsc:{VPCD_READER}", "--json",
                           "--journal", str(journal)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_ride_and_a_top_up_through_pcscd(serve_card, image: Path, vpcd_reader: PcscReader,  # type: ignore[no-untyped-def]
                                           server: ServerThread, tmp_path: Path) -> None:
    process = serve_card(image)
    gate = tmp_path / "gate.sqlite"
    entry = _transit("tap", "--station", "Xizhimen", journal=gate)
    assert entry["action"] == "entry" and entry["gate_open"] and entry["balance"] == "50.00"
    exit_ = _transit("tap", "--station", "Dongzhimen", journal=gate)
    assert exit_["action"] == "exit" and exit_["fare"] == "4.00" and exit_["balance"] == "46.00" and exit_["tac"]
    done = subprocess.run([*CARDKIT, "transit", "load", "20.00", "--reader", f"pcsc:{VPCD_READER}", "--host",
                           server.url, "--journal", str(tmp_path / "pos.sqlite"), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["balance"] == "66.00"
    log = subprocess.run([*CARDKIT, "transit", "log", "--reader", f"pcsc:{VPCD_READER}", "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    rows = json.loads(log.stdout)
    assert [(r["type"], r["amount"]) for r in rows] == [("02", "20.00"), ("09", "4.00"), ("09", "0.00")]
    assert process.stop() == 0
    saved = PurseClient(CardChannel(VirtualReader(load_card(image)).connect()))  # what the card process saved
    assert saved.select().balance == 6600
