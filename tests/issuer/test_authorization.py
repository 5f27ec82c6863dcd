"""The issuer's side of CVN 01: ARQC checks, ARPC and script commands, cross-checked with the raw recipes."""

from __future__ import annotations

import pytest

from cardkit.crypto.emv import (
    derive_icc_master_key,
    derive_session_key,
    derive_sm_session_key,
    script_decrypt,
    script_mac,
    verify_arpc_method1,
)
from cardkit.crypto.hazmat import InvalidMac
from cardkit.crypto.pin import decode_pin_block
from cardkit.errors import CryptoError
from cardkit.issuer.authorization import (
    AC_DATA_TAGS,
    ScriptCommand,
    ac_input,
    issuer_script,
    make_arpc,
    verify_arqc,
)
from cardkit.issuer.demo_keys import DEMO_PAN
from tests.issuer._data import ISSUER, MK_AC, arqc_icc_data


def test_ac_input_is_the_fixed_list_then_the_cvr() -> None:
    data = arqc_icc_data()
    raw = ac_input(data)
    assert len(raw) == 6 + 6 + 2 + 5 + 2 + 3 + 1 + 4 + 2 + 2 + 4
    assert raw.endswith(bytes.fromhex("00070" "3A0A000"))


def test_a_good_arqc_verifies_and_any_changed_element_does_not() -> None:
    data = arqc_icc_data()
    verify_arqc(ISSUER, data)
    for tag in AC_DATA_TAGS:
        tampered = dict(data)
        tampered[tag] = bytes([data[tag][0] ^ 0x01]) + data[tag][1:]
        with pytest.raises(InvalidMac):
            verify_arqc(ISSUER, tampered)


def test_missing_or_misshapen_elements_are_named() -> None:
    data = arqc_icc_data()
    del data[0x9F37]
    with pytest.raises(CryptoError, match="9F37"):
        verify_arqc(ISSUER, data)
    data = arqc_icc_data()
    data[0x9F10] = bytes.fromhex("06010203")
    with pytest.raises(CryptoError, match="9F10"):
        ac_input(data)


def test_arpc_is_method_1_under_the_session_key() -> None:
    data = arqc_icc_data()
    tag91 = make_arpc(ISSUER, data, b"00")
    assert tag91[8:] == b"00"
    verify_arpc_method1(derive_session_key(MK_AC, data[0x9F36]), data[0x9F26], b"00", tag91[:8])


def test_script_mac_covers_header_atc_arqc_and_data() -> None:
    data = arqc_icc_data()
    cmd = issuer_script(ISSUER, data, ScriptCommand.APPLICATION_BLOCK)
    assert cmd[:5] == bytes.fromhex("841E000008")
    smi = derive_sm_session_key(derive_icc_master_key(ISSUER.imk_smi, DEMO_PAN, 1), data[0x9F26])
    assert cmd[5:] == script_mac(smi, cmd[:5], transaction_data=data[0x9F36] + data[0x9F26])


def test_put_data_and_pin_change_scripts() -> None:
    data = arqc_icc_data()
    put = issuer_script(ISSUER, data, ScriptCommand.PUT_DATA, tag=0x9F79, value=bytes.fromhex("000000010000"))
    assert put[:5] == bytes.fromhex("84DA9F790E") and put[5:11] == bytes.fromhex("000000010000")
    change = issuer_script(ISSUER, data, ScriptCommand.PIN_CHANGE, new_pin="654321")
    assert change[:4] == bytes.fromhex("84240002") and change[4] == len(change) - 5
    smc = derive_sm_session_key(derive_icc_master_key(ISSUER.imk_smc, DEMO_PAN, 1), data[0x9F26])
    assert decode_pin_block(script_decrypt(smc, change[5:-8])) == "654321"
    assert b"654321" not in change and "654321" not in change.hex()


def test_the_session_key_verify_arqc_returns_makes_the_same_arpc() -> None:
    """A host derives the card's session key once: verify_arqc hands it to make_arpc."""
    from cardkit.issuer.authorization import card_session_key, make_arpc

    data = arqc_icc_data()
    key = verify_arqc(ISSUER, data)
    assert key == card_session_key(ISSUER, data)
    assert make_arpc(ISSUER, data, b"00", session_key=key) == make_arpc(ISSUER, data, b"00")
