"""cardkit.crypto.pin: ISO 9564-1 PIN blocks; tests/vectors/crypto_pin.txt holds the KATs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as RawTDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given
from hypothesis import strategies as st
from pyemv import sm as psm

from cardkit.crypto.pin import PinBlock, decode_pin_block, decrypt_pin_block, encode_pin_block, encrypt_pin_block
from cardkit.errors import CryptoError

from .vectors import Vector, ids, load

VECTORS = load("crypto_pin.txt")
ZPK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


@pytest.mark.parametrize("v", VECTORS, ids=ids)
def test_pin_block_kat(v: Vector) -> None:
    pan = v.get("pan")
    block = encode_pin_block(v["pin"], pan, int(v["format"]))
    assert block.reveal() == v.h("block")
    assert decode_pin_block(block, pan) == v["pin"]
    assert decode_pin_block(v.h("block"), pan) == v["pin"]


pins = st.text("0123456789", min_size=4, max_size=12)
pans = st.text("0123456789", min_size=13, max_size=19)


@given(pin=pins, pan=pans, fmt=st.sampled_from([0, 1, 2, 3]), fill=st.binary(min_size=10, max_size=10))
def test_roundtrip_every_format(pin: str, pan: str, fmt: int, fill: bytes) -> None:
    block = encode_pin_block(pin, pan, fmt, rng=lambda n: fill[:n])
    assert block.format == fmt and block.reveal()[0] >> 4 == fmt
    assert decode_pin_block(block, pan) == pin
    enc = encrypt_pin_block(ZPK, block)
    assert enc == Cipher(RawTDES(ZPK + ZPK[:8]), modes.ECB()).encryptor().update(block.reveal())
    assert decrypt_pin_block(ZPK, enc) == block


@given(pin=pins)
def test_format2_matches_pyemv(pin: str) -> None:
    assert encode_pin_block(pin, format=2).reveal() == psm.format_iso9564_2_pin_block(pin)


def test_format3_fill_is_a_to_f() -> None:
    block = encode_pin_block("1234", "43219876543210987", 3, rng=lambda n: bytes(range(n)))
    clear = int.from_bytes(block.reveal(), "big") ^ 0x0000987654321098
    assert f"{clear:016X}" == "341234ABCDEFABCD"


def test_repr_and_str_hide_the_pin() -> None:
    block = encode_pin_block("1234", "43219876543210987")
    for text in (repr(block), str(block), f"{block}", repr([block])):
        assert "1234" not in text and "0412" not in text.upper() and "hidden" in text


def test_equality_and_wrong_pan() -> None:
    a = encode_pin_block("1234", "43219876543210987")
    assert a == PinBlock(0, bytes.fromhex("0412AC89ABCDEF67"))
    assert a != encode_pin_block("1235", "43219876543210987")
    with pytest.raises(CryptoError, match="malformed"):
        decode_pin_block(a, "5555555555555555")


SECRET_PIN = "987654"


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_pin_block(SECRET_PIN + "X"),
        lambda: encode_pin_block(SECRET_PIN * 3, "43219876543210987"),
        lambda: encode_pin_block(SECRET_PIN),  # format 0 without PAN
        lambda: encode_pin_block(SECRET_PIN, "4321", 0),
        lambda: encode_pin_block(SECRET_PIN, format=4),
        lambda: decode_pin_block(bytes.fromhex("F4987654FFFFFFFF")),
        lambda: decode_pin_block(bytes.fromhex("2698765FFFFFFFFF")),
        lambda: decrypt_pin_block(ZPK, bytes(7)),
        lambda: encrypt_pin_block(ZPK[:15], PinBlock(2, bytes.fromhex("26987654FFFFFFFF"))),
    ],
)
def test_errors_never_show_pin_or_block(call: object) -> None:
    with pytest.raises(CryptoError) as e:
        call()  # type: ignore[operator]
    assert "9876" not in str(e.value) and "0123" not in str(e.value)


def test_decrypt_with_wrong_key_is_detected_or_malformed() -> None:
    enc = encrypt_pin_block(ZPK, encode_pin_block("1234", "43219876543210987"))
    other = bytes(reversed(ZPK))
    with pytest.raises(CryptoError):
        decode_pin_block(decrypt_pin_block(other, enc), "43219876543210987")
