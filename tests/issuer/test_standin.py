"""The in-process issuer stand-in: real ARQC checks, real ARPCs, queued scripts."""

from __future__ import annotations

from cardkit.crypto.emv import derive_session_key, verify_arpc_method1
from cardkit.issuer.authorization import ScriptCommand
from pos_sim.issuer_standin import IssuerStandIn
from tests.issuer._data import ISSUER, MK_AC, arqc_icc_data


def test_a_good_arqc_is_approved_with_a_verifiable_arpc() -> None:
    data = arqc_icc_data()
    answer = IssuerStandIn(ISSUER).authorize(data)
    assert answer.approved and answer.response_code == "00" and answer.arc == b"00"
    assert answer.auth_code == "000001" and answer.scripts == ()
    sk = derive_session_key(MK_AC, data[0x9F36])
    verify_arpc_method1(sk, data[0x9F26], b"00", answer.issuer_auth_data[:8])
    assert answer.issuer_auth_data[8:] == b"00"


def test_a_tampered_request_is_declined_without_an_arpc() -> None:
    data = arqc_icc_data()
    data[0x9F02] = bytes.fromhex("000000999999")
    answer = IssuerStandIn(ISSUER).authorize(data)
    assert not answer.approved and answer.response_code == "05" and "ARQC" in answer.reason
    assert answer.issuer_auth_data == b""


def test_a_configured_decline_still_authenticates_itself() -> None:
    data = arqc_icc_data()
    answer = IssuerStandIn(ISSUER, decline_code="51").authorize(data)
    assert not answer.approved and answer.arc == b"51" and answer.auth_code == ""
    verify_arpc_method1(derive_session_key(MK_AC, data[0x9F36]), data[0x9F26], b"51", answer.issuer_auth_data[:8])


def test_queued_scripts_go_out_once() -> None:
    standin = IssuerStandIn(ISSUER)
    standin.queue_script(ScriptCommand.APPLICATION_BLOCK)
    first = standin.authorize(arqc_icc_data())
    assert len(first.scripts) == 1 and first.scripts[0].command[:4] == bytes.fromhex("841E0000")
    assert first.scripts[0].tlv()[:1] == b"\x72"
    assert standin.authorize(arqc_icc_data(b"\x00\x08")).scripts == ()
