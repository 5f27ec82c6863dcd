"""Issuance end to end: `cardkit issuer init`, a blank card served by `cardkit emulate` to pcscd,
`cardkit issue --reader` personalizing it through pyscard (SCP03 STORE DATA), then every
application read back by the other issues' commands — each an independent process."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from applets.runtime import load_card, new_blank_card, save_card
from cardkit.issuer.prepare import years_later
from cardkit.readers.pcsc import PcscReader

from .conftest import CARDKIT, REPO, VPCD_READER

pytestmark = pytest.mark.pcsc
READER = f"pcsc:{VPCD_READER}"
ZHANG = REPO / "docs" / "examples" / "holder-zhang-san.yaml"
SECRET = "e2e passphrase"


def _run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARDKIT_ISSUER_SECRET": SECRET}
    done = subprocess.run([*CARDKIT, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == code, done.stdout + done.stderr
    return done


def test_issue_into_a_card_in_a_reader_then_read_everything(serve_card, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            vpcd_reader: PcscReader) -> None:
    issuer = tmp_path / "issuer"
    _run("issuer", "init", str(issuer))
    image = tmp_path / "blank.card"
    save_card(new_blank_card(serial="8986001234567890123"), image)
    process = serve_card(image)

    issued = _run("issue", "--issuer", str(issuer), "--holder", str(ZHANG), "--reader", READER,
                  "--pins", str(tmp_path / "zhang.pin"))
    assert "issued card" in issued.stdout and "SECURED" in issued.stdout
    assert "PIN 123456" not in issued.stdout + issued.stderr  # the PIN goes to the mailer only
    assert "bank PIN 123456" in (tmp_path / "zhang.pin").read_text()

    # the card manager: CPLC and key information without keys; the default keys are refused now
    info = _run("gp", "info", "--reader", READER, "--json")
    assert "cplc" in info.stdout.lower()
    refused = _run("gp", "list", "--reader", READER, code=1)
    assert refused.stderr.strip().splitlines()[-1] == \
        "error: card cryptogram wrong: the card does not hold these keys (KVN 01)"

    # bank: records and ODA under the issuer's own test CA
    reading = json.loads(_run("emv", "read", "--reader", READER, "--capk", str(issuer / "capk.json"),
                              "--json").stdout)
    assert [a["label"] for a in reading["applications"]] == ["PBOC DEBIT", "PBOC CREDIT"]
    assert all(a["oda"]["method"] == "CDA" and a["oda"]["ok"] for a in reading["applications"]), reading

    # every application through the citizen card reader: ID verified under the issuer's CSCA
    expiry = years_later(date.today(), 10).strftime("%y%m%d")
    mrz = ["--doc-number", "E12345678", "--birth", "900101", "--expiry", expiry]
    report = json.loads(_run("card", "info", "--reader", READER, *mrz, "--trust", str(issuer / "csca.pem"),
                             "--json").stdout)
    status = {a["kind"]: a["status"] for a in report["applications"]}
    # social insurance opens only to a SAM with this issuer's keys: the demo SAM is refused ...
    assert status == {"card": "ok", "bank": "ok", "transit": "ok", "eid": "ok", "social": "locked"}, status
    # ... and the issuer's own (its keys used inside the keystore) reads everything
    report = json.loads(_run("card", "info", "--reader", READER, *mrz, "--trust", str(issuer / "csca.pem"),
                             "--issuer", str(issuer), "--json").stdout)
    assert {a["status"] for a in report["applications"]} == {"ok"}, report
    fields = {a["kind"]: a["fields"] for a in report["applications"]}
    assert fields["eid"]["issuer"] == "trusted" and fields["transit"]["balance"].startswith("50.00")
    assert fields["social"]["medical account"] == "800.00 CNY"
    paid = json.loads(_run("social", "pay", "12.30", "--reader", READER, "--pin", "123456", "--issuer", str(issuer),
                           "--journal", str(tmp_path / "clinic.sqlite"), "--json").stdout)
    assert paid["approved"] and paid["balance"] == "787.70"
    # a metro ride: the gate's PSAM holds the issuer's purse keys; the demo PSAM's MAC1 is refused
    gate = ["--journal", str(tmp_path / "gate.sqlite")]
    refused = _run("transit", "tap", "--reader", READER, "--station", "Xizhimen", *gate, code=1)
    assert refused.stderr.strip() == "error: DEBIT FOR CAPP PURCHASE: the card refused (card answered 9302, MAC " \
        "invalid (PBOC))"
    entry = json.loads(_run("transit", "tap", "--reader", READER, "--station", "Xizhimen", "--issuer", str(issuer),
                            *gate, "--json").stdout)
    assert entry["gate_open"] and entry["action"] == "entry"
    exit_ = json.loads(_run("transit", "tap", "--reader", READER, "--station", "Dongzhimen", "--issuer", str(issuer),
                            *gate, "--json").stdout)
    assert exit_["gate_open"] and exit_["action"] == "exit" and exit_["tac"]
    assert process.stop() == 0

    # the served image is the issued card, and the same CLI refuses to issue that holder again
    assert load_card(image) is not None
    _run("issue", "--issuer", str(issuer), "--holder", str(ZHANG), "--out", str(tmp_path / "again.card"), code=1)
