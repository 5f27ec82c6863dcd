"""CardChannel against a real SimulatedCard through VirtualReader (T=1-like) and T0Card (T=0)."""

from __future__ import annotations

import pytest

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ApduError, CardError
from cardkit.readers import CardChannel, T0Card, VirtualReader, encode_cla
from cardkit.readers.base import Connection

from .cards import (
    ECHO_AID,
    EF_CONTENT,
    SELECT_ECHO,
    SELECT_EF,
    SELECT_MF,
    make_card,
    read_binary,
)


class Wire:
    """Records what reached the card (a hook, not a fake: the card is real)."""

    def __init__(self, conn: Connection) -> None:
        self.sent: list[bytes] = []
        conn.hooks.append(lambda c, r, t: self.sent.append(c))


@pytest.fixture
def t1() -> Connection:
    return VirtualReader(make_card(echo=True)).connect()


@pytest.fixture
def t0() -> Connection:
    return VirtualReader(T0Card(make_card(echo=True))).connect("T0")


def test_plain_exchange_needs_no_extra_rounds(t1: Connection):
    wire = Wire(t1)
    resp = CardChannel(t1).transmit(SELECT_MF)
    assert resp.sw == SW.OK and resp.data[0] == 0x6F
    assert wire.sent == [SELECT_MF.to_bytes()]


def test_t0_case4_is_fetched_with_get_response(t0: Connection):
    wire = Wire(t0)
    resp = CardChannel(t0).transmit(SELECT_MF)
    assert resp.sw == SW.OK and resp.data[0] == 0x6F
    assert wire.sent[1] == bytes([0x00, 0xC0, 0x00, 0x00, len(resp.data)])


def test_t0_long_response_loops_get_response_and_accumulates(t0: Connection):
    channel = CardChannel(t0)
    channel.transmit_ok(SELECT_ECHO)
    wire = Wire(t0)
    # 600 bytes of data in, 600 back: extended APDUs are impossible under T=0 → chained in; the
    # answer comes as 61 00, 61 00, 61 58 … in GET RESPONSE rounds
    resp = channel.transmit_ok(CommandAPDU(0x00, 0x10, 0x00, 0x00, EF_CONTENT[:600], le=256))
    assert resp.data == EF_CONTENT[:600]
    headers = [c[:2] for c in wire.sent]
    assert headers == [b"\x10\x10", b"\x10\x10", b"\x00\x10", b"\x00\xC0", b"\x00\xC0", b"\x00\xC0"]


def test_6cxx_resends_with_the_exact_le(t0: Connection):
    channel = CardChannel(t0)
    channel.transmit_ok(SELECT_EF)
    wire = Wire(t0)
    resp = channel.transmit_ok(read_binary(700))
    assert resp.data == EF_CONTENT[700:]
    assert wire.sent == [read_binary(700).to_bytes(), read_binary(700, 68).to_bytes()]


def test_extended_length_is_used_when_the_card_has_it(t1: Connection):
    channel = CardChannel(t1)
    channel.transmit_ok(SELECT_ECHO)
    wire = Wire(t1)
    resp = channel.transmit_ok(CommandAPDU(0x00, 0x10, 0x00, 0x00, bytes(300), le=65536))
    assert resp.data == bytes(300) and len(wire.sent) == 1 and wire.sent[0][4] == 0x00  # extended Lc


@pytest.mark.parametrize("how", ["no-extended", "asked"])
def test_command_chaining(how: str):
    conn = VirtualReader(make_card(echo=True)).connect()
    channel = CardChannel(conn, extended_length=how != "no-extended")
    channel.transmit_ok(SELECT_ECHO)
    wire = Wire(conn)
    data = bytes(range(256)) * 2 + b"tail"
    resp = channel.transmit(CommandAPDU(0x00, 0x10, 0x00, 0x00, data, le=256), chain=how == "asked")
    assert resp.data == data  # beyond Ne the card says 61xx: GET RESPONSE fetches the rest
    assert [c[:2] for c in wire.sent[:3]] == [b"\x10\x10", b"\x10\x10", b"\x00\x10"]
    assert [c[4] for c in wire.sent[:3]] == [255, 255, 6]
    assert all(c[1] == 0xC0 for c in wire.sent[3:])


def test_chaining_stops_at_the_first_refusal(t1: Connection):
    channel = CardChannel(t1, extended_length=False)
    channel.transmit_ok(SELECT_EF)  # the file system does not do chaining
    wire = Wire(t1)
    resp = channel.transmit(CommandAPDU(0x00, 0xD6, 0x00, 0x00, bytes(300)))
    assert resp.sw == SW.CHAINING_NOT_SUPPORTED and len(wire.sent) == 1


