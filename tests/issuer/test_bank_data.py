"""Data preparation for the bank application: the DGIs of docs/bank.md, checked as a terminal would."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.crypto.emv import derive_icc_master_key
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.oda import (
    recover_icc_key,
    recover_issuer_key,
    static_data_to_authenticate,
    verify_static_data,
)
from cardkit.crypto.pin import decode_pin_block
from cardkit.issuer import BankAccount, prepare_bank_dgis
from cardkit.issuer.bank_data import AFL_CONTACT, describe_dgis, track2
from cardkit.issuer.demo_keys import DEMO_PAN, demo_capk, demo_issuer
from cardkit.tlv import decode, find

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def icc_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=3, key_size=1024)


@pytest.fixture(scope="module")
def account() -> BankAccount:
    return BankAccount(DEMO_PAN, "ZHANG/SAN", date(2030, 12, 31), date(2025, 1, 1), psn=1, ec_balance=12_345)


@pytest.fixture(scope="module")
def dgis(account: BankAccount, icc_key: rsa.RSAPrivateKey) -> dict[int, bytes]:
    return prepare_bank_dgis(account, demo_issuer(), icc_key=icc_key)


def _value(record: bytes, tag: int) -> bytes | None:
    node = find(decode(record), tag)
    return node.value if node is not None else None


def test_every_dgi_of_the_contract_is_there(dgis: dict[int, bytes]) -> None:
    expected = {0x0101, 0x0201, 0x0301, 0x0302, 0x0303, 0x9102, 0x9104, 0x9105, 0x8000, 0x9000, 0x8010, 0x9010,
                0x8201, 0x8202, 0x8203, 0x8204, 0x8205, 0x0D01, 0x0E01}
    assert set(dgis) == expected
    for dgi in (0x0101, 0x0201, 0x0301, 0x0302, 0x0303):
        assert dgis[dgi][0] == 0x70 and len(dgis[dgi]) <= 254  # fits one READ RECORD response


def test_card_keys_are_the_option_a_keys_with_their_check_values(dgis: dict[int, bytes], account: BankAccount) -> None:
    issuer = demo_issuer()
    keys = [dgis[0x8000][i : i + 16] for i in (0, 16, 32)]
    assert keys == [derive_icc_master_key(k, account.pan, account.psn)
                    for k in (issuer.imk_ac, issuer.imk_smi, issuer.imk_smc)]
    assert dgis[0x9000] == b"".join(kcv(k) for k in keys)


def test_pin_is_a_format_2_block_and_counters_start_full(dgis: dict[int, bytes]) -> None:
    assert decode_pin_block(dgis[0x8010]) == "123456"
    assert dgis[0x9010] == b"\x03\x03"
    assert _value(dgis[0x0E01], 0x9F79) == bytes.fromhex("000000012345")


def test_rsa_crt_parts_rebuild_the_icc_key(dgis: dict[int, bytes], icc_key: rsa.RSAPrivateKey) -> None:
    n = icc_key.private_numbers()
    q_inv, dq, dp, q, p = (int.from_bytes(dgis[d], "big") for d in (0x8201, 0x8202, 0x8203, 0x8204, 0x8205))
    assert (q_inv, dq, dp, q, p) == (n.iqmp, n.dmq1, n.dmp1, n.q, n.p)


def test_track2_carries_pan_expiry_and_service_code(account: BankAccount) -> None:
    assert track2(account).hex().upper() == "6228480000000000018D3012220" + "00000"  # 32 digits: no F pad


def test_a_terminal_recovers_the_certificate_chain_and_static_signature(dgis: dict[int, bytes]) -> None:
    """The records verify under the demo CAPK exactly as the kernel will check them (Book 2 §5-§6)."""
    records = {dgi: dgis[dgi] for dgi in (0x0201, 0x0301, 0x0302, 0x0303)}
    pan = _value(records[0x0201], 0x5A)
    assert pan is not None
    assert _value(records[0x0301], 0x8F) == bytes((demo_capk().index,))
    issuer = recover_issuer_key(
        demo_capk(), _value(records[0x0301], 0x90), _value(records[0x0301], 0x92), _value(records[0x0301], 0x9F32),
        pan=pan, today=TODAY,
    )
    aip = dgis[0x9104][:2]
    assert aip == dgis[0x9105][:2]  # one AIP, so the ICC certificate's static data hash holds on both paths
    static = static_data_to_authenticate([(2, records[0x0201])], aip=aip, sda_tag_list=b"\x82")
    icc = recover_icc_key(
        issuer, _value(records[0x0303], 0x9F46), _value(records[0x0303], 0x9F48), _value(records[0x0303], 0x9F47),
        pan=pan, static_data=static, today=TODAY,
    )
    assert icc.pan == DEMO_PAN
    assert verify_static_data(issuer, _value(records[0x0302], 0x93), static) == bytes.fromhex("DAC1")


def test_afl_marks_only_the_application_record_for_oda(dgis: dict[int, bytes]) -> None:
    assert dgis[0x9104][2:] == AFL_CONTACT
    assert AFL_CONTACT[4:8] == bytes.fromhex("10010101")


def test_description_is_safe_to_log(dgis: dict[int, bytes]) -> None:
    text = "\n".join(describe_dgis(dgis))
    assert dgis[0x8000].hex() not in text.lower() and "DGI 8000: 48 bytes" in text


def test_repr_of_keys_and_account_hides_secrets(account: BankAccount) -> None:
    issuer = demo_issuer()
    assert issuer.imk_ac.hex().upper() not in repr(issuer) and "KCV" in repr(issuer)
    assert "123456" not in repr(account)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pan": "12345"}, "PAN"),
        ({"psn": 100}, "sequence"),
        ({"service_code": "22"}, "service code"),
        ({"ec_balance": -1}, "negative"),
    ],
)
def test_bad_accounts_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"pan": DEMO_PAN, "holder_name": "A", "expiry": date(2030, 1, 1),
                               "effective": date(2020, 1, 1)}
    with pytest.raises(ValueError, match=message):
        BankAccount(**(base | kwargs))  # type: ignore[arg-type]
