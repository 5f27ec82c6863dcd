"""Random and malformed APDUs: always a status word the card means (never 6F00, never an exception),
and no committed change unless the command is one that may legitimately change state.

The card runs with ``strict=True``, so an exception inside the applet fails the example instead
of hiding behind 6F00.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applets.bank.scripts import SCRIPT_INS
from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.crypto.emv import derive_session_key, generate_ac

from .kit import AIP, Issuer, Terminal, make_card, make_dgis, make_pki

_INS = [0xA8, 0xB2, 0xCA, 0x20, 0x84, 0x88, 0xAE, 0x82, 0xA4, 0xC0, 0x70, *SCRIPT_INS]
# Commands that may change the committed store, and the answers with which they may do so.
_WRITERS = {0xA8, 0xAE, 0x20, 0x82, *SCRIPT_INS}
_WRITING_ANSWERS = {0x9000, 0x6300, 0x6988, 0x6A80, *range(0x63C0, 0x63C4)}

@cache
def _dgis() -> dict[int, bytes]:
    return make_dgis(make_pki())


def _card() -> SimulatedCard:
    return make_card(_dgis())


def _selected(card: SimulatedCard) -> None:
    Terminal(card).select()


def _initiated(card: SimulatedCard) -> None:
    Terminal(card).start()


def _online(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    t.genac(0x80)


PHASES: dict[str, Callable[[SimulatedCard], None]] = {"selected": _selected, "initiated": _initiated,
                                                      "online": _online}

structured = st.builds(
    lambda cla, ins, p1, p2, data, le: bytes((cla, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")
    + (bytes((le,)) if le is not None else b""),
    st.sampled_from([0x00, 0x80, 0x84, 0x8C, 0x04, 0x10, 0x90, 0x01, 0x81]) | st.integers(0, 255),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x40, 0x80, 0x9F, 0x50, 0x90]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x02, 0x0C, 0x14, 0x5C, 0x79, 0x80, 0x88]) | st.integers(0, 255),
    st.binary(max_size=64) | st.sampled_from([b"\x83\x00", b"\x83\x21" + bytes(33), bytes(52), bytes(10)]),
    st.none() | st.integers(0, 255),
)
anything = st.binary(max_size=300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phase=st.sampled_from(sorted(PHASES)), commands=st.lists(structured | anything, min_size=1, max_size=6))
def test_random_apdus(phase: str, commands: list[bytes]) -> None:
    card = _card()
    PHASES[phase](card)
    for raw in commands:
        before = card.store.committed()
        resp = card.transmit(raw)
        assert len(resp) >= 2
        sw = int.from_bytes(resp[-2:], "big")
        assert sw != 0x6F00 and card.last_error is None
        may_write = len(raw) > 1 and raw[1] in _WRITERS and sw in _WRITING_ANSWERS
        if not may_write:
            assert card.store.committed() == before, f"{raw.hex()} -> {sw:04X} changed the store"


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=52, max_size=52), p1=st.sampled_from([0x00, 0x40, 0x80, 0x50, 0x90]))
def test_any_cdol1_values_give_a_cryptogram_the_issuer_verifies(data: bytes, p1: int) -> None:
    """Whatever the terminal data, the AC is CVN 01 over the first 29 CDOL1 bytes (docs/bank.md)."""
    card = _card()
    t = Terminal(card)
    t.start()
    resp = card.transmit(bytes((0x80, 0xAE, p1, 0, len(data))) + data + b"\x00")
    assert resp[-2:] == b"\x90\x00"
    flat = tlv.flatten(resp[:-2])
    if b"\x80" in flat:
        body = flat[b"\x80"]
        cid, atc, ac, iad = body[0], body[1:3], body[3:11], body[11:]
    else:  # CDA: the AC only inside the signature; check the clear parts
        cid, atc, ac, iad = flat[b"\x9f\x27"][0], flat[b"\x9f\x36"], None, flat[b"\x9f\x10"]
    assert cid & 0xC0 in (0x00, 0x40, 0x80) and atc == b"\x00\x01" and len(iad) == 18
    if ac is not None:
        mk = Issuer().mk_ac
        assert ac == generate_ac(derive_session_key(mk, atc), data[:29] + AIP + atc + iad[3:7])
