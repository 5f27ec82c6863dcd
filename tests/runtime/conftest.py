"""Fixtures: a blank card with a small file tree and one PIN, powered on."""

from __future__ import annotations

import pytest

from applets.runtime import (
    ALWAYS,
    MF_AID,
    NEVER,
    PIN,
    SimulatedCard,
    Structure,
    new_blank_card,
)


def build_fs_card() -> SimulatedCard:
    card = new_blank_card(serial="8986001234567890123")
    fs = card.applet(MF_AID).fs  # type: ignore[attr-defined]
    mf = fs.root
    with card.store.transaction():
        fs.create_ef(mf, 0x0001, size=10, data=b"0123456789", sfi=1, read=ALWAYS, update=PIN(1))
        fs.create_ef(mf, 0x0002, Structure.LINEAR_FIXED, record_size=4, max_records=3,
                     records=[b"AAAA", b"BBBB"], sfi=3, read=PIN(1), update=ALWAYS)
        fs.create_ef(mf, 0x0003, Structure.CYCLIC, record_size=2, max_records=3, sfi=4, update=ALWAYS)
        fs.create_ef(mf, 0x0004, Structure.LINEAR_VARIABLE, record_size=8, max_records=2, sfi=5,
                     records=[b"x"], update=ALWAYS)
        fs.create_ef(mf, 0x0005, size=4, sfi=6, read=NEVER, update=NEVER)
        df = fs.create_df(mf, 0x5000, name=b"\xF0inner")
        fs.create_ef(df, 0x5001, data=b"inner", sfi=1)
        fs.create_df(df, 0x5100)
        fs.pins.create(1, b"1234", tries=3, puk=b"12345678", puk_tries=5)
        fs.pins.create(2, b"\x12\x34\x56", fmt="bcd", tries=2)
    card.power_on()
    return card


@pytest.fixture
def fs_card() -> SimulatedCard:
    return build_fs_card()
