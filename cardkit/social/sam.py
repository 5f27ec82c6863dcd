"""A terminal SAM model for the social insurance application (docs/social.md "The SAM").

A clinic's terminal holds its keys in a SAM: the terminal-authentication master key (for EXTERNAL
AUTHENTICATE) and, for medical payments, the purchase and TAC master keys. :class:`SocialSam`
does the same in software behind a narrow surface. The payment half is the purse PSAM
(:class:`cardkit.purse.Psam`) — the medical account uses the PBOC purse formulas — so its MAC1,
MAC2/TAC checks and terminal transaction numbering are reused, not rewritten.
"""

from __future__ import annotations

from datetime import datetime

from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.crypto.hazmat.keys import MasterKey, key_length
from cardkit.crypto.purse import diversify_card_key
from cardkit.purse import MacInvalid as PurseMacInvalid
from cardkit.purse import Psam, PurchaseInit, PurseError
from cardkit.social.errors import MacInvalid, SocialError
from cardkit.social.records import CardInfo

__all__ = ["SocialSam"]

_CHALLENGE = 8


def _x(card: CardInfo | bytes) -> bytes:
    x = card.diversifier if isinstance(card, CardInfo) else bytes(card)
    if len(x) != 8:
        raise SocialError(f"the card diversifier is {len(x)} bytes instead of 8", context="SAM")
    return x


class SocialSam:
    """A software SAM holding the terminal-auth, purchase and TAC master keys (16 bytes each).

    Args:
        terminal_auth_master: diversified by the card number into the card's DAK.
        purchase_master, tac_master: the medical account's MPK and MTK (the purse's DPK / DTK).
        terminal_id: the 6-byte terminal number that goes into every payment MAC.
        first_txn_no: the first terminal transaction number to hand out.

    Raises:
        SocialError: a key of the wrong length or a bad terminal id (no key bytes in the message).
    """

    __slots__ = ("_mak", "_psam")

    def __init__(self, terminal_auth_master: MasterKey, purchase_master: MasterKey, tac_master: MasterKey,
                 terminal_id: bytes, *, first_txn_no: int = 1) -> None:
        if key_length(terminal_auth_master) != 16:
            raise SocialError(f"the terminal-auth master key is {key_length(terminal_auth_master)} bytes instead of 16",
                              context="SAM")
        try:
            self._psam = Psam(purchase_master, tac_master, terminal_id=terminal_id, first_txn_no=first_txn_no)
        except PurseError as exc:
            raise SocialError(str(exc), context="SAM") from None
        self._mak = (bytes(terminal_auth_master) if isinstance(terminal_auth_master, (bytes, bytearray))
                     else terminal_auth_master)  # a key an HSM holds stays there

    @property
    def terminal_id(self) -> bytes:
        return self._psam.terminal_id

    @property
    def next_txn_no(self) -> int:
        return self._psam.next_txn_no

    def __repr__(self) -> str:
        return f"SocialSam(terminal_id={self.terminal_id.hex().upper()!r}, next_txn_no={self.next_txn_no})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a SocialSam holds keys and cannot be pickled")

    def authenticate(self, card: CardInfo | bytes, challenge: bytes) -> bytes:
        """The EXTERNAL AUTHENTICATE cryptogram: 3DES-ECB of the card's 8-byte challenge under DAK."""
        if len(challenge) != _CHALLENGE:
            raise SocialError(f"the card's challenge is {len(challenge)} bytes instead of 8", context="SAM")
        dak = diversify_card_key(self._mak, _x(card))
        return TripleDES(dak).encrypt_ecb(bytes(challenge))

    def mac1(self, card: CardInfo | bytes, init: PurchaseInit, when: datetime) -> tuple[int, bytes]:
        """MAC1 for DEBIT; takes the next terminal transaction number: ``(number, MAC1)``."""
        try:
            return self._psam.mac1(_x(card), init, when)
        except PurseError as exc:
            raise SocialError(str(exc), context="SAM") from None

    def verify(self, card: CardInfo | bytes, init: PurchaseInit, terminal_txn_no: int, when: datetime,
               tac: bytes, mac2: bytes) -> None:
        """Check the card's MAC2 and TAC.

        Raises:
            MacInvalid: either does not verify (the card reports the debit as done).
        """
        x = _x(card)
        try:
            self._psam.verify_mac2(x, init, terminal_txn_no, mac2)
            self._psam.verify_tac(x, init, terminal_txn_no, when, tac)
        except PurseMacInvalid as exc:
            raise MacInvalid(f"{exc}; the card reports the debit as done", context="SAM") from None
