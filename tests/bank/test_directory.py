"""PSE and PPSE: FCIs and the directory record as docs/bank.md lays them out."""

from __future__ import annotations

import pytest

from applets.bank import CREDIT_AID, DEBIT_AID, DirectoryEntry, PpseApplet, PseApplet
from applets.runtime import SimulatedCard
from cardkit import tlv

from .kit import apdu, send

ENTRIES = [DirectoryEntry(DEBIT_AID, "PBOC DEBIT", 1), DirectoryEntry(CREDIT_AID, "PBOC CREDIT", 2)]


def _card() -> SimulatedCard:
    card = SimulatedCard(applets=[PseApplet(entries=ENTRIES), PpseApplet(entries=ENTRIES)], strict=True)
    card.power_on()
    return card


def _entry(e: DirectoryEntry) -> bytes:
    body = tlv.build(0x4F, e.aid) + tlv.build(0x50, e.label.encode()) + tlv.build(0x87, bytes((e.priority or 0,)))
    return tlv.build(0x61, body)


def test_pse() -> None:
    card = _card()
    data, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, b"1PAY.SYS.DDF01", 0))
    assert sw == 0x9000
    assert data == tlv.build(0x6F, tlv.build(0x84, b"1PAY.SYS.DDF01") + tlv.build(
        0xA5, tlv.build(0x88, b"\x01") + tlv.build(0x5F2D, b"zhen")))
    record, sw = send(card, "00B2010C00")
    assert sw == 0x9000 and record == tlv.build(0x70, b"".join(_entry(e) for e in ENTRIES))


@pytest.mark.parametrize(("command", "sw"), [
    ("00B2020C00", 0x6A83), ("00B2011400", 0x6A82), ("00B2010800", 0x6A86), ("00B2000C00", 0x6A86),
    ("80B2010C00", 0x6E00), ("00A8000000", 0x6D00), ("00B2010C0100", 0x6700),
])
def test_pse_refusals(command: str, sw: int) -> None:
    card = _card()
    send(card, apdu(0x00, 0xA4, 0x04, 0x00, b"1PAY.SYS.DDF01", 0))
    assert send(card, command)[1] == sw


def test_ppse() -> None:
    card = _card()
    data, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, b"2PAY.SYS.DDF01", 0))
    assert sw == 0x9000
    fci = tlv.decode(data)
    assert tlv.find(fci, [0x6F, 0xA5, 0xBF0C]).value == b"".join(_entry(e) for e in ENTRIES)  # type: ignore[union-attr]
    assert send(card, "00B2010C00")[1] == 0x6D00


def test_config_round_trip() -> None:
    pse = PseApplet(entries=ENTRIES)
    again = PseApplet.from_config(pse.to_config())
    assert isinstance(again, PseApplet) and again.entries == pse.entries and again.aid == b"1PAY.SYS.DDF01"


def test_entry_validation() -> None:
    with pytest.raises(ValueError):
        DirectoryEntry(b"\xa0", "X")
    with pytest.raises(ValueError):
        DirectoryEntry(DEBIT_AID, "")
    with pytest.raises(ValueError):
        DirectoryEntry(DEBIT_AID, "X", 300)
