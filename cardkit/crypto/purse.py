"""PBOC electronic purse (ED/EP, JR/T 0025.1-2; transit cards per JT/T 978) key math.

No public copy of JR/T 0025 exists; the layouts follow REFERENCE.md "PBOC electronic purse",
where several public implementations agree. Amounts are fen, big-endian 4 bytes; counters
2 bytes; terminal id 6 bytes; date YYYYMMDD (4 bytes BCD), time hhmmss (3 bytes BCD).

3DES profile (confirmed by public code and our regression vector):

- card sub-keys (DLK load, DPK purchase, DTK TAC, ...) = 3DES_MK(X) || 3DES_MK(NOT X), X the
  8-byte application serial;
- process key SESLK = 3DES_DLK(random || online counter || 80 00); SESPK = 3DES_DPK(random ||
  offline counter || 2 rightmost bytes of the terminal transaction number);
- MAC(K, D) = single-DES CBC-MAC, IV 0, padding 80 00.., leftmost 4 bytes;
- TAC key = DTK_left XOR DTK_right.

SM4 profile (PBOC 3.0 allows SM4; *check* against JR/T 0025 before relying on it): the same
inputs, SM4 with 16-byte blocks — process key = SM4_K(8-byte input || 00*8), MAC = SM4
CBC-MAC with 80 00.. padding to 16, leftmost 4 bytes, diversification = SM4_MK(X || NOT X),
TAC key = DTK_left XOR DTK_right widened to 16 bytes by repeating it.
"""

from __future__ import annotations

import enum

from cardkit.crypto.hazmat._base import fixed_length
from cardkit.crypto.hazmat.ciphers import DES, SM4, TripleDES, cached
from cardkit.crypto.hazmat.keys import SupportsEncryptEcb
from cardkit.crypto.hazmat.mac import cbc_mac
from cardkit.errors import CryptoError

__all__ = (
    "PurseAlgorithm",
    "TransactionType",
    "diversify_card_key",
    "load_mac1",
    "load_mac2",
    "load_session_key",
    "load_tac",
    "purchase_mac1",
    "purchase_mac2",
    "purchase_session_key",
    "purchase_tac",
    "purse_mac",
    "tac_key",
)

_FF8 = (1 << 64) - 1


class PurseAlgorithm(enum.Enum):
    """Which block cipher the purse keys use (the algorithm byte of INITIALIZE answers; values check)."""

    TDES = "3des"
    SM4 = "sm4"


class TransactionType(enum.IntEnum):
    """Transaction type byte in purse MACs/TACs (02, 06, 09 confirmed by public code; others check)."""

    ED_LOAD = 0x01
    EP_LOAD = 0x02
    UNLOAD = 0x03
    ED_WITHDRAWAL = 0x04
    ED_PURCHASE = 0x05
    EP_PURCHASE = 0x06
    OVERDRAFT_LIMIT_UPDATE = 0x07
    CREDIT_PURCHASE = 0x08
    CAPP_PURCHASE = 0x09


def _u(value: int, n: int, what: str) -> bytes:
    if not 0 <= value < 1 << (8 * n):
        raise CryptoError(f"{what} out of range for {n} bytes: {value}")
    return value.to_bytes(n, "big")


