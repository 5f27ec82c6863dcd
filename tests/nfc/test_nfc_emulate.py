"""``cardkit emulate IMAGE --nfc udp:…`` as a process: served to an ``nfc:udp`` reader, stopped by SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from conftest import open_udp_reader

from applets.runtime import load_card, save_card
from cardkit.crypto.oda import CapkStore
from cardkit.emv import Kernel, OutcomeKind, TerminalConfig
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.readers import CardChannel
from pos_sim.demo_card import make_demo_card
from pos_sim.issuer_standin import IssuerStandIn

REPO = Path(__file__).resolve().parents[2]
CARDKIT = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def _atc(image: Path) -> int:
    card = load_card(image)
    card.power_on()
    card.transmit(bytes.fromhex("00A4040008A000000333010101"))
    return int.from_bytes(card.transmit(bytes.fromhex("80CA9F3600"))[3:5], "big")


def test_emulate_nfc_serves_saves_and_stops_on_sigterm(tmp_path: Path, port: int) -> None:
    image = tmp_path / "demo.card"
    save_card(make_demo_card(), image)
    before = _atc(image)
    process = subprocess.Popen([*CARDKIT, "emulate", str(image), "--nfc", f"udp:127.0.0.1:{port}"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        reader = open_udp_reader(port)
        try:
            reader.wait_for_card(timeout=30)
            store = CapkStore()
            store.add(demo_capk())
            with reader.connect() as conn:
                kernel = Kernel(CardChannel(conn), TerminalConfig(capk=store),
                                online=IssuerStandIn(demo_issuer()).online)
                assert kernel.run(300, contactless=True).kind is OutcomeKind.APPROVED_OFFLINE
        finally:
            reader.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "state saved" in stderr
    assert _atc(image) == before + 1  # the tap reached the image the process saved
