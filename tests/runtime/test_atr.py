"""ATR (ISO 7816-3 §8) and contactless identity (ISO 14443, PC/SC part 3)."""

from __future__ import annotations

import pytest

from applets.runtime import ContactlessIdentity, new_blank_card, parse_atr
from applets.runtime.atr import (
    HISTORICAL_BYTES,
    ats_historical_bytes,
    build_contact_atr,
    derive_uid,
)


def _xor(b: bytes) -> int:
    x = 0
    for v in b:
        x ^= v
    return x


def test_contact_atr_offers_t0_then_t1_with_good_tck() -> None:
    atr = new_blank_card(serial="1").atr
    info = parse_atr(atr)
    assert atr[0] == 0x3B
    assert info.protocols == (0, 1)  # T=0 first: EMV terminals and T=0-only tools pick it
    assert info.tck_ok and _xor(atr[1:]) == 0
    assert info.historical_bytes == HISTORICAL_BYTES
    assert info.interface_bytes["TA3"] == 0xFE and info.interface_bytes["TB3"] == 0x45
    assert len(atr) <= 33


def test_historical_bytes_name_cardkit() -> None:
    assert HISTORICAL_BYTES[0] == 0x80  # COMPACT-TLV follows
    assert b"cardkit" in HISTORICAL_BYTES
    assert HISTORICAL_BYTES[-4] == 0x73  # card capabilities, 3 bytes


def test_parse_atr_known_vectors() -> None:
    assert parse_atr(bytes.fromhex("3B00")).protocols == (0,)
    only_t1 = parse_atr(bytes.fromhex("3B800181"))
    assert only_t1.protocols == (1,) and only_t1.tck_ok
    both = parse_atr(bytes.fromhex("3B80800101"))
    assert both.protocols == (0, 1) and both.tck_ok
    assert not parse_atr(bytes.fromhex("3B80800102")).tck_ok


@pytest.mark.parametrize("bad", ["", "3B", "3C00", "3B8180", "3B8001", "3B02AA", "3B0000"])
def test_parse_atr_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_atr(bytes.fromhex(bad))


def test_build_contact_atr_limits() -> None:
    with pytest.raises(ValueError):
        build_contact_atr(bytes(16))
    assert parse_atr(build_contact_atr(b"")).tck_ok


def test_contactless_identity() -> None:
    card = new_blank_card(serial="1234567890")
    cl = card.contactless
    assert len(cl.uid) == 7 and cl.uid[0] != 0x88
    assert cl.atqa == bytes.fromhex("0044") and cl.sak == 0x20
    assert cl.ats[0] == len(cl.ats)  # TL counts itself
    assert cl.ats[1:5] == bytes.fromhex("78807002")
    assert ats_historical_bytes(cl.ats) == HISTORICAL_BYTES
    assert cl.atr[:4] == bytes([0x3B, 0x80 | len(HISTORICAL_BYTES), 0x80, 0x01])
    info = parse_atr(cl.atr)
    assert info.protocols == (0, 1) and info.tck_ok and info.historical_bytes == HISTORICAL_BYTES
    assert card.power_on(contactless=True) == cl.atr


def test_uid_from_config_and_derivation() -> None:
    assert new_blank_card(serial="1", uid=bytes(range(7))).contactless.uid == bytes(range(7))
    assert derive_uid(b"x") == derive_uid(b"x") != derive_uid(b"y")
    with pytest.raises(ValueError):
        ContactlessIdentity(b"\x01\x02\x03\x04")
