"""The host's failures, under :class:`cardkit.errors.HostError` so the EMV kernel treats every one
of them as "unable to go online" (ARC Y3/Z3) without knowing this package."""

from __future__ import annotations

from cardkit.errors import HostError

__all__ = ["HostMessageError", "HostTimeout", "HostUnavailable"]


class HostTimeout(HostError):
    """No answer in time, or the link broke after the request left: the outcome is unknown, so
    the terminal must send a reversal (0400) for it."""


class HostUnavailable(HostError):
    """The host cannot be reached at all (connection refused, no route): nothing was sent."""


class HostMessageError(HostError):
    """Bytes that are not a message of the cardkit ISO 8583 layout (names the field, never its
    value: field 52 holds a PIN block)."""
