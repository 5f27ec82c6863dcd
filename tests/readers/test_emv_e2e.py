"""The EMV kernel end to end through the real PC/SC stack: kernel → pyscard → pcscd → vpcd → demo card.

The card runs in its own `cardkit emulate` process, so everything the kernel knows about it came
through real APDUs; T=0 framing (61xx / GET RESPONSE) is exercised as many bank cards need it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from applets.runtime import load_card, save_card
from cardkit.crypto.oda import CapkStore, OdaMethod
from cardkit.emv import Kernel, OutcomeKind, TerminalConfig
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.readers import CardChannel
from cardkit.readers.pcsc import PcscReader
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.issuer_standin import IssuerStandIn

from .conftest import CARDKIT, REPO, VPCD_READER

pytestmark = pytest.mark.pcsc


@pytest.fixture
def demo_image(tmp_path: Path) -> Path:
    path = tmp_path / "demo.card"
    save_card(make_demo_card(), path)
    return path


def _config() -> TerminalConfig:
    store = CapkStore()
    store.add(demo_capk())
    return TerminalConfig(capk=store)


def _atc(image: Path) -> int:
    card = load_card(image)
    card.power_on()
    card.transmit(bytes.fromhex("00A4040008A000000333010101"))
    response = card.transmit(bytes.fromhex("80CA9F3600"))
    return int.from_bytes(response[3:5], "big")


@pytest.mark.parametrize("mode", ["emulate", "t0"])
def test_contact_and_contactless_payments_through_pcscd(serve_card, demo_image: Path, vpcd_reader: PcscReader,
                                                        mode: str) -> None:
    process = serve_card(demo_image, mode=mode)
    with vpcd_reader.connect() as conn:
        kernel = Kernel(CardChannel(conn), _config(), pin_entry=lambda _request: DEMO_PIN,
                        online=IssuerStandIn(demo_issuer()).online)
        contact = kernel.run(12_50)
        tap = kernel.run(3_00, contactless=True)
    assert contact.kind is OutcomeKind.APPROVED_ONLINE and contact.oda_method is OdaMethod.CDA
    assert contact.response_code == "00" and contact.get(0x9F27) == b"\x40"
    assert tap.kind is OutcomeKind.APPROVED_OFFLINE and tap.oda_method is OdaMethod.FDDA
    assert process.stop() == 0
    assert _atc(demo_image) == 2  # both transactions reached the card image the process saved


def test_cardkit_emv_pay_on_a_pcsc_reader(serve_card, demo_image: Path, vpcd_reader: PcscReader) -> None:
    serve_card(demo_image)
    done = subprocess.run(
        [*CARDKIT, "emv", "pay", "8.80", "--reader", f"pcsc:{VPCD_READER}", "--pin", DEMO_PIN, "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["outcome"] == "approved-online" and out["data"]["9F02"] == "000000000880"
    assert out["data"]["5A"] == "622848*********0018"


def test_cardkit_emv_read_on_a_pcsc_reader(serve_card, demo_image: Path, vpcd_reader: PcscReader) -> None:
    serve_card(demo_image)
    done = subprocess.run([*CARDKIT, "emv", "read", "--reader", f"pcsc:{VPCD_READER}", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    apps = json.loads(done.stdout)["applications"]
    assert [a["aid"] for a in apps] == ["A000000333010101", "A000000333010102"]
    assert all(a["oda"]["method"] == "CDA" and a["oda"]["ok"] for a in apps)
    assert apps[0]["counters"]["9F79"] == "500.00 CNY" and "0000000000018" not in done.stdout
