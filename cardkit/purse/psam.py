"""A PSAM model: the purchase security module of a validator (REFERENCE.md "PBOC electronic purse").

A real validator never holds purse keys in its own memory: a PSAM (a SAM card in the terminal)
holds the purchase master key MPK and the TAC master key MTK, diversifies them for each card with
the card's 8-byte serial X, computes MAC1 for DEBIT FOR PURCHASE, checks the card's MAC2 and TAC,
and numbers the terminal's transactions. :class:`Psam` does the same in software, behind the
same narrow surface, so a hardware PSAM can take its place: nothing outside reads its keys, and
``repr``/``str`` show only the terminal id and the next transaction number.

Key math: :mod:`cardkit.crypto.purse` (DPK = MPK diversified by X, SESPK from the card random,
offline counter and the 2 low bytes of the terminal transaction number; MAC1, MAC2, TAC).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from cardkit.crypto.hazmat._base import constant_time_equal
from cardkit.crypto.hazmat.keys import MasterKey, key_length
from cardkit.crypto.purse import (
    PurseAlgorithm,
    diversify_card_key,
    purchase_mac1,
    purchase_mac2,
    purchase_session_key,
    purchase_tac,
)
from cardkit.errors import CryptoError
from cardkit.purse.errors import MacInvalid, PurseError
from cardkit.purse.records import PurchaseInit, PurseInfo, bcd_date, bcd_time

__all__ = ["Psam", "card_serial"]

log = logging.getLogger(__name__)

_MAX_TXN_NO = 0xFFFFFFFF


def card_serial(card: PurseInfo | bytes) -> bytes:
    """The 8-byte diversifier X of ``card`` (a :class:`PurseInfo`, or X itself).

    Raises:
        PurseError: X is not 8 bytes.
    """
    x = card.diversifier if isinstance(card, PurseInfo) else bytes(card)
    if len(x) != 8:
        raise PurseError(f"the card serial X is {len(x)} bytes instead of 8", context="diversification")
    return x


class Psam:
    """A software PSAM holding the purchase (MPK) and TAC (MTK) master keys.

    Args:
        mpk: purchase master key (16 bytes; 3DES or SM4 as ``algorithm`` says).
        mtk: TAC master key (16 bytes).
        terminal_id: the 6-byte terminal number this PSAM signs for (goes into every MAC).
        first_txn_no: the first terminal transaction number to hand out (1..FFFFFFFF).
        algorithm: the cipher of the keys; a card answering with another one is refused.

    Raises:
        PurseError: a key of the wrong length, a terminal id that is not 6 bytes, or a
            transaction number out of range (the message never shows key bytes).
    """

    __slots__ = ("_algorithm", "_lock", "_mpk", "_mtk", "_next", "terminal_id")

    def __init__(self, mpk: MasterKey, mtk: MasterKey, *, terminal_id: bytes, first_txn_no: int = 1,
                 algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> None:
        for what, key in (("purchase master key", mpk), ("TAC master key", mtk)):
            if key_length(key) != 16:
                raise PurseError(f"the {what} is {key_length(key)} bytes instead of 16", context="PSAM")
        if len(terminal_id) != 6:
            raise PurseError(f"terminal id is {len(terminal_id)} bytes instead of 6", context="PSAM")
        if not 1 <= first_txn_no <= _MAX_TXN_NO:
            raise PurseError(f"first terminal transaction number {first_txn_no} is outside 1..{_MAX_TXN_NO}",
                             context="PSAM")
        self._mpk = bytes(mpk) if isinstance(mpk, (bytes, bytearray)) else mpk  # or held by an HSM
        self._mtk = bytes(mtk) if isinstance(mtk, (bytes, bytearray)) else mtk
        self._algorithm = algorithm
        self._next = first_txn_no
        self._lock = threading.Lock()
        self.terminal_id = bytes(terminal_id)

    @property
    def next_txn_no(self) -> int:
        """The terminal transaction number the next :meth:`mac1` will use."""
        return self._next

    @property
    def algorithm(self) -> PurseAlgorithm:
        return self._algorithm

    def __repr__(self) -> str:
        return (f"Psam(terminal_id={self.terminal_id.hex().upper()!r}, next_txn_no={self._next}, "
                f"algorithm={self._algorithm.value!r})")

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Psam holds keys and cannot be pickled")

    # ------------------------------------------------------------------------------ operations
    def mac1(self, card: PurseInfo | bytes, init: PurchaseInit, when: datetime,
             type: int | None = None) -> tuple[int, bytes]:
        """MAC1 for DEBIT FOR (CAPP) PURCHASE; takes the next terminal transaction number.

        Args:
            card: the selected card (its diversifier) or X itself.
            init: the card's answer to INITIALIZE FOR (CAPP) PURCHASE.
            when: the transaction date and time sent in the DEBIT.
            type: the transaction type in the MAC; by default 09 for a compound purchase, else 06.

        Returns:
            ``(terminal transaction number used, MAC1)``.

        Raises:
            PurseError: the INITIALIZE was for another terminal, the card uses another algorithm,
                or the PSAM's transaction numbers are exhausted.
        """
        self._check(init)
        x = card_serial(card)
        with self._lock:
            txn_no = self._next
            if txn_no > _MAX_TXN_NO:
                raise PurseError("terminal transaction numbers are exhausted", context="PSAM")
            self._next = txn_no + 1
        sespk = self._sespk(x, init, txn_no)
        mac = purchase_mac1(sespk, init.amount, self.terminal_id, bcd_date(when), bcd_time(when),
                            _type(init, type), self._algorithm)
        log.debug("PSAM %s: MAC1 for transaction %d", self.terminal_id.hex().upper(), txn_no)
        return txn_no, mac

    def verify_mac2(self, card: PurseInfo | bytes, init: PurchaseInit, terminal_txn_no: int, mac2: bytes) -> None:
        """Check the card's MAC2 (its proof that it debited ``init.amount``).

        Raises:
            MacInvalid: MAC2 does not verify.
        """
        self._check(init)
        sespk = self._sespk(card_serial(card), init, terminal_txn_no)
        if not constant_time_equal(purchase_mac2(sespk, init.amount, self._algorithm), bytes(mac2)):
            raise MacInvalid("the card's MAC2 does not verify", context="PSAM MAC2 check")

    def verify_tac(self, card: PurseInfo | bytes, init: PurchaseInit, terminal_txn_no: int, when: datetime,
                   tac: bytes, type: int | None = None) -> None:
        """Check the card's TAC over amount | type | terminal | terminal txn no | date | time.

        Raises:
            MacInvalid: the TAC does not verify.
        """
        self._check(init)
        dtk = self._card_key(self._mtk, card_serial(card))
        expected = purchase_tac(dtk, init.amount, self.terminal_id, terminal_txn_no, bcd_date(when),
                                bcd_time(when), _type(init, type), self._algorithm)
        if not constant_time_equal(expected, bytes(tac)):
            raise MacInvalid("the card's TAC does not verify", context="PSAM TAC check")

    # ------------------------------------------------------------------------------ internals
    def _check(self, init: PurchaseInit) -> None:
        if init.terminal_id != self.terminal_id:
            raise PurseError("the purchase was initialized for another terminal id", context="PSAM")
        if init.algorithm is not self._algorithm:
            raise PurseError(f"the card uses {init.algorithm.value}, this PSAM holds {self._algorithm.value} keys",
                             context="PSAM")

    def _card_key(self, master: MasterKey, x: bytes) -> bytes:
        try:
            return diversify_card_key(master, x, self._algorithm)
        except CryptoError as exc:
            raise PurseError(f"key diversification failed ({exc})", context="PSAM") from None

    def _sespk(self, x: bytes, init: PurchaseInit, txn_no: int) -> bytes:
        dpk = self._card_key(self._mpk, x)
        return purchase_session_key(dpk, init.random, init.offline_counter, txn_no, self._algorithm)


def _type(init: PurchaseInit, type: int | None) -> int:
    return int(init.type) if type is None else type
