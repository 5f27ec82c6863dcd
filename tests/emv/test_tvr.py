"""TVR, TSI, CID and CVM results: named bits sit where Book 3 Annex C puts them, bytes round-trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardkit.emv import Cid, CryptogramType, CvmResult, CvmResults, Tsi, Tvr

TVR_POSITIONS = [
    (Tvr.ODA_NOT_PERFORMED, "8000000000"),
    (Tvr.SDA_FAILED, "4000000000"),
    (Tvr.ICC_DATA_MISSING, "2000000000"),
    (Tvr.CARD_ON_EXCEPTION_FILE, "1000000000"),
    (Tvr.DDA_FAILED, "0800000000"),
    (Tvr.CDA_FAILED, "0400000000"),
    (Tvr.SDA_SELECTED, "0200000000"),
    (Tvr.DIFFERENT_APP_VERSIONS, "0080000000"),
    (Tvr.EXPIRED_APPLICATION, "0040000000"),
    (Tvr.APP_NOT_YET_EFFECTIVE, "0020000000"),
    (Tvr.SERVICE_NOT_ALLOWED, "0010000000"),
    (Tvr.NEW_CARD, "0008000000"),
    (Tvr.CARDHOLDER_VERIFICATION_FAILED, "0000800000"),
    (Tvr.UNRECOGNISED_CVM, "0000400000"),
    (Tvr.PIN_TRY_LIMIT_EXCEEDED, "0000200000"),
    (Tvr.PIN_PAD_NOT_PRESENT, "0000100000"),
    (Tvr.PIN_NOT_ENTERED, "0000080000"),
    (Tvr.ONLINE_PIN_ENTERED, "0000040000"),
    (Tvr.EXCEEDS_FLOOR_LIMIT, "0000008000"),
    (Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED, "0000004000"),
    (Tvr.UPPER_OFFLINE_LIMIT_EXCEEDED, "0000002000"),
    (Tvr.RANDOMLY_SELECTED_ONLINE, "0000001000"),
    (Tvr.MERCHANT_FORCED_ONLINE, "0000000800"),
    (Tvr.DEFAULT_TDOL_USED, "0000000080"),
    (Tvr.ISSUER_AUTHENTICATION_FAILED, "0000000040"),
    (Tvr.SCRIPT_FAILED_BEFORE_FINAL_GAC, "0000000020"),
    (Tvr.SCRIPT_FAILED_AFTER_FINAL_GAC, "0000000010"),
]


@pytest.mark.parametrize(("bit", "hexed"), TVR_POSITIONS, ids=[b.name for b, _ in TVR_POSITIONS])
def test_tvr_bit_positions(bit: Tvr, hexed: str) -> None:
    assert bit.to_bytes().hex().upper() == hexed
    assert Tvr.from_bytes(bytes.fromhex(hexed)) is bit


def test_tvr_combines_and_names_bits() -> None:
    tvr = Tvr.EXPIRED_APPLICATION | Tvr.ONLINE_PIN_ENTERED | Tvr.EXCEEDS_FLOOR_LIMIT
    assert tvr.to_bytes().hex().upper() == "0040048000"
    assert Tvr.ONLINE_PIN_ENTERED in tvr and Tvr.NEW_CARD not in tvr
    assert tvr.names() == ["EXPIRED_APPLICATION", "ONLINE_PIN_ENTERED", "EXCEEDS_FLOOR_LIMIT"]


@given(st.binary(min_size=5, max_size=5))
def test_tvr_round_trips_every_value_including_rfu(raw: bytes) -> None:
    assert Tvr.from_bytes(raw).to_bytes() == raw


@given(st.binary(min_size=2, max_size=2))
def test_tsi_round_trips(raw: bytes) -> None:
    assert Tsi.from_bytes(raw).to_bytes() == raw


def test_tsi_bit_positions() -> None:
    assert Tsi.ODA_PERFORMED.to_bytes() == b"\x80\x00"
    assert Tsi.CARDHOLDER_VERIFICATION_PERFORMED.to_bytes() == b"\x40\x00"
    assert Tsi.CARD_RISK_MANAGEMENT_PERFORMED.to_bytes() == b"\x20\x00"
    assert Tsi.ISSUER_AUTHENTICATION_PERFORMED.to_bytes() == b"\x10\x00"
    assert Tsi.TERMINAL_RISK_MANAGEMENT_PERFORMED.to_bytes() == b"\x08\x00"
    assert Tsi.SCRIPT_PROCESSING_PERFORMED.to_bytes() == b"\x04\x00"
    assert (Tsi.ODA_PERFORMED | Tsi.TERMINAL_RISK_MANAGEMENT_PERFORMED).to_bytes() == b"\x88\x00"


@pytest.mark.parametrize("wrong", [b"", b"\x00" * 4, b"\x00" * 6])
def test_wrong_lengths_are_refused(wrong: bytes) -> None:
    with pytest.raises(ValueError):
        Tvr.from_bytes(wrong)
    with pytest.raises(ValueError):
        Tsi.from_bytes(wrong)


@pytest.mark.parametrize(
    ("value", "kind", "advice", "reason"),
    [(0x00, CryptogramType.AAC, False, 0), (0x40, CryptogramType.TC, False, 0),
     (0x80, CryptogramType.ARQC, False, 0), (0xC0, CryptogramType.AAR, False, 0),
     (0x0A, CryptogramType.AAC, True, 2), (0x43, CryptogramType.TC, False, 3)],
)
def test_cid_decoding(value: int, kind: CryptogramType, advice: bool, reason: int) -> None:
    cid = Cid.from_bytes(bytes((value,)))
    assert (cid.type, cid.advice_required, cid.reason) == (kind, advice, reason)
    assert cid.to_bytes() == bytes((value,))


def test_cvm_results_round_trip_and_default() -> None:
    assert CvmResults().to_bytes() == bytes.fromhex("3F0000")
    r = CvmResults.from_bytes(bytes.fromhex("420300"))
    assert (r.method, r.condition, r.result) == (0x42, 0x03, CvmResult.UNKNOWN)
    assert r.to_bytes() == bytes.fromhex("420300")
