"""`cardkit gp` on the fake ISD (the reader factory is pointed at it): output, JSON, errors, no keys echoed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from cardkit.gp import StaticKeys
from cardkit.readers import VirtualReader
from cli import main

from .fakecard import Entry, FakeIsd

H = bytes.fromhex
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def card() -> FakeIsd:
    return FakeIsd(entries=[Entry(0x80, H("A000000151000000"), 0x0F, H("9EFE80")),
                            Entry(0x40, H("A0000003330101"), 0x0F, H("00")),
                            Entry(0x10, H("F0636172646B697401"), 0x01, modules=(H("F0636172646B69740101"),))])


@pytest.fixture
def gp(card: FakeIsd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setattr("cardkit.readers.open_reader", lambda name: VirtualReader(card, name=name))  # type: ignore[arg-type]

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["gp", *args, "--reader", "virtual:fake"])
        got = capsys.readouterr()
        return code, got.out, got.err

    return run


def test_info_json_and_the_default_key_warning(gp: Run) -> None:
    code, out, err = gp("info", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["cplc"]["ic_fabricator"] == "4790" and report["cplc"]["ic_fabrication_date"]["value"] == "3332"
    assert report["card_data"]["gp_version"] == "2.1.1" and report["card_data"]["scp"] == ["SCP03 i=70"]
    assert report["iin"] == "123456" and report["cin"] is None
    assert [k["type"] for k in report["keys"]] == ["AES"] * 3
    assert report["life_cycle"] == "SECURED"
    assert "published GlobalPlatform test keys" in err


def test_info_with_wrong_keys_still_shows_what_needs_none(gp: Run, card: FakeIsd) -> None:
    code, out, err = gp("info", "--key", "00" * 16)
    assert code == 0
    assert "Card Production Life Cycle" in out and "card cryptogram wrong" in out
    assert card.auth_failures == 0  # the wrong keys never reached EXTERNAL AUTHENTICATE
    assert "warning" not in err


def test_list_table_and_json(gp: Run) -> None:
    code, out, _ = gp("list")
    assert code == 0 and "A0000003330101" in out and "PERSONALIZED" in out and "SECURED" in out
    code, out, _ = gp("list", "--json", "--scp-level", "mac")
    rows = json.loads(out)
    assert [r["kind"] for r in rows] == ["ISD", "APP", "LOAD FILE"]
    assert rows[2]["modules"] == ["F0636172646B69740101"] and rows[0]["privileges"][0] == "Security Domain"


def test_put_key_then_use_it_and_delete_the_old_set(gp: Run, card: FakeIsd) -> None:
    new = "000102030405060708090A0B0C0D0E0F"
    code, out, err = gp("put-key", "--kvn", "0x30", "--new-key", new, "--new-kvn", "0x31", "--json")
    assert code == 0, err
    assert json.loads(out)["kcv"]["enc"] == StaticKeys.single(H(new)).kcvs(3)[0].hex().upper()
    assert new not in out and new not in err
    code, out, err = gp("delete-key", "--kvn", "0x30", "--auth-kvn", "0x31", "--key", new)
    assert code == 0, err
    assert sorted(card.key_sets) == [0x31] and "deleted" in out


def test_lock_unlock_card_and_application(gp: Run, card: FakeIsd) -> None:
    assert gp("lock")[0] == 0 and card.life_cycle == 0x7F
    assert gp("unlock")[0] == 0 and card.life_cycle == 0x0F
    assert gp("lock", "--aid", "A0000003330101")[0] == 0 and card.entries[1].state == 0x8F
    assert gp("unlock", "--aid", "A0000003330101")[0] == 0 and card.entries[1].state == 0x0F


def test_set_status_terminated_asks_first(gp: Run, card: FakeIsd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("click.confirm", lambda *a, **k: (_ for _ in ()).throw(__import__("click").Abort()))
    code, _, err = gp("set-status", "terminated")
    assert code == 130 and card.life_cycle == 0x0F
    code, out, _ = gp("set-status", "terminated", "--yes")
    assert code == 0 and card.life_cycle == 0xFF and "TERMINATED" in out


def test_errors_are_one_line_and_never_echo_keys(gp: Run) -> None:
    secret = "11" * 15 + "ZZ"
    code, _, err = gp("list", "--key", secret)
    assert code == 2 and secret not in err and "not hexadecimal" in err
    code, _, err = gp("list", "--key", "11" * 16)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: card cryptogram wrong")
    assert "11" * 16 not in err
    code, _, err = gp("put-key", "--new-kvn", "2")
    assert code == 2 and "--new-key" in err
    code, _, err = gp("list", "--key", "11" * 16, "--key-enc", "11" * 16)
    assert code == 2 and "not both" in err
