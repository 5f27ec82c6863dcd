"""Random and malformed APDUs before and after BAC, plain and wrapped in valid secure messaging:
always a status word the card means (never 6F00 — the card runs ``strict``, so an exception
fails the example), and the store never changes (the application is read-only)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardkit.crypto import icao

from .kit import FIDS, Terminal, make_card, open_session

_INS = [0xA4, 0xB0, 0xB1, 0x84, 0x82, 0x88, 0xC0, 0xD6, 0xB2, 0x20, 0x70, 0xCA]

structured = st.builds(
    lambda cla, ins, p1, p2, data, le: bytes((cla, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")
    + (bytes((le,)) if le is not None else b""),
    st.sampled_from([0x00, 0x0C, 0x08, 0x80, 0x8C, 0x01, 0x04]) | st.integers(0, 255),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0x04, 0x81, 0x9E, 0x7F]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x0C, 0x04, 0xFF]) | st.integers(0, 255),
    st.binary(max_size=48) | st.sampled_from([b"\x01\x1e", b"\x01\x02", bytes(8), bytes(40), b"\x87\x81",
                                              b"\x8e\x08" + bytes(8), b"\x97\x01\x04\x8e\x08" + bytes(8)]),
    st.none() | st.integers(0, 255),
)
raw = st.binary(max_size=60)
inner = st.builds(
    lambda ins, p1, p2, data, le: bytes((0x00, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")
    + (bytes((le,)) if le is not None else b""),
    st.sampled_from(_INS) | st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
    st.binary(max_size=24) | st.sampled_from([b"\x01\x1e", b"\x01\x02", b"\x01\x0f", bytes(8)]),
    st.none() | st.integers(0, 255),
)


def _valid_sw(r: bytes) -> bool:
    return len(r) >= 2 and 0x61 <= r[-2] <= 0x9F and r[-2:] != b"\x6f\x00"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(after_bac=st.booleans(), cmds=st.lists(structured | raw, min_size=1, max_size=5))
def test_random_apdus(after_bac: bool, cmds: list[bytes]) -> None:
    card = make_card()
    t = open_session(card) if after_bac else Terminal(card)
    if not after_bac:
        t.select_application()
    before = card.store.committed()
    for cmd in cmds:
        assert _valid_sw(card.transmit(cmd)), cmd.hex()
    assert card.store.committed() == before


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=st.lists(inner, min_size=1, max_size=5))
def test_random_commands_inside_valid_secure_messaging(cmds: list[bytes]) -> None:
    card = make_card()
    t = open_session(card)
    before = card.store.committed()
    for plain in cmds:
        assert t.ks is not None
        try:
            protected, ssc = icao.protect_command(t.ks, t.ssc, plain)
        except Exception:  # not a short APDU the terminal can wrap
            continue
        r = card.transmit(protected)
        assert _valid_sw(r), (plain.hex(), r.hex())
        if r[-2:] in (b"\x69\x87", b"\x69\x88"):
            return  # the session ended
        if len(r) == 2:
            assert plain[1] & 0xF0 in (0x60, 0x90) or plain[1] in (0xA4, 0x70), (plain.hex(), r.hex())
            return  # answered in plain by the card OS (INS 6X/9X, SELECT by AID, MANAGE CHANNEL)
        data, status, t.ssc = icao.unprotect_response(t.ks, ssc, r)
        assert status == r[-2:]
    assert card.store.committed() == before
    assert t.read_file(FIDS["EF.COM"])  # still a working session
