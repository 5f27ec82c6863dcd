"""`cardkit transit` on a virtual demo card: balance, top-up through the embedded host, taps, log, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main


@pytest.fixture
def transit(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    image = tmp_path / "card.card"
    assert main(["card", "new", "--demo", str(image)]) == 0
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["transit", *args, "--reader", f"virtual:{image}"])
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def test_balance_load_tap_and_log(transit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = transit("balance", "--json")
    assert code == 0 and json.loads(out)["balance"] == "50.00" and json.loads(out)["serial"].startswith("310000")
    code, out, err = transit("load", "10.00", "--journal", str(tmp_path / "pos.sqlite"), "--json")
    assert code == 0, err
    assert json.loads(out)["balance"] == "60.00"
    gate = str(tmp_path / "gate.sqlite")
    code, out, _ = transit("tap", "--station", "Jishuitan", "--journal", gate, "--json")
    assert code == 0 and json.loads(out)["action"] == "entry"
    code, out, _ = transit("tap", "--station", "Beijingzhan", "--journal", gate)  # 15.2 km: 5.00
    assert code == 0 and "扣费 FARE 5.00" in out and "GATE OPEN" in out
    code, out, _ = transit("log", "--json")
    assert [r["amount"] for r in json.loads(out)] == ["5.00", "0.00", "10.00"]


def test_a_shut_gate_exits_3(transit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.toml"
    rules.write_text('min_entry_balance = 100000\nstations = [{ code = 1, name = "Here" }]\n', encoding="utf-8")
    code, out, _ = transit("tap", "--station", "Here", "--rules", str(rules), "--journal",
                           str(tmp_path / "g.sqlite"), "--json")
    assert code == 3 and not json.loads(out)["gate_open"]


def test_an_unknown_station_is_one_line(transit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = transit("tap", "--station", "Atlantis", "--journal", str(tmp_path / "g.sqlite"))
    assert code == 1 and err.count("\n") == 1 and "no station 'Atlantis'" in err
