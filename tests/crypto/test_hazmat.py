"""cardkit.crypto.hazmat: block ciphers, ISO 9797-1 padding and MACs, CMAC, key helpers.

Known answers: tests/vectors/crypto_hazmat.txt (FIPS 81/113/197, SP 800-38A, GB/T 32907,
RFC 4493, ICAO 9303-11, Bouncy Castle). Cross-checks: our MACs against plain ``cryptography``
CBC, on random inputs.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as RawTDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from cardkit.crypto import hazmat as hz
from cardkit.errors import CryptoError

from .vectors import Vector, ids, load

VECTORS = load("crypto_hazmat.txt")
CIPHERS: dict[str, type[hz.BlockCipher]] = {"DES": hz.DES, "AES": hz.AES, "SM4": hz.SM4, "3DES": hz.TripleDES}


def by_kind(*kinds: str) -> list[Vector]:
    return [v for v in VECTORS if v["kind"] in kinds]


def test_every_vector_has_a_source() -> None:
    assert len(VECTORS) >= 12
    assert all(v.source for v in VECTORS)


@pytest.mark.parametrize("v", by_kind("ecb", "cbc"), ids=ids)
def test_cipher_kat(v: Vector) -> None:
    c = CIPHERS[v["alg"]](v.h("key"))
    if v["kind"] == "ecb":
        assert c.encrypt_ecb(v.h("pt")) == v.h("ct")
        assert c.decrypt_ecb(v.h("ct")) == v.h("pt")
    else:
        assert c.encrypt_cbc(v.h("pt"), v.h("iv")) == v.h("ct")
        assert c.decrypt_cbc(v.h("ct"), v.h("iv")) == v.h("pt")


@pytest.mark.parametrize("v", by_kind("cbcmac", "retail", "cmac"), ids=ids)
def test_mac_kat_one_shot_and_streaming(v: Vector) -> None:
    key, msg, mac = v.h("key"), v.h("msg"), v.h("mac")
    ctx: hz.CbcMac | hz.RetailMac | hz.Cmac
    if v["kind"] == "cbcmac":
        one = hz.cbc_mac(CIPHERS[v["alg"]](key), msg, padding=int(v["padding"]))
        make = lambda: hz.CbcMac(CIPHERS[v["alg"]](key), padding=int(v["padding"]))  # noqa: E731
    elif v["kind"] == "retail":
        one = hz.retail_mac(key, msg, padding=int(v["padding"]))
        make = lambda: hz.RetailMac(key, padding=int(v["padding"]))  # noqa: E731
    else:
        one = hz.cmac(key, msg)
        make = lambda: hz.Cmac(key)  # noqa: E731
    assert one[: len(mac)] == mac
    ctx = make()
    for i in range(0, len(msg), 5):  # odd-sized pieces cross block boundaries
        ctx.update(msg[i : i + 5])
    assert ctx.finalize() == one
    ctx = make()
    ctx.update(msg)
    ctx.verify(mac)


def _raw_cbc_last(alg: algorithms.AES | RawTDES, data: bytes, bs: int) -> bytes:
    enc = Cipher(alg, modes.CBC(bytes(bs))).encryptor()
    return (enc.update(data) + enc.finalize())[-bs:]


@given(key=st.binary(min_size=16, max_size=16), msg=st.binary(max_size=70), padding=st.sampled_from([1, 2]))
def test_retail_mac_equals_raw_construction(key: bytes, msg: bytes, padding: int) -> None:
    """MAC alg 3 = DES-CBC(K1) over all blocks, then D(K2), E(K1) (ISO 9797-1 §7.3), built from raw calls."""
    padded = hz.pad_method_2(msg) if padding == 2 else hz.pad_method_1(msg)
    h = _raw_cbc_last(RawTDES(key[:8] * 3), padded, 8)
    h = Cipher(RawTDES(key[8:] * 3), modes.ECB()).decryptor().update(h)
    h = Cipher(RawTDES(key[:8] * 3), modes.ECB()).encryptor().update(h)
    assert hz.retail_mac(key, msg, padding=padding) == h


@given(key=st.binary(min_size=16, max_size=16), msg=st.binary(max_size=70), sm4=st.booleans())
def test_cbc_mac_equals_raw_cbc(key: bytes, msg: bytes, sm4: bool) -> None:
    alg = algorithms.SM4(key) if sm4 else algorithms.AES(key)
    cipher = hz.SM4(key) if sm4 else hz.AES(key)
    assert hz.cbc_mac(cipher, msg, padding=2) == _raw_cbc_last(alg, hz.pad_method_2(msg, 16), 16)


@given(key=st.binary(min_size=24, max_size=24), blocks=st.integers(1, 12), seed=st.binary(min_size=96, max_size=96))
def test_tdes_cbc_short_and_long_paths_match_raw(key: bytes, blocks: int, seed: bytes) -> None:
    data = seed[: 8 * blocks]
    raw = Cipher(RawTDES(key), modes.CBC(bytes(8))).encryptor().update(data)
    assert hz.TripleDES(key).encrypt_cbc(data) == raw
    assert hz.TripleDES(key).decrypt_cbc(raw) == data


def test_two_key_3des_is_k1k2k1() -> None:
    k = bytes(range(16))
    assert hz.TripleDES(k).encrypt_ecb(bytes(8)) == hz.TripleDES(k + k[:8]).encrypt_ecb(bytes(8))


@given(st.binary(max_size=40))
def test_padding_roundtrip(data: bytes) -> None:
    p2 = hz.pad_method_2(data)
    assert len(p2) % 8 == 0 and len(p2) > len(data)
    assert hz.unpad_method_2(p2) == data
    p1 = hz.pad_method_1(data)
    assert len(p1) % 8 == 0 and p1.startswith(data) and len(p1) - len(data) < 8 + (not data) * 8


def test_padding_examples() -> None:
    assert hz.pad_method_1(b"\x12\x34") == bytes.fromhex("1234000000000000")
    assert hz.pad_method_1(bytes(8)) == bytes(8)
    assert hz.pad_method_1(b"") == bytes(8)
    assert hz.pad_method_2(b"\x12\x34") == bytes.fromhex("1234800000000000")
    assert hz.pad_method_2(bytes(8)) == bytes(8) + bytes.fromhex("8000000000000000")
    assert hz.pad_method_2(b"", 16) == b"\x80" + bytes(15)


@pytest.mark.parametrize("bad", ["", "00" * 8, "1234000000000000", "12" + "80" + "00" * 14, "11" * 7])
def test_unpad_rejects(bad: str) -> None:
    with pytest.raises(CryptoError):
        hz.unpad_method_2(bytes.fromhex(bad))


def test_parity_and_kcv() -> None:
    assert hz.adjust_parity(bytes.fromhex("0000FFFE")) == bytes.fromhex("0101FEFE")
    k = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    assert hz.has_odd_parity(k)
    assert not hz.has_odd_parity(bytes(16))
    # pyemv tests/test_kd_hsm.py: IMK check digits 08D7
    assert hz.kcv(k, 2) == bytes.fromhex("08D7")
    assert hz.kcv(hz.TripleDES(k), 2) == bytes.fromhex("08D7")
    # FIPS 197 C.1 key: KCV is the first bytes of AES(K, 00*16)
    aes_key = bytes(range(16))
    raw = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor().update(bytes(16))
    assert hz.kcv(aes_key, algorithm="AES") == raw[:3]


def test_emv_common_session_key_pyemv_docstring() -> None:
    # pyemv kd.derive_common_sk docstring (REFERENCE.md, EMV cryptography)
    sk = hz.emv_common_session_key(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"), bytes.fromhex("001C000000000000"))
    assert sk == bytes.fromhex("E9FB384AF807B940FEDCEA613461B0C4")


SECRET = bytes.fromhex("A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2")


@pytest.mark.parametrize(
    "make",
    [
        lambda: hz.TripleDES(SECRET),
        lambda: hz.DES(SECRET[:9]),
        lambda: hz.AES(SECRET[:17]),
        lambda: hz.SM4(SECRET[:15]),
        lambda: hz.RetailMac(SECRET[:24], padding=2),
        lambda: hz.Cmac(SECRET[:15]),
        lambda: hz.kcv(SECRET[:15]),
    ],
)
def test_wrong_key_length_is_crypto_error_without_key_bytes(make: object) -> None:
    with pytest.raises(CryptoError) as e:
        make()  # type: ignore[operator]
    text = str(e.value).upper()
    for n in (2, 4):
        assert not any(SECRET[i : i + n].hex().upper() in text for i in range(len(SECRET) - n))
    assert "BYTES" in text


def test_repr_hides_key() -> None:
    k = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    for obj in (hz.TripleDES(k), hz.RetailMacKey(k), hz.SM4(k)):
        assert "0123" not in repr(obj).upper() and "16-byte" in repr(obj)


def test_unaligned_data_rejected() -> None:
    with pytest.raises(CryptoError, match="multiple"):
        hz.TripleDES(bytes(16)).encrypt_ecb(b"123")
    with pytest.raises(CryptoError, match="IV"):
        hz.AES(bytes(16)).encrypt_cbc(bytes(16), bytes(8))
    with pytest.raises(CryptoError):
        hz.cbc_mac(hz.DES(bytes(8)), b"123", padding=0)
    with pytest.raises(CryptoError):
        hz.retail_mac(bytes(16), b"", padding=0)
    with pytest.raises(CryptoError):
        hz.CbcMac(hz.DES(bytes(8)), padding=3)


@pytest.mark.parametrize(
    "make",
    [
        lambda: hz.CbcMac(hz.DES(bytes(8)), padding=2),
        lambda: hz.RetailMac(bytes(16), padding=2),
        lambda: hz.Cmac(bytes(16)),
        lambda: hz.Cmac(bytes(16), sm4=True),
    ],
)
def test_contexts_are_single_use(make: object) -> None:
    ctx = make()  # type: ignore[operator]
    ctx.update(b"abc")
    tag = ctx.finalize()
    for reuse in (lambda: ctx.update(b"x"), ctx.finalize, lambda: ctx.verify(tag)):
        with pytest.raises(hz.AlreadyFinalized):
            reuse()
    ctx = make()  # type: ignore[operator]
    ctx.update(b"abc")
    ctx.verify(tag[:4])
    with pytest.raises(hz.AlreadyFinalized):
        ctx.update(b"x")


def test_verify_failure_and_tag_length() -> None:
    m = hz.RetailMac(bytes(16), padding=2)
    m.update(b"data")
    with pytest.raises(hz.InvalidMac):
        m.verify(bytes(8))
    m = hz.RetailMac(bytes(16), padding=2)
    with pytest.raises(CryptoError, match="4..8"):
        m.verify(b"\x00\x01\x02")
    assert issubclass(hz.InvalidMac, CryptoError) and issubclass(hz.AlreadyFinalized, CryptoError)


def test_cache_reuses_objects_per_key() -> None:
    k = bytes(range(16))
    a = hz.cached(hz.TripleDES, k)
    assert hz.cached(hz.TripleDES, k) is a
    assert hz.cached(hz.SM4, k) is not a
    for i in range(40):  # bounded
        hz.cached(hz.DES, bytes([i]) * 8)
    hz.clear_cache()
    assert hz.cached(hz.TripleDES, k) is not a
