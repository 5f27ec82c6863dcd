"""Shared helpers for the runtime tests: send hex, split the SW."""

from __future__ import annotations

from applets.runtime import SimulatedCard


def send(card: SimulatedCard, apdu: str | bytes) -> tuple[bytes, int]:
    """Transmit hex (spaces allowed) or bytes; return (data, sw)."""
    raw = bytes.fromhex(apdu.replace(" ", "")) if isinstance(apdu, str) else apdu
    r = card.transmit(raw)
    assert len(r) >= 2
    return r[:-2], int.from_bytes(r[-2:], "big")


def sw(card: SimulatedCard, apdu: str | bytes) -> int:
    return send(card, apdu)[1]
