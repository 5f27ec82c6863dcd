"""cardkit.crypto.gp: SCP03 and SCP02 against whole pySim sessions (tests/vectors/crypto_gp.txt).

A small channel driver lives here in the test (the real state machine comes with the
GlobalPlatform client): it chains the MCV/ICV and the C-DEC counter through cardkit's pure
functions and compares every wrapped APDU byte for byte.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import cmac as raw_cmac
from cryptography.hazmat.primitives.ciphers import algorithms
from hypothesis import given
from hypothesis import strategies as st

from cardkit.crypto import gp
from cardkit.errors import CryptoError

from .vectors import Vector, ids, load

VECTORS = load("crypto_gp.txt")
H = bytes.fromhex
PLAIN = [
    H("80E2910006BF3E035C015A00"),  # GET DATA (EID), case 4
    H("80F22002"),  # GET STATUS, case 1
    H("80ca006600"),  # GET DATA, case 2
    H("80F220020a4f0212345c054f9f70c5"),  # GET STATUS with data, case 3
    H("80f28002024f0000"),  # GET STATUS, case 4
]
EID_PLAIN = H("bf3e125a1089882119900000000000000000000005")


def split(apdu: bytes) -> tuple[bytes, bytes, bytes]:
    """(CLA INS P1 P2, data, Le) of a short APDU."""
    if len(apdu) <= 5:
        return apdu[:4], b"", apdu[4:]
    lc = apdu[4]
    return apdu[:4], apdu[5 : 5 + lc], apdu[5 + lc :]


def wrapped(header: bytes, data: bytes, mac: bytes, le: bytes) -> bytes:
    return bytes([header[0] | 0x04]) + header[1:] + bytes([len(data) + 8]) + data + mac + le


@pytest.mark.parametrize("v", [v for v in VECTORS if v["scp"] == "03"], ids=ids)
def test_scp03_session(v: Vector) -> None:
    iu_cmd, iu_rsp = v.h("init_upd_cmd"), v.h("init_upd_rsp")
    host_ch, card_ch, card_crypto = iu_cmd[5:13], iu_rsp[13:21], iu_rsp[21:29]
    sk = gp.derive_scp03_session_keys(v.h("k_enc"), v.h("k_mac"), host_ch, card_ch)
    assert len(sk.s_enc) == len(v.h("k_enc"))
    assert gp.scp03_card_cryptogram(sk.s_mac, host_ch, card_ch) == card_crypto
    ext = v.h("ext_auth_cmd")
    host_crypto = gp.scp03_host_cryptogram(sk.s_mac, host_ch, card_ch)
    mac, mcv = gp.scp03_command_mac(sk.s_mac, bytes(16), ext[:4], host_crypto)
    assert wrapped(ext[:4], host_crypto, mac, b"") == ext
    level = ext[2]
    counter = 1
    expected = [v.h("get_eid_cmd")] + [v.h(f"case_{n}") for n in range(1, 5)]
    for i, (plain, want) in enumerate(zip(PLAIN, expected, strict=True)):
        header, data, le = split(plain)
        if level & 0x02 and data:
            data = gp.scp03_encrypt_command(sk.s_enc, counter, data)
        mac, mcv = gp.scp03_command_mac(sk.s_mac, mcv, header, data)
        assert wrapped(header, data, mac, le) == want, f"command {i}"
        if i == 0:  # the GET EID response
            rsp = v.h("get_eid_rsp")
            if level & 0x10:
                rsp, rmac = rsp[:-8], rsp[-8:]
                assert gp.scp03_response_mac(sk.s_rmac, mcv, rsp, H("9000")) == rmac
            if level & 0x20:
                rsp = gp.scp03_decrypt_response(sk.s_enc, counter, rsp)
            assert rsp == EID_PLAIN
        counter += 1


def test_scp03_keys_from_reference() -> None:
    """REFERENCE.md lists the AES-128 session keys of the first pySim case; check them by value."""
    sk = gp.derive_scp03_session_keys(
        H("000102030405060708090a0b0c0d0e0f"), H("101112131415161718191a1b1c1d1e1f"), H("b13e5f938fc108c4"),
        H("3eb51047495b249f"))
    assert sk.s_enc == H("c4e87149f2114da66bb015a567d751f9")
    assert sk.s_mac == H("8b2635556e987a6b84f43d9ffc197d3f")
    assert sk.s_rmac == H("3f6b2ce3b3abd9a99bd4453afa54cc7b")
    assert "c4e8" not in repr(sk)


def test_scp02_session() -> None:
    (v,) = [v for v in VECTORS if v["scp"] == "02"]
    rsp = v.h("init_upd_rsp")
    seq, card_ch, card_crypto = rsp[12:14], rsp[14:20], rsp[20:28]
    host_ch = v.h("host_challenge")
    s_enc = gp.scp02_session_key(v.h("k_enc"), gp.SCP02_S_ENC, seq)
    s_mac = gp.scp02_session_key(v.h("k_mac"), gp.SCP02_C_MAC, seq)
    assert gp.scp02_card_cryptogram(s_enc, host_ch, seq, card_ch) == card_crypto
    host_crypto = gp.scp02_host_cryptogram(s_enc, host_ch, seq, card_ch)
    ext = v.h("ext_auth_cmd")
    mac = gp.scp02_command_mac(s_mac, bytes(8), ext[:4], host_crypto)
    assert wrapped(ext[:4], host_crypto, mac, b"") == ext
    for n, plain in enumerate(PLAIN[1:], 1):
        header, data, le = split(plain)
        mac = gp.scp02_command_mac(s_mac, gp.scp02_next_icv(s_mac, mac), header, data)
        assert wrapped(header, data, mac, le) == v.h(f"case_{n}")


@given(key=st.binary(min_size=16, max_size=16), const=st.integers(0, 255), ctx=st.binary(min_size=16, max_size=16),
       bits=st.sampled_from([64, 128, 192, 256]))
def test_kdf_matches_raw_cmac_counter_mode(key: bytes, const: int, ctx: bytes, bits: int) -> None:
    out = b""
    for i in range(1, 3):
        c = raw_cmac.CMAC(algorithms.AES(key))
        c.update(b"\x00" * 11 + bytes([const, 0]) + bits.to_bytes(2, "big") + bytes([i]) + ctx)
        out += c.finalize()
    assert gp.scp03_kdf(key, const, ctx, bits) == out[: bits // 8]


@given(s_enc=st.binary(min_size=16, max_size=16), counter=st.integers(1, 2**32), data=st.binary(max_size=60))
def test_cdec_roundtrip_shape(s_enc: bytes, counter: int, data: bytes) -> None:
    enc = gp.scp03_encrypt_command(s_enc, counter, data)
    assert len(enc) % 16 == 0 and len(enc) > len(data)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gp.scp03_kdf(bytes(15), 4, bytes(16), 128),
        lambda: gp.scp03_kdf(bytes(16), 4, bytes(16), 12),
        lambda: gp.derive_scp03_session_keys(bytes(16), bytes(16), bytes(7), bytes(8)),
        lambda: gp.scp03_command_mac(bytes(16), bytes(15), bytes(4), b""),
        lambda: gp.scp03_command_mac(bytes(16), bytes(16), bytes(5), b""),
        lambda: gp.scp03_command_mac(bytes(16), bytes(16), bytes(4), bytes(250)),
        lambda: gp.scp03_encrypt_command(bytes(16), 0, b"x"),
        lambda: gp.scp03_decrypt_response(bytes(16), 1, bytes(16)),
        lambda: gp.scp02_session_key(bytes(8), gp.SCP02_S_ENC, bytes(2)),
        lambda: gp.scp02_card_cryptogram(bytes(16), bytes(8), bytes(2), bytes(8)),
        lambda: gp.scp02_command_mac(bytes(16), bytes(7), bytes(4), b""),
    ],
)
def test_bad_inputs(call: object) -> None:
    with pytest.raises(CryptoError):
        call()  # type: ignore[operator]
