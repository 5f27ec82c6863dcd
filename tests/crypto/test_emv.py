"""cardkit.crypto.emv: EMV Book 2 key derivation, AC, ARPC and issuer script secure messaging.

Known answers: tests/vectors/crypto_emv.txt (every value published by pyemv). Cross-checks:
our recipes against pyemv itself on random inputs (hypothesis).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyemv import ac as pac
from pyemv import kd as pkd
from pyemv import sm as psm

from cardkit.crypto import emv
from cardkit.crypto.hazmat import InvalidMac, emv_common_session_key, kcv
from cardkit.errors import CryptoError

from .vectors import Vector, ids, load

VECTORS = load("crypto_emv.txt")


def of(kind: str) -> list[Vector]:
    return [v for v in VECTORS if v["kind"] == kind]


def test_vector_file() -> None:
    assert len(VECTORS) >= 20 and all(v.source for v in VECTORS)


@pytest.mark.parametrize("v", of("chain"), ids=ids)
def test_chain_kat(v: Vector) -> None:
    imk = v.h("imk")
    if "imk_kcv" in v:
        assert kcv(imk, 2) == v.h("imk_kcv")
    mk = emv.derive_icc_master_key(imk, v["pan"], v.get("psn"), method=v["method"])  # type: ignore[arg-type]
    if "mk_kcv" in v:
        assert kcv(mk, 2) == v.h("mk_kcv")
    sk = emv_common_session_key(mk, v.h("r"))
    if "sk_kcv" in v:
        assert kcv(sk, 2) == v.h("sk_kcv")
    padding = int(v.get("padding") or 2)
    arqc = emv.generate_ac(sk, v.h("data"), padding=padding)
    assert arqc == v.h("arqc")
    emv.verify_ac(sk, v.h("data"), arqc, padding=padding)
    if "arpc1_mk" in v:
        assert emv.generate_arpc_method1(mk, arqc, bytes(2)) == v.h("arpc1_mk")
    if "arpc1_sk" in v:
        assert emv.generate_arpc_method1(sk, arqc, bytes(2)) == v.h("arpc1_sk")
    if "arpc2" in v:
        prop = v.h("prop") if "prop" in v else b""
        arpc = emv.generate_arpc_method2(sk, arqc, v.h("csu"), prop)
        assert arpc == v.h("arpc2")
        emv.verify_arpc_method2(sk, arqc, v.h("csu"), arpc, prop)


@pytest.mark.parametrize("v", of("icc_mk"), ids=ids)
def test_icc_master_key_kat(v: Vector) -> None:
    assert emv.derive_icc_master_key(v.h("imk"), v["pan"], v["psn"], v["method"]) == v.h("mk")  # type: ignore[arg-type]


@pytest.mark.parametrize("v", of("csk"), ids=ids)
def test_session_key_kat(v: Vector) -> None:
    atc = v.h("atc")
    assert emv.derive_session_key(v.h("mk"), atc) == v.h("sk")
    assert emv.derive_session_key(v.h("mk"), int.from_bytes(atc, "big")) == v.h("sk")


@pytest.mark.parametrize("v", of("ac"), ids=ids)
def test_ac_kat(v: Vector) -> None:
    assert emv.generate_ac(v.h("sk"), v.h("data")) == v.h("arqc")
    if "arpc1" in v:
        assert emv.generate_arpc_method1(v.h("sk"), v.h("arqc"), v.h("arc")) == v.h("arpc1")
        assert emv.generate_arpc_method2(v.h("sk"), v.h("arqc"), v.h("csu")) == v.h("arpc2")


@pytest.mark.parametrize("v", of("arpc"), ids=ids)
def test_arpc_kat(v: Vector) -> None:
    assert emv.generate_arpc_method1(v.h("sk"), v.h("arqc"), v.h("arc")) == v.h("arpc1")
    emv.verify_arpc_method1(v.h("sk"), v.h("arqc"), v.h("arc"), v.h("arpc1"))
    assert emv.generate_arpc_method2(v.h("sk"), v.h("arqc"), v.h("csu")) == v.h("arpc2")


@pytest.mark.parametrize("v", of("script_mac"), ids=ids)
def test_script_mac_kat(v: Vector) -> None:
    txn = v.h("txn") if "txn" in v else b""
    assert emv.script_mac(v.h("sk"), v.h("header"), transaction_data=txn) == v.h("mac")
    assert emv.script_mac(v.h("sk"), v.h("header"), transaction_data=txn, length=4) == v.h("mac")[:4]


@pytest.mark.parametrize("v", of("script_enc"), ids=ids)
def test_script_encrypt_kat(v: Vector) -> None:
    variant = emv.ScriptCipher(v["variant"])
    assert emv.script_encrypt(v.h("sk"), v.h("plain"), variant) == v.h("cipher")
    back = emv.script_decrypt(v.h("sk"), v.h("cipher"), variant)
    assert back == v.h("plain")


# --- cross-checks against pyemv on random inputs -------------------------------------------

keys = st.binary(min_size=16, max_size=16)
pans = st.text("0123456789", min_size=12, max_size=19)
psns = st.text("0123456789", min_size=2, max_size=2)


@settings(max_examples=150)
@given(imk=keys, pan=pans, psn=psns, method=st.sampled_from(["A", "B"]))
def test_icc_mk_matches_pyemv(imk: bytes, pan: str, psn: str, method: str) -> None:
    ref = pkd.derive_icc_mk_a(imk, pan, psn) if method == "A" else pkd.derive_icc_mk_b(imk, pan, psn)
    assert emv.derive_icc_master_key(imk, pan, psn, method) == ref  # type: ignore[arg-type]


@given(mk=keys, atc=st.integers(0, 0xFFFF), un=st.none() | st.binary(min_size=4, max_size=4))
def test_session_key_matches_pyemv(mk: bytes, atc: int, un: bytes | None) -> None:
    r = atc.to_bytes(2, "big") + (bytes(6) if un is None else b"\x00\x00" + un)
    assert emv.derive_session_key(mk, atc, un) == pkd.derive_common_sk(mk, r)


@given(sk=keys, data=st.binary(max_size=80), padding=st.sampled_from([1, 2]))
def test_ac_matches_pyemv(sk: bytes, data: bytes, padding: int) -> None:
    ptype = pac.PaddingType.VISA if padding == 1 else pac.PaddingType.EMV
    assert emv.generate_ac(sk, data, padding) == pac.generate_ac(sk, data, ptype)


@given(sk=keys, arqc=st.binary(min_size=8, max_size=8), arc=st.binary(min_size=2, max_size=2),
       csu=st.binary(min_size=4, max_size=4), prop=st.binary(max_size=8))
def test_arpc_matches_pyemv(sk: bytes, arqc: bytes, arc: bytes, csu: bytes, prop: bytes) -> None:
    assert emv.generate_arpc_method1(sk, arqc, arc) == pac.generate_arpc_1(sk, arqc, arc)
    assert emv.generate_arpc_method2(sk, arqc, csu, prop) == pac.generate_arpc_2(sk, arqc, csu, prop or None)


@given(sk=keys, header=st.binary(min_size=5, max_size=5), txn=st.binary(max_size=10), data=st.binary(max_size=40))
def test_script_mac_matches_pyemv(sk: bytes, header: bytes, txn: bytes, data: bytes) -> None:
    assert emv.script_mac(sk, header, data, transaction_data=txn) == psm.generate_command_mac(sk, header + txn + data)


@given(sk=keys, data=st.binary(min_size=1, max_size=40), variant=st.sampled_from(list(emv.ScriptCipher)))
def test_script_encrypt_matches_pyemv(sk: bytes, data: bytes, variant: emv.ScriptCipher) -> None:
    ref_type = {
        emv.ScriptCipher.EMV: psm.EncryptionType.EMV,
        emv.ScriptCipher.CBC_PAD_IF_NEEDED: psm.EncryptionType.MASTERCARD,
        emv.ScriptCipher.ECB_LENGTH_PREFIXED: psm.EncryptionType.VISA,
    }[variant]
    enc = emv.script_encrypt(sk, data, variant)
    assert enc == psm.encrypt_command_data(sk, data, ref_type)
    if variant is not emv.ScriptCipher.CBC_PAD_IF_NEEDED:
        assert emv.script_decrypt(sk, enc, variant) == data


# --- inputs and errors ----------------------------------------------------------------------

IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


def test_pan_and_psn_forms_agree() -> None:
    a = emv.derive_icc_master_key(IMK, "6212345678901234", "01")
    assert emv.derive_icc_master_key(IMK, bytes.fromhex("6212345678901234"), b"\x01") == a
    assert emv.derive_icc_master_key(IMK, bytes.fromhex("621234567890123F"), 1) != a
    assert emv.derive_icc_master_key(IMK, "621234567890123", None) == emv.derive_icc_master_key(
        IMK, bytes.fromhex("621234567890123F"), "00"
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: emv.derive_icc_master_key(IMK[:15], "1234567890123456"),
        lambda: emv.derive_icc_master_key(IMK, "12345X"),
        lambda: emv.derive_icc_master_key(IMK, "1234567890123456", "123"),
        lambda: emv.derive_icc_master_key(IMK, "1234567890123456", method="C"),  # type: ignore[arg-type]
        lambda: emv.derive_session_key(IMK, 0x10000),
        lambda: emv.derive_session_key(IMK, 1, un=b"123"),
        lambda: emv.generate_ac(IMK[:8], b"data"),
        lambda: emv.generate_ac(IMK, b"data", padding=3),
        lambda: emv.generate_arpc_method1(IMK, bytes(7), bytes(2)),
        lambda: emv.generate_arpc_method2(IMK, bytes(8), bytes(4), bytes(9)),
        lambda: emv.script_mac(IMK, bytes(4)),
        lambda: emv.script_decrypt(IMK, bytes(8)),
    ],
)
def test_bad_input_is_crypto_error_without_key(call: object) -> None:
    with pytest.raises(CryptoError) as e:
        call()  # type: ignore[operator]
    assert "0123" not in str(e.value) and "89AB" not in str(e.value).upper()


def test_verify_failures() -> None:
    sk = emv.derive_session_key(emv.derive_icc_master_key(IMK, "6212345678901234"), 0x1C)
    ac = emv.generate_ac(sk, b"cdol1 data")
    with pytest.raises(InvalidMac):
        emv.verify_ac(sk, b"cdol1 datA", ac)
    with pytest.raises(InvalidMac):
        emv.verify_arpc_method1(sk, ac, b"\x30\x30", emv.generate_arpc_method1(sk, ac, b"\x30\x31"))
    with pytest.raises(InvalidMac):
        emv.verify_arpc_method2(sk, ac, bytes(4), bytes(4))


def test_sm_session_key_uses_the_ac_as_r() -> None:
    arqc = bytes.fromhex("1234567890ABCDEF")
    assert emv.derive_sm_session_key(IMK, arqc) == pkd.derive_common_sk(IMK, arqc)


def test_cryptogram_versions() -> None:
    assert emv.CryptogramVersion(0x01) is emv.CryptogramVersion.PBOC_3DES
