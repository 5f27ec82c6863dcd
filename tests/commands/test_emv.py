"""`cardkit card new --demo` and `cardkit emv pay` on a virtual card: outcomes, JSON, exit codes, secrets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from applets.runtime import load_card
from cli import main

REQUIRED_TAGS = ["9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37", "82", "9F36", "9F10", "9F26", "9F27",
                 "5A", "5F34", "84"]


@pytest.fixture(scope="module")
def demo_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = tmp_path_factory.mktemp("demo") / "demo.card"
    assert main(["card", "new", "--demo", str(image)]) == 0
    return image


@pytest.fixture
def card(demo_image: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo card for each test (payments change its counters)."""
    copy = tmp_path / "card.card"
    copy.write_bytes(demo_image.read_bytes())
    os.chmod(copy, 0o600)
    return copy


def pay(capsys: pytest.CaptureFixture[str], card: Path, *args: str) -> tuple[int, dict]:
    code = main(["emv", "pay", *args, "--reader", f"virtual:{card}", "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_demo_card_is_private_and_says_what_it_holds(demo_image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert stat.S_IMODE(os.stat(demo_image).st_mode) == 0o600
    assert main(["card", "new", "--demo", str(demo_image)]) == 1  # never overwritten silently


def test_contact_payment_is_approved_online_with_every_element(card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = pay(capsys, card, "12.50", "--pin", "123456")
    assert code == 0 and out["outcome"] == "approved-online" and out["response_code"] == "00"
    assert out["amount"] == "12.50" and out["data"]["9F02"] == "000000001250"
    assert all(tag in out["data"] for tag in REQUIRED_TAGS)
    assert out["data"]["5A"] == "622848*********0018" and out["pan"] == "622848*********0018"
    assert "0000000000018" not in json.dumps(out)  # the full PAN appears nowhere, track 2 included
    assert out["oda"] == "CDA" and "123456" not in json.dumps(out)


def test_the_card_remembers_the_transaction(card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, first = pay(capsys, card, "1.00", "--pin", "123456")
    _, second = pay(capsys, card, "1.00", "--pin", "123456")
    assert int(second["data"]["9F36"], 16) == int(first["data"]["9F36"], 16) + 1


def test_contactless_small_amount_is_approved_offline_from_electronic_cash(
    card: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = pay(capsys, card, "3.00", "--contactless")
    assert code == 0 and out["outcome"] == "approved-offline" and out["oda"] == "FDDA" and out["contactless"]
    assert out["data"]["9F27"] == "40"


def _pin_try_counter(image: Path) -> int:
    card = load_card(image)
    card.power_on()
    card.transmit(bytes.fromhex("00A4040008A000000333010101"))
    response = card.transmit(bytes.fromhex("80CA9F1700"))
    assert response[-2:] == b"\x90\x00" and response[:3] == bytes.fromhex("9F1701")
    return response[3]


def test_a_wrong_pin_is_offered_once_then_online_pin(card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = pay(capsys, card, "12.50", "--pin", "000000")
    # offline PIN wrong once; the pad does not repeat it, so the next CVM rule (online PIN) applies
    assert code == 0 and out["outcome"] == "approved-online"
    assert out["cvm_results"].startswith("42") and "ONLINE_PIN_ENTERED" in out["tvr"]["bits"]
    assert _pin_try_counter(card) == 2
    code, out = pay(capsys, card, "12.50", "--pin", "123456")
    assert code == 0 and out["cvm_results"].startswith("41") and _pin_try_counter(card) == 3


@pytest.mark.parametrize("amount", ["abc", "-1", "0", "1.234"])
def test_bad_amounts_are_usage_errors(card: Path, amount: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emv", "pay", amount, "--reader", f"virtual:{card}"]) == 2


def test_missing_card_image_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emv", "pay", "1.00", "--reader", f"virtual:{tmp_path / 'none.card'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_emv_read_shows_every_application_masked(card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emv", "read", "--reader", f"virtual:{card}", "--json"]) == 0
    raw = capsys.readouterr().out
    apps = json.loads(raw)["applications"]
    assert [a["label"] for a in apps] == ["PBOC DEBIT", "PBOC CREDIT"]
    debit = apps[0]
    assert debit["oda"] == {"method": "CDA", "ok": True, "failure": None,
                            "note": "issuer and ICC certificates verified; the CDA signature comes with GENERATE AC"}
    assert debit["records"][1]["data"]["5A"] == "622848*********0018" and debit["counters"]["9F17"] == "3"
    assert "0000000000018" not in raw  # no full PAN anywhere (track 2 included)


def test_emv_read_text_names_the_tags(card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emv", "read", "--reader", f"virtual:{card}"]) == 0
    out = capsys.readouterr().out
    assert "Application Primary Account Number (PAN)" in out and "CDA ok" in out
    assert "electronic cash balance (9F79): 500.00 CNY" in out and "0000000000018" not in out
