"""``cardkit social info`` / ``pay`` on a virtual image from ``cardkit card new --demo``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from pos_sim.journal import Journal


@pytest.fixture
def social(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    image = tmp_path / "card.card"
    assert main(["card", "new", "--demo", str(image)]) == 0
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["social", *args, "--reader", f"virtual:{image}"])
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def test_info(social) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = social("info", "--json")
    data = json.loads(out)
    assert code == 0 and data["medical_balance"] == "800.00" and data["holder"]["name"] == "张三"
    assert data["insurance"]["medical"]["state"] == "enrolled" and "110105199001010010" not in out
    code, out, _ = social("info")
    assert code == 0 and "800.00 CNY" in out and "ZHANG/SAN" in out


def test_pay_journal_and_receipt(social, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    journal = tmp_path / "clinic.sqlite"
    code, out, _ = social("pay", "12.50", "--pin", "123456", "--journal", str(journal))
    assert code == 0 and "医保支付 MEDICAL" in out and "CNY 787.50" in out and "123456" not in out
    code, out, _ = social("pay", "1000", "--pin", "123456", "--journal", str(journal))
    assert code == 3
    with Journal(journal) as j:
        kinds = [(e.kind, e.status.value, e.amount) for e in j.entries()]
    assert kinds[0][0] == "medical" and kinds[0][2] == 1250 and len(kinds) == 2
    assert json.loads(social("info", "--json")[1])["medical_balance"] == "787.50"


def test_wrong_and_blocked_pin(social, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    journal = ("--journal", str(tmp_path / "clinic.sqlite"))
    code, _, err = social("pay", "1", "--pin", "000000", *journal)
    assert code == 3 and "wrong PIN: 2 tries left" in err and err.count("\n") == 1
    social("pay", "1", "--pin", "000000", *journal)
    social("pay", "1", "--pin", "000000", *journal)
    code, _, err = social("pay", "1", "--pin", "123456", *journal)
    assert code == 3 and "blocked" in err
