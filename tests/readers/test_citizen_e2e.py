"""The whole citizen card end to end: the demo card served by `cardkit emulate` to pcscd through
vpcd, read by `cardkit id read`, `cardkit social info|pay` and `cardkit card info` as independent
processes, exactly as from a card in a reader."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from applets.runtime import save_card
from cardkit.issuer.demo_keys import DEMO_CSCA_CERT_PEM
from cardkit.readers.pcsc import PcscReader
from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY, DEMO_PIN, make_demo_card

from .conftest import CARDKIT, REPO, VPCD_READER

pytestmark = pytest.mark.pcsc
READER = f"pcsc:{VPCD_READER}"
MRZ = ["--doc-number", DEMO_DOCUMENT_NUMBER, "--birth", DEMO_BIRTH, "--expiry", DEMO_EXPIRY]


def _run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CARDKIT, *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == code, done.stdout + done.stderr
    return done


def test_every_application_through_pcscd(serve_card, tmp_path: Path, vpcd_reader: PcscReader) -> None:  # type: ignore[no-untyped-def]
    image = tmp_path / "demo.card"
    save_card(make_demo_card(), image)
    csca = tmp_path / "csca.pem"
    csca.write_text(DEMO_CSCA_CERT_PEM, encoding="ascii")
    process = serve_card(image)

    photo = tmp_path / "face.jpg"
    ident = json.loads(_run("id", "read", "--reader", READER, *MRZ, "--trust", str(csca), "--photo", str(photo),
                            "--json").stdout)
    assert photo.read_bytes()[:2] == b"\xff\xd8"  # the JPEG from DG2
    text = json.dumps(ident, ensure_ascii=False)
    assert "张三" in text and "E12345678" in text
    denied = _run("id", "read", "--reader", READER, "--doc-number", DEMO_DOCUMENT_NUMBER, "--birth", "010101",
                  "--expiry", DEMO_EXPIRY, code=1)
    assert denied.stderr.strip().splitlines() == [
        "error: access denied: the document number, birth date or expiry does not match this card"]

    info = json.loads(_run("social", "info", "--reader", READER, "--json").stdout)
    assert "800.00" in json.dumps(info)
    paid = json.loads(_run("social", "pay", "12.30", "--reader", READER, "--pin", DEMO_PIN, "--journal",
                           str(tmp_path / "clinic.sqlite"), "--json").stdout)
    assert paid["approved"] and paid["balance"] == "787.70"
    wrong = _run("social", "pay", "1.00", "--reader", READER, "--pin", "000000", "--journal",
                 str(tmp_path / "clinic.sqlite"), code=3)
    assert "wrong PIN: 2 tries left" in wrong.stderr

    report = json.loads(_run("card", "info", "--reader", READER, *MRZ, "--trust", str(csca), "--json").stdout)
    status = {a["kind"] + ":" + a["aid"]: a["status"] for a in report["applications"]}
    assert set(status.values()) == {"ok"}, status
    fields = {a["kind"]: a["fields"] for a in report["applications"]}
    assert fields["eid"]["issuer"] == "trusted" and fields["social"]["medical account"] == "787.70 CNY"
    assert "6228480000000000018" not in json.dumps(report)
    assert process.stop() == 0
