"""Errors of the purse client, the PSAM and the issuer helper (PBOC ED/EP, JT/T 978 usage).

Every refusal the card answers becomes one :class:`PurseError` subclass that carries the status
word (``sw``); the same classes are raised by the terminal side when a check it makes fails
(``sw`` is then ``None``): a PSAM that cannot verify the card's MAC2 raises :class:`MacInvalid`
just as the card does for a bad MAC1. Messages name the transaction and the status word, never
a key, a MAC input or a session key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cardkit.apdu import SW
from cardkit.errors import ApplicationError, TransportError

if TYPE_CHECKING:
    from cardkit.purse.records import LoadInit, PurchaseInit

__all__ = [
    "BalanceLimitExceeded",
    "ConditionsNotSatisfied",
    "CounterAtLimit",
    "InsufficientBalance",
    "KeyIndexNotSupported",
    "MacInvalid",
    "PurseDataError",
    "PurseError",
    "PurseLocked",
    "TransactionInterrupted",
    "error_for_sw",
]


class PurseError(ApplicationError):
    """A purse operation failed.

    Attributes:
        sw: the card's status word, or ``None`` when the terminal side found the fault.
        context: the command or step that failed ("DEBIT FOR PURCHASE", "PSAM MAC2 check", ...).
    """


class InsufficientBalance(PurseError):
    """9401: balance (plus overdraft limit) is below the amount; nothing was debited."""


class MacInvalid(PurseError):
    """9302 from the card (MAC1 of a purchase, MAC2 of a load), or a MAC2/TAC the terminal could not verify."""


class KeyIndexNotSupported(PurseError):
    """9403: the card has no key under the key index the terminal asked for."""


class CounterAtLimit(PurseError):
    """9402: the card's transaction counter is exhausted; the purse takes no more transactions."""


class ConditionsNotSatisfied(PurseError):
    """6985: the command came out of sequence (no INITIALIZE before it, a second DEBIT, ...)."""


class BalanceLimitExceeded(ConditionsNotSatisfied):
    """6985 to INITIALIZE FOR LOAD: the load would take the balance over the card's maximum."""


class PurseLocked(PurseError):
    """9303: the purse application is permanently locked."""


class PurseDataError(PurseError):
    """The card answered 9000 with data that does not have the documented layout."""


class TransactionInterrupted(PurseError, TransportError):
    """The response to a value-moving command (DEBIT / CREDIT) was lost: the card may have committed.

    Do not retry the transaction: present the same card again and call
    :meth:`cardkit.purse.PurseClient.recover` with :attr:`init`; it says whether the card
    committed and returns the completed result, or ``None`` when it is safe to retry.

    Attributes:
        init: the answer to the INITIALIZE of the interrupted transaction.
        terminal_txn_no: the PSAM's terminal transaction number of a purchase (``None`` for a load).
        when: the transaction date and time sent to the card.
    """

    def __init__(self, message: str, *, init: LoadInit | PurchaseInit, terminal_txn_no: int | None,
                 when: datetime, context: str = "") -> None:
        super().__init__(message, context=context)
        self.init = init
        self.terminal_txn_no = terminal_txn_no
        self.when = when


# Card status words -> error class (REFERENCE.md "PBOC electronic purse", status words).
_BY_SW: dict[int, type[PurseError]] = {
    SW.INSUFFICIENT_BALANCE: InsufficientBalance,
    SW.MAC_INVALID: MacInvalid,
    SW.KEY_INDEX_NOT_SUPPORTED: KeyIndexNotSupported,
    SW.COUNTER_AT_LIMIT: CounterAtLimit,
    SW.CONDITIONS_NOT_SATISFIED: ConditionsNotSatisfied,
    SW.APPLICATION_LOCKED_PERMANENTLY: PurseLocked,
}


def error_for_sw(sw: int, context: str) -> PurseError:
    """The error for a status word the card answered to ``context`` (not raised: returned).

    Args:
        sw: the status word (anything but 9000).
        context: the command's name, put in the message.

    Returns:
        The matching :class:`PurseError` subclass, or :class:`PurseError` itself for other words.
    """
    cls = _BY_SW.get(sw, PurseError)
    return cls("the card refused", sw=sw, context=context)
