"""Random and malformed APDUs in every phase: a meaningful status word (the card runs ``strict``,
so an exception fails the example), never 6F00, and no committed change except a PIN try."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applets.runtime import SimulatedCard

from .kit import authenticate, init_apdu, make_card, select, send, verify

_INS = [0x50, 0x54, 0x5C, 0x82, 0x84, 0x2C, 0x20, 0x24, 0xB2, 0xB0, 0xA4, 0xDC, 0xE2, 0xC0, 0x70]
_PIN_WRITES = {0x20, 0x24}  # VERIFY / CHANGE REFERENCE DATA may spend (and restore) a try


def _selected(card: SimulatedCard) -> None:
    select(card)


def _authenticated(card: SimulatedCard) -> None:
    select(card)
    authenticate(card)


def _challenge(card: SimulatedCard) -> None:
    select(card)
    send(card, "0084000008")


def _pending(card: SimulatedCard) -> None:
    select(card)
    verify(card)
    send(card, init_apdu(100))


PHASES: dict[str, Callable[[SimulatedCard], None]] = {
    "selected": _selected, "authenticated": _authenticated, "challenge": _challenge, "pending": _pending}

structured = st.builds(
    lambda cla, ins, p1, p2, data, le: bytes((cla, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")
    + (bytes((le,)) if le is not None else b""),
    st.sampled_from([0x00, 0x80, 0x84, 0x04, 0x81, 0x90]) | st.integers(0, 255),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0xFF]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0x2C, 0x34, 0x3C, 0x44]) | st.integers(0, 255),
    st.binary(max_size=20) | st.sampled_from([bytes(4), bytes(8), bytes(11), bytes(15), b"123456"]),
    st.none() | st.integers(0, 255),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phase=st.sampled_from(sorted(PHASES)), cmds=st.lists(structured | st.binary(max_size=40), min_size=1,
                                                            max_size=4))
def test_random_apdus(phase: str, cmds: list[bytes]) -> None:
    card = make_card()
    PHASES[phase](card)
    for cmd in cmds:
        before = card.store.committed()
        r = card.transmit(cmd)
        sw = int.from_bytes(r[-2:], "big")
        assert len(r) >= 2 and sw != 0x6F00 and 0x61 <= r[-2] <= 0x9F, r.hex()
        if card.store.committed() != before:
            changed = {k for k in set(before) | set(card.store.committed())
                       if before.get(k) != card.store.committed().get(k)}
            assert len(cmd) > 1 and cmd[1] in _PIN_WRITES and all(k.endswith("pin/1") for k in changed), (
                cmd.hex(), hex(sw), changed)
