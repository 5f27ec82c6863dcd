"""Random APDUs at the card manager: always a status word it means (never 6F00, never an exception).

The card runs with ``strict=True``, so an exception inside the applet fails the example. Commands go
in raw, and — in the session phases — also wrapped with a valid C-MAC (and C-DECRYPTION), so random
data reaches the command handlers past the secure channel.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applets.card_manager import BANK_LOAD_FILE, BANK_MODULE, TRANSIT_LOAD_FILE, TRANSIT_MODULE
from applets.runtime import SimulatedCard

from .kit import ISD, H, Host, apdu, blank_card, install_data, open_scp02, open_scp03, perso_data, select

_INS = [0x50, 0x82, 0xCA, 0xF2, 0xF0, 0xE6, 0xE4, 0xE2, 0xD8, 0xA4, 0x70, 0xC0]
_DATA = st.binary(max_size=64) | st.sampled_from([
    H("4F00"), H("4F005C034F9F70"), install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, H("A0000006320101FF")),
    install_data(BANK_LOAD_FILE, BANK_MODULE, ISD), perso_data(H("A0000006320101FF")), H("D20120"), H("D20130D00101"),
    H("4F08") + ISD, H("00008110FF") + bytes(16), H("9102FF0005") + bytes(5), H("42FF"), H("4F0E") + b"2PAY.SYS.DDF01",
])
plain = st.builds(
    lambda ins, p1, p2, data, le: apdu(0x80, ins, p1, p2, data, le),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x04, 0x08, 0x0C, 0x10, 0x20, 0x30, 0x40, 0x80, 0x88, 0x90, 0xE0, 0xFF])
    | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x07, 0x0F, 0x7F, 0x80, 0x81, 0x83, 0xFF]) | st.integers(0, 255),
    _DATA,
    st.none() | st.just(0),
)
raw = st.builds(
    lambda cla, rest: bytes((cla,)) + rest,
    st.sampled_from([0x00, 0x80, 0x81, 0x84, 0x85, 0x88, 0x8C, 0x90]) | st.integers(0, 255),
    st.binary(min_size=3, max_size=80),
)


def _card(phase: str) -> tuple[SimulatedCard, Host | None]:
    card = blank_card()
    assert select(card, ISD) == 0x9000
    if phase == "scp03":
        return card, open_scp03(card, level=0x33)
    if phase == "scp02":
        return card, open_scp02(card, level=0x03)
    if phase == "perso":
        host = open_scp03(card, level=0x03)
        host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE,
                                                              H("A0000006320101FF")), le=0))
        host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(H("A0000006320101FF")), le=0))
        return card, host
    return card, None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phase=st.sampled_from(["selected", "scp03", "scp02", "perso"]),
       commands=st.lists(st.tuples(st.booleans(), plain | raw), min_size=1, max_size=8))
def test_random_apdus_never_6f00(phase: str, commands: list[tuple[bool, bytes]]) -> None:
    card, host = _card(phase)
    for wrap, command in commands:
        if wrap and host is not None and command[0] == 0x80 and len(command) <= 5 + 200:
            resp = card.transmit(host.wrap(command))
        else:
            resp = card.transmit(command)
        assert len(resp) >= 2
        sw = int.from_bytes(resp[-2:], "big")
        assert sw != 0x6F00 and card.last_error is None, command.hex()
