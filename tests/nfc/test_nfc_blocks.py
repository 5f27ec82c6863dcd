"""The PICC block rules of ISO 14443-4 §7.5.4.2, without I/O (:class:`IsoDepTarget`)."""

from __future__ import annotations

from cardkit.readers.nfc_card import IsoDepTarget


def test_i_block_toggles_the_block_number_and_yields_the_apdu() -> None:
    dep = IsoDepTarget(256)
    assert dep.receive(b"\x02\x00\xA4") == ("apdu", b"\x00\xA4")  # I(0), no chaining
    assert dep.respond(b"\x90\x00") == b"\x02\x90\x00"  # answered with block number 0
    assert dep.receive(b"\x03\x00\xB0") == ("apdu", b"\x00\xB0")
    assert dep.respond(b"\x90\x00") == b"\x03\x90\x00"


def test_command_chaining_is_acknowledged_then_joined() -> None:
    dep = IsoDepTarget(256)
    assert dep.receive(b"\x12\x01\x02") == ("send", b"\xA2")  # I(0) chaining → R(ACK 0)
    assert dep.receive(b"\x13\x03") == ("send", b"\xA3")
    assert dep.receive(b"\x02\x04") == ("apdu", b"\x01\x02\x03\x04")


def test_response_chaining_follows_the_readers_acks() -> None:
    dep = IsoDepTarget(16)  # 13 bytes of INF per block
    dep.receive(b"\x02\x00")
    rapdu = bytes(range(30))
    assert dep.respond(rapdu) == b"\x12" + rapdu[:13]  # I(0) with the chaining bit
    assert dep.receive(b"\xA3") == ("send", b"\x13" + rapdu[13:26])  # R(ACK 1) → next block
    assert dep.receive(b"\xA3") == ("send", b"\x13" + rapdu[13:26])  # same number → re-send (rule 11)
    assert dep.receive(b"\xA2") == ("send", b"\x02" + rapdu[26:])  # last block: no chaining bit


def test_nak_rules_and_presence_check() -> None:
    dep = IsoDepTarget(256)
    dep.receive(b"\x02\x00")
    last = dep.respond(b"\x90\x00")
    assert dep.receive(b"\xB2") == ("send", last)  # R(NAK) with our number: re-send (rule 11)
    assert dep.receive(b"\xB3") == ("send", b"\xA2")  # other number: R(ACK) (rule 12, presence check)


def test_s_blocks_cid_and_polls() -> None:
    dep = IsoDepTarget(256)
    assert dep.wtx_request(26) == b"\xF2\x1A"
    assert dep.receive(b"\xF2\x1A") == ("ignore", b"")  # the WTX answer is the server's business
    assert dep.receive(b"\x0A\x01\x00\xCA") == ("apdu", b"\x00\xCA")  # I-block with CID 1
    assert dep.respond(b"\x90\x00") == b"\x0A\x01\x90\x00"  # the CID is echoed
    assert dep.receive(b"\xC2") == ("deselect", b"\xC2")
    assert dep.receive(b"\x26") == ("field", b"")  # REQA: the reader starts over
    assert dep.receive(b"\x06\x00") == ("ignore", b"")  # NAD not offered: ignored (rule 4)
