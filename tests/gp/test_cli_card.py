"""`cardkit gp` on a card image made by `cardkit card new --blank` (the real card manager, state saved to the image)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from applets.runtime import load_card
from cardkit.cardaids import ISD_AID
from cli import main

Run = Callable[..., tuple[int, str, str]]
ISSUER_KEY = "00112233445566778899AABBCCDDEEFF"


@pytest.fixture
def image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "blank.card"
    assert main(["card", "new", "--blank", str(path)]) == 0
    capsys.readouterr()
    return path


@pytest.fixture
def gp(image: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["gp", *args, "--reader", f"virtual:{image}"])
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def test_info_and_list_on_a_blank_card(gp: Run) -> None:
    code, out, err = gp("info", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["cplc"]["ic_fabricator"] == "434B" and report["card_data"]["gp_version"] == "2.3"
    assert report["card_data"]["scp"] == ["SCP03 i=70", "SCP02 i=55"]
    assert report["life_cycle"] == "OP_READY" and len(report["keys"]) == 6
    code, out, _ = gp("list", "--json")
    rows = json.loads(out)
    assert rows[0] == {**rows[0], "kind": "ISD", "aid": "A000000151000000", "life_cycle": "OP_READY"}
    assert {r["kind"] for r in rows[1:]} <= {"APP", "LOAD FILE"}
    code, out, _ = gp("list", "--kvn", "0x20", "--scp-level", "mac")  # SCP02 key set
    assert code == 0 and "OP_READY" in out


def test_an_issuer_takes_the_card_from_test_keys_to_secured(gp: Run, image: Path) -> None:
    assert gp("set-status", "initialized")[0] == 0
    code, _, err = gp("set-status", "secured")  # refused while a key set holds 40..4F
    assert code == 1 and "6985" in err and err.count("\n") == 2  # the test-key warning, then the error
    code, out, err = gp("put-key", "--kvn", "0x30", "--new-key", ISSUER_KEY, "--new-kvn", "0x31",
                        "--replace-kvn", "0x30")
    assert code == 0, err
    assert "match" in out and ISSUER_KEY not in out + err
    code, _, err = gp("delete-key", "--kvn", "0x20", "--key", ISSUER_KEY)
    assert code == 0, err
    assert gp("set-status", "secured", "--key", ISSUER_KEY)[0] == 0
    assert gp("lock", "--key", ISSUER_KEY)[0] == 0
    manager = load_card(image).applet(ISD_AID)  # the image on disk holds the new state
    assert manager is not None and manager.life_cycle == 0x7F  # type: ignore[attr-defined]
    code, out, _ = gp("info", "--key", ISSUER_KEY, "--json")
    assert json.loads(out)["life_cycle"] == "CARD_LOCKED"
    assert gp("unlock", "--key", ISSUER_KEY)[0] == 0
    code, out, _ = gp("info", "--key", ISSUER_KEY, "--json")
    assert json.loads(out)["life_cycle"] == "SECURED"
    assert [k["kvn"] for k in json.loads(out)["keys"]] == [0x31] * 3
    code, _, err = gp("list")  # the test keys are gone: KVN 00 picks 31, whose keys they are not
    assert code == 1 and "card cryptogram wrong: the card does not hold these keys (KVN 31)" in err


def test_terminate_is_final(gp: Run) -> None:
    code, out, _ = gp("set-status", "terminated", "--yes")
    assert code == 0 and "TERMINATED" in out
    code, _, err = gp("info")
    assert code == 1 and "6A81" in err  # a terminated card answers nothing, SELECT of the ISD included