def diversify_card_key(master_key: bytes | SupportsEncryptEcb, serial: bytes,
                       algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """Card sub-key (DLK, DPK, DTK, ...) from an issuer master key (its value, or a key a keystore
    holds) and the 8-byte application serial."""
    x = fixed_length(serial, 8, "application serial")
    not_x = (int.from_bytes(x, "big") ^ _FF8).to_bytes(8, "big")
    if not isinstance(master_key, (bytes, bytearray)):
        return master_key.encrypt_ecb(x + not_x)
    if algorithm is PurseAlgorithm.SM4:
        return cached(SM4, master_key).encrypt_ecb(x + not_x)
    return cached(TripleDES, master_key).encrypt_ecb(x + not_x)


def _process_key(card_key: bytes, data8: bytes, algorithm: PurseAlgorithm) -> bytes:
    if algorithm is PurseAlgorithm.SM4:
        return SM4(card_key).encrypt_ecb(data8 + bytes(8))
    return TripleDES(card_key).encrypt_ecb(data8)


def load_session_key(dlk: bytes, random: bytes, online_counter: int,
                     algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """SESLK for INITIALIZE/CREDIT FOR LOAD: card key over random(4) || online counter(2) || 80 00."""
    data = fixed_length(random, 4, "card random") + _u(online_counter, 2, "online counter") + b"\x80\x00"
    return _process_key(dlk, data, algorithm)


def purchase_session_key(dpk: bytes, random: bytes, offline_counter: int, terminal_txn_no: int,
                         algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """SESPK for DEBIT FOR PURCHASE: random(4) || offline counter(2) || last 2 bytes of terminal txn no."""
    data = (fixed_length(random, 4, "card random") + _u(offline_counter, 2, "offline counter")
            + _u(terminal_txn_no, 4, "terminal transaction number")[2:])
    return _process_key(dpk, data, algorithm)


def tac_key(dtk: bytes, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """TAC key = DTK_left XOR DTK_right (8 bytes; the SM4 profile repeats it to 16 — check)."""
    k = fixed_length(dtk, 16, "DTK")
    half = (int.from_bytes(k[:8], "big") ^ int.from_bytes(k[8:], "big")).to_bytes(8, "big")
    return half * 2 if algorithm is PurseAlgorithm.SM4 else half


def purse_mac(key: bytes, data: bytes, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """MAC(K, D): CBC-MAC (DES with an 8-byte key, or SM4), IV 0, 80 00.. padding, leftmost 4 bytes."""
    cipher = SM4(key) if algorithm is PurseAlgorithm.SM4 else DES(key)
    return cbc_mac(cipher, data, padding=2)[:4]


def _when(date: bytes, time: bytes) -> bytes:
    """Transaction date (4 bytes BCD YYYYMMDD) || time (3 bytes BCD hhmmss)."""
    return (fixed_length(date, 4, "transaction date (YYYYMMDD BCD)")
            + fixed_length(time, 3, "transaction time (hhmmss BCD)"))


def _movement(amount: int, txn_type: int, terminal: bytes) -> bytes:
    """Amount (4) || transaction type (1) || terminal id (6): the core of every purse MAC and TAC."""
    return _u(amount, 4, "amount") + _u(txn_type, 1, "type") + fixed_length(terminal, 6, "terminal id")


def load_mac1(seslk: bytes, old_balance: int, amount: int, terminal: bytes,
              txn_type: int = TransactionType.EP_LOAD, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """MAC1 of INITIALIZE FOR LOAD (card → terminal): old balance || amount || type || terminal."""
    data = _u(old_balance, 4, "balance") + _movement(amount, txn_type, terminal)
    return purse_mac(seslk, data, algorithm)


def load_mac2(seslk: bytes, amount: int, terminal: bytes, date: bytes, time: bytes,
              txn_type: int = TransactionType.EP_LOAD, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """MAC2 of CREDIT FOR LOAD (issuer → card): amount || type || terminal || date || time."""
    data = _movement(amount, txn_type, terminal) + _when(date, time)
    return purse_mac(seslk, data, algorithm)


def load_tac(dtk: bytes, new_balance: int, online_counter: int, amount: int, terminal: bytes, date: bytes,
             time: bytes, txn_type: int = TransactionType.EP_LOAD,
             algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """TAC of CREDIT FOR LOAD: new balance || online counter (as INIT returned it) || amount || type ||
    terminal || date || time, under the TAC key."""
    data = (_u(new_balance, 4, "balance") + _u(online_counter, 2, "online counter")
            + _movement(amount, txn_type, terminal) + _when(date, time))
    return purse_mac(tac_key(dtk, algorithm), data, algorithm)


def purchase_mac1(sespk: bytes, amount: int, terminal: bytes, date: bytes, time: bytes,
                  txn_type: int = TransactionType.EP_PURCHASE,
                  algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """MAC1 of DEBIT FOR PURCHASE / CAPP PURCHASE (terminal/PSAM → card): amount || type ||
    terminal || date || time. Use ``TransactionType.CAPP_PURCHASE`` (09) for compound purchases."""
    data = _movement(amount, txn_type, terminal) + _when(date, time)
    return purse_mac(sespk, data, algorithm)


def purchase_mac2(sespk: bytes, amount: int, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """MAC2 of DEBIT FOR PURCHASE (card → terminal): MAC over the amount."""
    return purse_mac(sespk, _u(amount, 4, "amount"), algorithm)


def purchase_tac(dtk: bytes, amount: int, terminal: bytes, terminal_txn_no: int, date: bytes, time: bytes,
                 txn_type: int = TransactionType.EP_PURCHASE,
                 algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
    """TAC of DEBIT FOR PURCHASE: amount || type || terminal || terminal txn no || date || time."""
    data = (_movement(amount, txn_type, terminal) + _u(terminal_txn_no, 4, "terminal transaction number")
            + _when(date, time))
    return purse_mac(tac_key(dtk, algorithm), data, algorithm)
