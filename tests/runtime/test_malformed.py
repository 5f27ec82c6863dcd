"""A card never crashes: random bytes and random well-formed commands always get a valid SW."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applets.runtime import SimulatedCard
from cardkit.apdu import CommandAPDU

from .conftest import build_fs_card
from .toy import CounterApplet

_CARD = build_fs_card()
_CARD.register(CounterApplet())


def _check(card: SimulatedCard, raw: bytes) -> None:
    r = card.transmit(raw)
    assert isinstance(r, bytes) and len(r) >= 2
    sw1 = r[-2]
    assert sw1 in (0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x90)
    if sw1 != 0x90 and sw1 not in (0x61, 0x62, 0x63):
        assert len(r) == 2  # errors carry no data
    assert card.powered and not card.store.in_transaction


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(raw: bytes) -> None:
    _check(_CARD, raw)


_INS = st.sampled_from([0x20, 0x24, 0x2C, 0x70, 0xA4, 0xB0, 0xB2, 0xC0, 0xD6, 0xDC, 0xE2, 0x10, 0x12, 0x14, 0x20, 0x22])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x0C, 0x10, 0x80, 0x81, 0x84, 0x40, 0xFF]),
    _INS,
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=20),
    st.one_of(st.none(), st.integers(1, 256)),
)
def test_random_commands_never_crash(cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> None:
    raw = CommandAPDU(cla, ins, p1, p2, data, le).to_bytes()
    _check(_CARD, raw)
    assert _CARD.last_error is None  # no command reached an applet bug (6F00)
