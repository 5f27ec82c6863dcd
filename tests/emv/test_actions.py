"""Terminal action analysis (Book 3 §10.7) and GENERATE AC responses (§6.5.5)."""

from __future__ import annotations

import pytest

from cardkit.emv import CryptogramType, TerminalConfig, Tvr, default_action, terminal_action_analysis
from cardkit.emv.actions import generate_ac_command, parse_ac_response
from cardkit.emv.outcome import CardDataError

OFFLINE_CAPABLE = TerminalConfig(terminal_type=0x22, tac_denial=bytes(5), tac_online=bytes(5),
                                 tac_default=bytes(5))


def iac(denial: str = "0000000000", online: str = "0000000000", default: str = "0000000000") -> dict[bytes, bytes]:
    return {b"\x9f\x0e": bytes.fromhex(denial), b"\x9f\x0f": bytes.fromhex(online),
            b"\x9f\x0d": bytes.fromhex(default)}


def test_clean_tvr_on_an_offline_capable_terminal_asks_for_a_tc() -> None:
    assert terminal_action_analysis(Tvr(0), iac(), OFFLINE_CAPABLE) is CryptogramType.TC


def test_denial_codes_win() -> None:
    tvr = Tvr.EXPIRED_APPLICATION | Tvr.EXCEEDS_FLOOR_LIMIT
    assert terminal_action_analysis(tvr, iac(denial="0040000000", online="FFFFFFFFFF"),
                                    OFFLINE_CAPABLE) is CryptogramType.AAC
    tac = TerminalConfig(tac_denial=bytes.fromhex("0040000000"))
    assert terminal_action_analysis(tvr, iac(online="FFFFFFFFFF"), tac) is CryptogramType.AAC


def test_online_codes_ask_for_an_arqc() -> None:
    tvr = Tvr.EXCEEDS_FLOOR_LIMIT
    assert terminal_action_analysis(tvr, iac(online="0000008000"), OFFLINE_CAPABLE) is CryptogramType.ARQC
    cfg = TerminalConfig(terminal_type=0x22, tac_online=bytes.fromhex("0000008000"), tac_denial=bytes(5))
    assert terminal_action_analysis(tvr, iac(), cfg) is CryptogramType.ARQC
    assert terminal_action_analysis(Tvr.NEW_CARD, iac(online="0000008000"), OFFLINE_CAPABLE) is CryptogramType.TC


def test_absent_iacs_mean_online_and_default_all_ones() -> None:
    assert terminal_action_analysis(Tvr.NEW_CARD, {}, OFFLINE_CAPABLE) is CryptogramType.ARQC
    assert terminal_action_analysis(Tvr(0), {}, OFFLINE_CAPABLE) is CryptogramType.TC
    assert default_action(Tvr.NEW_CARD, {}, OFFLINE_CAPABLE) is CryptogramType.AAC


def test_offline_only_terminal_uses_the_default_codes() -> None:
    cfg = TerminalConfig(terminal_type=0x23, tac_denial=bytes(5), tac_online=bytes(5), tac_default=bytes(5))
    assert not cfg.online_capable
    assert terminal_action_analysis(Tvr.NEW_CARD, iac(default="0008000000"), cfg) is CryptogramType.AAC
    assert terminal_action_analysis(Tvr.NEW_CARD, iac(online="FFFFFFFFFF"), cfg) is CryptogramType.TC


def test_online_only_terminal_always_asks_for_an_arqc() -> None:
    cfg = TerminalConfig(terminal_type=0x21, tac_denial=bytes(5))
    assert terminal_action_analysis(Tvr(0), iac(), cfg) is CryptogramType.ARQC
    assert terminal_action_analysis(Tvr.SERVICE_NOT_ALLOWED, iac(denial="0010000000"), cfg) is CryptogramType.AAC


def test_unable_to_go_online_override() -> None:
    tvr = Tvr.EXCEEDS_FLOOR_LIMIT
    codes = iac(online="0000008000", default="0000008000")
    assert terminal_action_analysis(tvr, codes, OFFLINE_CAPABLE, can_go_online=False) is CryptogramType.AAC
    assert default_action(tvr, iac(default="0000000000"), OFFLINE_CAPABLE) is CryptogramType.TC


def test_generate_ac_command_p1() -> None:
    assert generate_ac_command(CryptogramType.ARQC, b"\x01").p1 == 0x80
    assert generate_ac_command(CryptogramType.TC, b"\x01", cda=True).p1 == 0x50
    assert generate_ac_command(CryptogramType.AAC, b"\x01").to_bytes().hex().upper() == "80AE0000010100"


def test_parse_format_1_and_2() -> None:
    r = parse_ac_response(bytes.fromhex("801280 0005 1122334455667788 07010103A00000".replace(" ", "")))
    assert r.cid.type is CryptogramType.ARQC and r.atc == b"\x00\x05"
    assert r.ac == bytes.fromhex("1122334455667788") and r.iad == bytes.fromhex("07010103A00000")
    f2 = bytes.fromhex("7714 9F270140 9F36020005 9F26081122334455667788".replace(" ", ""))
    r2 = parse_ac_response(f2)
    assert r2.cid.type is CryptogramType.TC and r2.ac == bytes.fromhex("1122334455667788") and r2.iad == b""


@pytest.mark.parametrize("raw", ["8005400001AABB", "770A9F360200059F260100", "6F00", "", "80FF"])
def test_malformed_responses(raw: str) -> None:
    with pytest.raises(CardDataError):
        parse_ac_response(bytes.fromhex(raw))
