"""One exception tree for every user-facing failure.

``CardkitError`` is the root; the CLI turns any of them into one clear line and a non-zero exit.
Messages never carry key material, PINs or PIN blocks.
"""

from __future__ import annotations


class CardkitError(Exception):
    """Root of every error cardkit raises on purpose."""


class ApduError(CardkitError, ValueError):
    """Bytes that are not a well-formed APDU (we or the peer broke ISO 7816-4 framing)."""


class TlvError(CardkitError, ValueError):
    """Malformed BER-TLV: truncation, overrun, trailing bytes, indefinite length."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        super().__init__(message if offset is None else f"{message} at offset {offset}")


class TransportError(CardkitError):
    """The path to the card failed: no reader, no card, a lost connection, a daemon that is down."""


class ReaderNotFoundError(TransportError):
    """No reader matches the name asked for."""


class NoCardError(TransportError):
    """The reader is there but holds no card (or it was removed)."""


class CardError(CardkitError):
    """The card answered with a status word that the caller did not accept."""

    def __init__(self, sw: int, context: str = "") -> None:
        from cardkit.apdu import describe_sw  # local: apdu imports this module

        self.sw = sw
        where = f"{context}: " if context else ""
        super().__init__(f"{where}card answered {sw:04X} ({describe_sw(sw)})")


class ApplicationError(CardkitError):
    """A card application's operation failed, refused by the card (``sw`` set) or by a check on
    the terminal side (``sw`` is ``None``); ``context`` names the command or step. The base of the
    purse and social insurance clients' errors."""

    def __init__(self, message: str, *, sw: int | None = None, context: str = "") -> None:
        from cardkit.apdu import describe_sw  # local: apdu imports this module

        self.sw = sw
        self.context = context
        where = f"{context}: " if context else ""
        status = f" (card answered {sw:04X}, {describe_sw(sw)})" if sw is not None else ""
        super().__init__(f"{where}{message}{status}")

    @property
    def by_card(self) -> bool:
        """Whether the card refused (``True``) or the terminal side found the fault."""
        return self.sw is not None


class CryptoError(CardkitError):
    """A cryptographic check failed or a key was unusable (never says which key bytes)."""


class ProfileError(CardkitError):
    """A card profile, holder file or configuration is invalid."""


class CardImageError(CardkitError):
    """A card image file is missing, corrupt, truncated or of an unknown version."""


class HostError(CardkitError):
    """The acquirer/issuer host failed or did not answer."""


class CardTornError(TransportError):
    """The simulated card lost power mid-command (an injected tear): uncommitted writes were rolled back."""