def test_logical_channels(t1: Connection):
    basic = CardChannel(t1)
    basic.transmit_ok(SELECT_EF)
    wire = Wire(t1)
    with basic.open_channel() as second:
        assert second.channel == 1
        second.transmit_ok(SELECT_ECHO)
        assert second.transmit_ok(CommandAPDU(0x00, 0x10, 0x00, 0x00, b"hi", le=256)).data == b"hi"
        # the basic channel still has EF 0101 selected
        assert basic.transmit_ok(read_binary(0, 4)).data == EF_CONTENT[:4]
    assert wire.sent[0] == bytes.fromhex("0070000001")
    assert wire.sent[1][0] == 0x01 and wire.sent[-1] == bytes.fromhex("01708001")
    with pytest.raises(CardError):  # closed on the card side
        CardChannel(t1, channel=1).transmit_ok(CommandAPDU(0x00, 0x10, 0x00, 0x00, b"x"))


def test_logical_channel_on_t0_fetches_with_the_same_channel(t0: Connection):
    with CardChannel(t0).open_channel() as second:
        wire = Wire(t0)
        resp = second.transmit_ok(SELECT_ECHO)
        assert resp.data[0] == 0x6F
        assert wire.sent[1][:2] == b"\x01\xC0"


@pytest.mark.parametrize(
    ("cla", "channel", "expected"),
    [
        (0x00, 0, 0x00), (0x00, 3, 0x03), (0x0C, 2, 0x0E), (0x10, 1, 0x11), (0x80, 3, 0x83), (0x84, 1, 0x85),
        (0x00, 4, 0x40), (0x00, 19, 0x4F), (0x08, 5, 0x61), (0x10, 4, 0x50), (0x80, 4, 0xC0), (0x80, 19, 0xCF),
        (0x43, 0, 0x00), (0x61, 1, 0x09),
    ],
)
def test_encode_cla(cla: int, channel: int, expected: int):
    assert encode_cla(cla, channel) == expected


@pytest.mark.parametrize(("cla", "channel"), [(0x00, 20), (0x00, -1), (0x0C, 4), (0x04, 7), (0xFF, 0)])
def test_encode_cla_refuses(cla: int, channel: int):
    with pytest.raises(ApduError):
        encode_cla(cla, channel)


def test_check_and_transmit_ok_raise_card_error_with_context(t1: Connection):
    channel = CardChannel(t1)
    missing = CommandAPDU(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A000000333010101"), le=256)
    with pytest.raises(CardError, match="SELECT: card answered 6A82") as err:
        channel.transmit_ok(missing)
    assert err.value.sw == SW.FILE_NOT_FOUND
    assert channel.transmit_ok(missing, SW.OK, SW.FILE_NOT_FOUND).sw == SW.FILE_NOT_FOUND
    with pytest.raises(CardError, match="reading the DIR: "):
        CardChannel.check(ResponseAPDU(b"", 0x6A83), context="reading the DIR")
    assert channel.send(0x00, 0xA4, 0x00, 0x00, bytes.fromhex("3F00"), 256).sw == SW.OK


class XorSM:
    """A toy secure-messaging wrapper: proves the hook sits between the caller and the wire."""

    def __init__(self) -> None:
        self.wrapped = 0

    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        self.wrapped += 1
        return CommandAPDU(command.cla, command.ins, command.p1, command.p2,
                           bytes(b ^ 0x5A for b in command.data), command.le)

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        return ResponseAPDU(bytes(b ^ 0x5A for b in response.data), response.sw)


def test_secure_messaging_hook_wraps_and_unwraps(t0: Connection):
    channel = CardChannel(t0)
    channel.transmit_ok(SELECT_ECHO)
    wire = Wire(t0)
    channel.secure_messaging = sm = XorSM()
    resp = channel.transmit_ok(CommandAPDU(0x00, 0x10, 0x00, 0x00, b"secret", le=256))
    assert resp.data == b"secret" and sm.wrapped == 1
    assert b"secret" not in wire.sent[0] and wire.sent[1][1] == 0xC0  # wrapped, then GET RESPONSE


def test_t0_card_keeps_the_card_interface():
    card = make_card()
    t0 = T0Card(card, t0_only=False)
    assert t0.atr == card.atr and t0.store is card.store
    assert T0Card(card).atr == bytes((0x3B, 0x0D)) + card.historical_bytes
    assert ECHO_AID  # the echo applet's AID is a constant of the test card
