"""Errors of the ID application client (ICAO Doc 9303 parts 10 and 11).

Every one is a :class:`cardkit.errors.CardkitError`, so the CLI prints it as one line. No message
carries the MRZ information, a BAC key, a session key or the send sequence counter.
"""

from __future__ import annotations

from cardkit.errors import CardkitError

__all__ = ["AccessDenied", "EidError", "SecureMessagingError"]


class EidError(CardkitError):
    """The ID application failed or returned data that does not follow ICAO 9303."""


class AccessDenied(EidError):
    """BAC refused (9303-11 §4.3, 6300): the document number, birth date or expiry is wrong."""

    def __init__(self, message: str = "access denied: the document number, birth date or expiry "
                                      "does not match this card") -> None:
        super().__init__(message)


class SecureMessagingError(EidError):
    """A secure-messaging response failed its MAC or was sent in plain (9303-11 §9.8); the
    session is over and :meth:`cardkit.eid.EidReader.open` must run again."""
