"""cardkit.crypto.icao: BAC and 3DES secure messaging against ICAO 9303-11 Appendix D
(tests/vectors/crypto_icao.txt), plus a card/terminal round trip and tamper checks."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardkit.crypto import icao
from cardkit.crypto.hazmat import InvalidMac
from cardkit.errors import CryptoError

from .vectors import load

V = {v.name: v for v in load("crypto_icao.txt")}


def test_keys_appendix_d2() -> None:
    v = V["keys_d2"]
    mrz = icao.mrz_information(v["doc"].rstrip("<"), v["birth"], v["expiry"])
    assert mrz == v["mrz"]
    assert hashlib.sha1(mrz.encode()).digest()[:16] == v.h("k_seed")
    assert icao.kdf(v.h("k_seed"), 1) == v.h("k_enc")
    keys = icao.derive_bac_keys(mrz)
    assert (keys.k_enc, keys.k_mac) == (v.h("k_enc"), v.h("k_mac"))
    assert "AB94" not in repr(keys).upper()


def test_mutual_authentication_appendix_d3() -> None:
    v = V["auth_d3"]
    keys = icao.BacKeys(v.h("k_enc"), v.h("k_mac"))
    cmd = icao.ifd_authenticate(keys, v.h("rnd_ic"), v.h("rnd_ifd"), v.h("k_ifd"))
    assert cmd == v.h("e_ifd") + v.h("m_ifd")
    # card side answers with K.IC; the terminal opens it
    resp, k_ifd = icao.ic_authenticate(keys, cmd, v.h("rnd_ic"), v.h("k_ic"))
    assert k_ifd == v.h("k_ifd")
    assert icao.open_ic_response(keys, resp, v.h("rnd_ifd")) == v.h("k_ic")
    ks = icao.bac_session_keys(v.h("k_ifd"), v.h("k_ic"))
    assert (ks.k_enc, ks.k_mac) == (v.h("ks_enc"), v.h("ks_mac"))
    assert icao.bac_ssc(v.h("rnd_ic"), v.h("rnd_ifd")) == int(v["ssc"], 16)


def test_secure_messaging_appendix_d4() -> None:
    v = V["sm_d4"]
    ks = icao.BacKeys(v.h("ks_enc"), v.h("ks_mac"))
    ssc = int(v["ssc"], 16)
    p, ssc = icao.protect_command(ks, ssc, v.h("cmd1"))  # SELECT EF.COM
    assert p == v.h("pcmd1")
    data, sw, ssc = icao.unprotect_response(ks, ssc, v.h("rsp1"))
    assert (data, sw) == (b"", b"\x90\x00")
    p, ssc = icao.protect_command(ks, ssc, v.h("cmd2"))  # READ BINARY, 4 bytes
    assert p == v.h("pcmd2")
    data, sw, ssc = icao.unprotect_response(ks, ssc, v.h("rsp2"))
    assert (data, sw) == (v.h("data2"), b"\x90\x00")
    assert ssc == int(v["ssc"], 16) + 4


def test_tampered_response_and_wrong_ssc() -> None:
    v = V["sm_d4"]
    ks = icao.BacKeys(v.h("ks_enc"), v.h("ks_mac"))
    ssc = int(v["ssc"], 16) + 1
    bad = bytearray(v.h("rsp1"))
    bad[3] ^= 1
    with pytest.raises(InvalidMac):
        icao.unprotect_response(ks, ssc, bytes(bad))
    with pytest.raises(InvalidMac):
        icao.unprotect_response(ks, ssc + 1, v.h("rsp1"))  # replayed / out of step


def test_wrong_rnd_and_mac_rejected() -> None:
    v = V["auth_d3"]
    keys = icao.BacKeys(v.h("k_enc"), v.h("k_mac"))
    cmd = v.h("e_ifd") + v.h("m_ifd")
    with pytest.raises(InvalidMac):
        icao.ic_authenticate(keys, cmd, bytes(8), v.h("k_ic"))
    with pytest.raises(InvalidMac):
        icao.ic_authenticate(keys, cmd[:-1] + b"\x00", v.h("rnd_ic"), v.h("k_ic"))
    with pytest.raises(CryptoError):
        icao.open_ic_response(keys, cmd[:39], v.h("rnd_ifd"))


@pytest.mark.parametrize("field_,digit", [("L898902C<", "3"), ("690806", "1"), ("940623", "6"), ("<<<<", "0")])
def test_check_digits(field_: str, digit: str) -> None:
    assert icao.check_digit(field_) == digit


def test_bad_mrz_inputs() -> None:
    with pytest.raises(CryptoError):
        icao.check_digit("L89-")
    with pytest.raises(CryptoError):
        icao.mrz_information("L898902C", "6908", "940623")
    with pytest.raises(CryptoError):
        icao.mrz_information("L898902C12345", "690806", "940623")


@given(data=st.binary(max_size=200), ins=st.sampled_from([0xB0, 0xB1, 0xD6]), le=st.booleans(),
       answer=st.binary(max_size=100), ssc=st.integers(0, 2**64 - 4))
def test_terminal_and_card_roundtrip(data: bytes, ins: int, le: bool, answer: bytes, ssc: int) -> None:
    """Terminal protects, card opens and answers, terminal opens the answer; SSCs stay in step."""
    ks = icao.BacKeys(bytes(range(16)), bytes(range(16, 32)))
    apdu = bytes([0x00, ins, 0, 0]) + (bytes([len(data)]) + data if data else b"") + (b"\x00" if le else b"")
    p, t_ssc = icao.protect_command(ks, ssc, apdu)
    assert p[0] == 0x0C and p[1] == ins and t_ssc == ssc + 1
    plain, c_ssc = icao.unprotect_command(ks, ssc, p)
    assert plain == apdu and c_ssc == t_ssc
    r, c_ssc = icao.protect_response(ks, c_ssc, answer, b"\x90\x00")
    got, sw, t_ssc = icao.unprotect_response(ks, t_ssc, r)
    assert (got, sw, t_ssc) == (answer, b"\x90\x00", c_ssc)
    with pytest.raises(InvalidMac):
        icao.unprotect_command(ks, ssc + 1, p)


def test_card_side_reproduces_appendix_d4_response() -> None:
    v = V["sm_d4"]
    ks = icao.BacKeys(v.h("ks_enc"), v.h("ks_mac"))
    ssc = int(v["ssc"], 16)
    plain, ssc = icao.unprotect_command(ks, ssc, v.h("pcmd1"))
    assert plain == v.h("cmd1")
    r, ssc = icao.protect_response(ks, ssc, b"", b"\x90\x00")
    assert r == v.h("rsp1")
    plain, ssc = icao.unprotect_command(ks, ssc, v.h("pcmd2"))
    assert plain == v.h("cmd2")
    r, ssc = icao.protect_response(ks, ssc, v.h("data2"), b"\x90\x00")
    assert r == v.h("rsp2")


@pytest.mark.parametrize("raw", ["8781", "8782", "878201", "99"])
def test_truncated_long_lengths_are_crypto_errors(raw: str) -> None:
    """A length byte 81/82 with its length bytes missing is malformed SM, not an IndexError."""
    from cardkit.crypto.icao import _parse_dos
    from cardkit.errors import CryptoError

    with pytest.raises(CryptoError):
        _parse_dos(bytes.fromhex(raw))
