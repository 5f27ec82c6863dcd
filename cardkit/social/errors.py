"""Errors of the social insurance client, its SAM and the issuer helper.

Every refusal the card answers becomes one :class:`SocialError` subclass carrying the status word
(``sw``); the terminal side raises the same classes with ``sw = None`` when a check it makes fails
(the SAM rejecting a MAC2). Messages name the command and the status word — never a PIN, a key or
a MAC input.
"""

from __future__ import annotations

from cardkit.apdu import SW, pin_tries_left
from cardkit.errors import ApplicationError

__all__ = [
    "ConditionsNotSatisfied",
    "InsufficientBalance",
    "MacInvalid",
    "NotAuthenticated",
    "PinBlocked",
    "SocialDataError",
    "SocialError",
    "SocialUsageError",
    "TerminalAuthFailed",
    "WrongPin",
    "error_for_sw",
]


class SocialError(ApplicationError):
    """A social insurance operation failed.

    Attributes:
        sw: the card's status word, or ``None`` when the terminal side found the fault.
        context: the command or step that failed.
    """


class WrongPin(SocialError):
    """63Cx to VERIFY: the PIN is wrong; :attr:`tries_left` more attempts before it blocks."""

    def __init__(self, tries_left: int, *, sw: int, context: str = "VERIFY") -> None:
        self.tries_left = tries_left
        super().__init__(f"wrong PIN: {tries_left} {'try' if tries_left == 1 else 'tries'} left", sw=sw,
                         context=context)


class PinBlocked(SocialError):
    """6983: the PIN is blocked; only the issuer can unblock it (``cardkit.social.issuer``)."""


class NotAuthenticated(SocialError):
    """6982: a protected record before terminal authentication, or a payment before VERIFY."""


class TerminalAuthFailed(SocialError):
    """6300 to EXTERNAL AUTHENTICATE: the SAM's terminal-auth key is not this card's issuer's."""


class InsufficientBalance(SocialError):
    """9401: the medical account holds less than the amount; nothing was debited."""


class MacInvalid(SocialError):
    """9302 (the card refused MAC1), 6988 (an unblock MAC), or a MAC2/TAC the SAM rejected."""


class ConditionsNotSatisfied(SocialError):
    """6985: a command out of sequence, or an unpersonalized application."""


class SocialDataError(SocialError):
    """The card answered 9000 with data that does not have the documented layout."""


class SocialUsageError(SocialError, ValueError):
    """The caller's fault: an amount or terminal id the commands cannot carry, a PIN of the wrong form."""


_BY_SW: dict[int, type[SocialError]] = {
    SW.AUTH_METHOD_BLOCKED: PinBlocked,
    SW.SECURITY_STATUS_NOT_SATISFIED: NotAuthenticated,
    SW.AUTHENTICATION_FAILED_WARNING: TerminalAuthFailed,
    SW.INSUFFICIENT_BALANCE: InsufficientBalance,
    SW.MAC_INVALID: MacInvalid,
    SW.SM_DATA_OBJECTS_INCORRECT: MacInvalid,
    SW.CONDITIONS_NOT_SATISFIED: ConditionsNotSatisfied,
}
_MESSAGES = {
    PinBlocked: "the PIN is blocked: ask the issuer to unblock it",
    NotAuthenticated: "access refused (terminal not authenticated or PIN not verified)",
    TerminalAuthFailed: "the card rejected the terminal's authentication",
    InsufficientBalance: "the medical account balance is too low",
    MacInvalid: "the card rejected the MAC",
}


def error_for_sw(sw: int, context: str) -> SocialError:
    """The error for a status word the card answered to ``context`` (returned, not raised)."""
    left = pin_tries_left(sw)
    if left is not None:
        return WrongPin(left, sw=sw, context=context) if left else PinBlocked(_MESSAGES[PinBlocked], sw=sw,
                                                                                 context=context)
    cls = _BY_SW.get(sw, SocialError)
    return cls(_MESSAGES.get(cls, "the card refused"), sw=sw, context=context)
