"""cardkit.crypto.purse: PBOC electronic purse process keys, MAC1/MAC2/TAC.

tests/vectors/crypto_purse.txt holds REGRESSION vectors (self-computed from the public formulas;
no public JR/T 0025 vector exists). To catch a shared misunderstanding rather than only a
regression, every value is also recomputed here from raw ``cryptography`` calls, written
independently of cardkit's helpers (one DES-CBC, one 3DES-ECB, hand padding).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as RawTDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from cardkit.crypto import purse
from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from cardkit.errors import CryptoError

from .vectors import load

V = {v.name: v for v in load("crypto_purse.txt")}


# --- independent raw re-implementation (no cardkit imports) --------------------------------

def raw_3des_ecb(key16: bytes, data: bytes) -> bytes:
    return Cipher(RawTDES(key16 + key16[:8]), modes.ECB()).encryptor().update(data)


def raw_mac(key8: bytes, data: bytes) -> bytes:
    padded = data + b"\x80" + b"\x00" * ((8 - (len(data) + 1) % 8) % 8)
    enc = Cipher(RawTDES(key8 * 3), modes.CBC(b"\x00" * 8)).encryptor()
    return (enc.update(padded) + enc.finalize())[-8:][:4]


def raw_sm4_mac(key16: bytes, data: bytes) -> bytes:
    padded = data + b"\x80" + b"\x00" * ((16 - (len(data) + 1) % 16) % 16)
    enc = Cipher(algorithms.SM4(key16), modes.CBC(b"\x00" * 16)).encryptor()
    return (enc.update(padded) + enc.finalize())[-16:][:4]


def raw_tac_key(dtk: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:], strict=True))


def i(v: str) -> int:
    return int(v, 16)


# --- regression vectors, checked both ways --------------------------------------------------

def test_load_regression_vector() -> None:
    v = V["load_ref"]
    assert "REGRESSION" in v.source
    seslk = purse.load_session_key(v.h("dlk"), v.h("random"), i(v["online_counter"]))
    assert seslk == v.h("seslk") == raw_3des_ecb(v.h("dlk"), v.h("random") + v.h("online_counter") + b"\x80\x00")
    mac1 = purse.load_mac1(seslk, i(v["old_balance"]), i(v["amount"]), v.h("terminal"))
    assert mac1 == v.h("mac1") == raw_mac(seslk, v.h("old_balance") + v.h("amount") + b"\x02" + v.h("terminal"))
    when = v.h("date") + v.h("time")
    mac2 = purse.load_mac2(seslk, i(v["amount"]), v.h("terminal"), v.h("date"), v.h("time"))
    assert mac2 == v.h("mac2") == raw_mac(seslk, v.h("amount") + b"\x02" + v.h("terminal") + when)
    tac = purse.load_tac(v.h("dtk"), i(v["new_balance"]), i(v["online_counter"]), i(v["amount"]), v.h("terminal"),
                         v.h("date"), v.h("time"))
    raw = raw_mac(raw_tac_key(v.h("dtk")),
                  v.h("new_balance") + v.h("online_counter") + v.h("amount") + b"\x02" + v.h("terminal") + when)
    assert tac == v.h("tac") == raw


def test_purchase_regression_vector() -> None:
    v = V["purchase_ref"]
    assert "REGRESSION" in v.source
    sespk = purse.purchase_session_key(v.h("dpk"), v.h("random"), i(v["offline_counter"]), i(v["terminal_txn_no"]))
    assert sespk == v.h("sespk") == raw_3des_ecb(
        v.h("dpk"), v.h("random") + v.h("offline_counter") + v.h("terminal_txn_no")[2:])
    when = v.h("date") + v.h("time")
    mac1 = purse.purchase_mac1(sespk, i(v["amount"]), v.h("terminal"), v.h("date"), v.h("time"))
    assert mac1 == v.h("mac1") == raw_mac(sespk, v.h("amount") + b"\x06" + v.h("terminal") + when)
    assert purse.purchase_mac2(sespk, i(v["amount"])) == v.h("mac2") == raw_mac(sespk, v.h("amount"))
    tac = purse.purchase_tac(v.h("dtk"), i(v["amount"]), v.h("terminal"), i(v["terminal_txn_no"]),
                             v.h("date"), v.h("time"))
    raw = raw_mac(raw_tac_key(v.h("dtk")), v.h("amount") + b"\x06" + v.h("terminal") + v.h("terminal_txn_no") + when)
    assert tac == v.h("tac") == raw


# --- random inputs against the raw re-implementation ----------------------------------------

b = st.binary
DATE, TIME = bytes.fromhex("20240229"), bytes.fromhex("235959")


@given(mk=b(min_size=16, max_size=16), serial=b(min_size=8, max_size=8))
def test_diversification(mk: bytes, serial: bytes) -> None:
    not_x = bytes(x ^ 0xFF for x in serial)
    assert purse.diversify_card_key(mk, serial) == raw_3des_ecb(mk, serial) + raw_3des_ecb(mk, not_x)
    sm4 = Cipher(algorithms.SM4(mk), modes.ECB()).encryptor().update(serial + not_x)
    assert purse.diversify_card_key(mk, serial, PurseAlgorithm.SM4) == sm4


@given(dtk=b(min_size=16, max_size=16), dpk=b(min_size=16, max_size=16), rnd=b(min_size=4, max_size=4),
       amount=st.integers(0, 2**32 - 1), counter=st.integers(0, 0xFFFF), txn=st.integers(0, 2**32 - 1),
       terminal=b(min_size=6, max_size=6))
def test_compound_purchase_type_09(dtk: bytes, dpk: bytes, rnd: bytes, amount: int, counter: int, txn: int,
                                   terminal: bytes) -> None:
    sespk = purse.purchase_session_key(dpk, rnd, counter, txn)
    a = amount.to_bytes(4, "big")
    mac1 = purse.purchase_mac1(sespk, amount, terminal, DATE, TIME, TransactionType.CAPP_PURCHASE)
    assert mac1 == raw_mac(sespk, a + b"\x09" + terminal + DATE + TIME)
    tac = purse.purchase_tac(dtk, amount, terminal, txn, DATE, TIME, TransactionType.CAPP_PURCHASE)
    assert tac == raw_mac(raw_tac_key(dtk), a + b"\x09" + terminal + txn.to_bytes(4, "big") + DATE + TIME)


@given(dlk=b(min_size=16, max_size=16), dtk=b(min_size=16, max_size=16), rnd=b(min_size=4, max_size=4),
       amount=st.integers(0, 2**31), balance=st.integers(0, 2**31), counter=st.integers(0, 0xFFFF))
def test_sm4_profile_self_consistent(dlk: bytes, dtk: bytes, rnd: bytes, amount: int, balance: int,
                                     counter: int) -> None:
    """SM4 variant (marked "check" in docs/crypto.md): our code equals the raw SM4 construction."""
    sm4 = PurseAlgorithm.SM4
    seslk = purse.load_session_key(dlk, rnd, counter, sm4)
    raw_key = Cipher(algorithms.SM4(dlk), modes.ECB()).encryptor().update(
        rnd + counter.to_bytes(2, "big") + b"\x80\x00" + bytes(8))
    assert seslk == raw_key
    term = bytes(range(6))
    mac1 = purse.load_mac1(seslk, balance, amount, term, algorithm=sm4)
    assert mac1 == raw_sm4_mac(seslk, balance.to_bytes(4, "big") + amount.to_bytes(4, "big") + b"\x02" + term)
    assert len(purse.tac_key(dtk, sm4)) == 16


def test_tac_key_uses_both_halves() -> None:
    dtk = bytes(range(16))
    assert purse.tac_key(dtk) == bytes(a ^ b for a, b in zip(range(8), range(8, 16), strict=True))


@pytest.mark.parametrize(
    "call",
    [
        lambda: purse.load_session_key(bytes(15), bytes(4), 1),
        lambda: purse.load_session_key(bytes(16), bytes(3), 1),
        lambda: purse.load_session_key(bytes(16), bytes(4), 0x10000),
        lambda: purse.purse_mac(bytes(16), b"x"),
        lambda: purse.load_mac1(bytes(8), -1, 1, bytes(6)),
        lambda: purse.purchase_mac1(bytes(8), 1, bytes(5), DATE, TIME),
        lambda: purse.purchase_tac(bytes(16), 1, bytes(6), 1, DATE[:3], TIME),
        lambda: purse.diversify_card_key(bytes(16), bytes(7)),
        lambda: purse.tac_key(bytes(8)),
    ],
)
def test_bad_inputs(call: object) -> None:
    with pytest.raises(CryptoError):
        call()  # type: ignore[operator]
