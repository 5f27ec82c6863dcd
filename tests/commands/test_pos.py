"""`cardkit pos` on a virtual card and the embedded host: JSON, receipts, exit codes, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli import main


@pytest.fixture
def pos(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    image = tmp_path / "card.card"
    assert main(["card", "new", "--demo", str(image)]) == 0
    capsys.readouterr()
    journal = tmp_path / "pos.sqlite"

    def run(*args: str, reader: bool = True) -> tuple[int, str, str]:
        extra = ["--reader", f"virtual:{image}"] if reader else []
        code = main(["pos", "--journal", str(journal), *args, *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_sale_json_and_receipt_file(pos, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    receipt = tmp_path / "slip.txt"
    code, out, err = pos("sale", "12.50", "--pin", "123456", "--json", "--receipt", str(receipt))
    assert code == 0, err
    got = json.loads(out)
    assert got["approved"] and got["status"] == "approved" and got["amount"] == "12.50" and got["trace"]
    assert got["pan"] == "622848*********0018" and got["emv"]["outcome"] == "approved-online"
    text = receipt.read_text(encoding="utf-8")
    assert "MERCHANT COPY" in text and "CARDHOLDER COPY" in text and "CNY 12.50" in text
    assert "6228480000000000018" not in out + text and "123456" not in text
    assert oct(os.stat(tmp_path / "pos.sqlite").st_mode & 0o777) == "0o600"


def test_void_then_journal_and_settle(pos) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = pos("sale", "20.00", "--pin", "123456", "--json")
    trace = json.loads(out)["trace"]
    assert pos("sale", "5.00", "--pin", "123456", "--json")[0] == 0
    code, out, _ = pos("void", trace, "--json")
    assert code == 0 and json.loads(out)["kind"] == "void"
    code, out, _ = pos("journal", "--json", reader=False)
    statuses = [(e["kind"], e["status"]) for e in json.loads(out)["entries"]]
    assert statuses == [("sale", "voided"), ("sale", "approved"), ("void", "approved")]
    code, out, _ = pos("settle", "--json", reader=False)
    settled = json.loads(out)
    assert code == 0 and settled["in_balance"] and settled["debits_amount"] == "5.00"


def test_png_receipt(pos, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = tmp_path / "slip.png"
    assert pos("sale", "3.00", "--contactless", "--receipt", str(png))[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_declined_sale_exits_3_with_a_declined_receipt(pos) -> None:  # type: ignore[no-untyped-def]
    code, out, err = pos("sale", "60000.00", "--pin", "123456", "--json")  # over the demo debit balance
    assert code == 3 and json.loads(out)["response_code"] in ("51", "61")
    assert "DECLINED" in err  # the receipt goes to stderr beside --json


def test_bad_configuration_is_one_line(pos, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "pos.toml"
    bad.write_text('[merchant]\nmid = "123"\n', encoding="utf-8")
    code = main(["pos", "--config", str(bad), "journal"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "merchant.mid must be 15" in err
