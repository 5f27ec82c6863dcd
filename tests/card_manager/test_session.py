"""Secure channel scenarios on a blank card: every security level, wrong keys, tampering, GET DATA."""

from __future__ import annotations

import pytest

from applets.card_manager import DEFAULT_KEY, CardManager, Cplc
from applets.runtime import SimulatedCard
from applets.runtime.blank import encode_iccid
from cardkit import tlv

from .kit import ISD, SERIAL, H, HostError, apdu, blank_card, open_scp02, open_scp03, select, send

GET_STATUS_ISD = H("80F28002024F0000")
WRONG = bytes(range(0x50, 0x60))


@pytest.fixture
def card() -> SimulatedCard:
    c = blank_card()
    assert select(c, ISD) == 0x9000
    return c


def cm(card: SimulatedCard) -> CardManager:
    manager = card.applet(ISD)
    assert isinstance(manager, CardManager)
    return manager


def _isd_entry(data: bytes) -> dict[bytes, bytes]:
    (e3,) = tlv.decode(data)
    return {c.tag: c.value for c in e3.children}


@pytest.mark.parametrize("level", [0x00, 0x01, 0x03, 0x11, 0x13, 0x33])
def test_scp03_every_level(card: SimulatedCard, level: int) -> None:
    host = open_scp03(card, level=level)
    data, sw = host.send(GET_STATUS_ISD)
    assert sw == 0x9000
    assert _isd_entry(data) == {b"\x4f": ISD, b"\x9f\x70": b"\x01", b"\xc5": H("9A4000")}
    raw = card.transmit(host.wrap(H("80CA006600")))  # R-ENC: what crosses the wire is not the plain data
    if level & 0x20:
        assert H("2A864886FC6B") not in raw
    assert host.unwrap(raw)[1] == 0x9000


@pytest.mark.parametrize("level", [0x00, 0x01, 0x03])
def test_scp02_every_level(card: SimulatedCard, level: int) -> None:
    host = open_scp02(card, level=level)
    for _ in range(3):  # the ICV chain carries over commands
        data, sw = host.send(GET_STATUS_ISD)
        assert sw == 0x9000 and _isd_entry(data)[b"\x4f"] == ISD


def test_unsupported_levels_are_refused(card: SimulatedCard) -> None:
    with pytest.raises(AssertionError, match="6A86"):
        open_scp03(card, level=0x02)  # C-DECRYPTION without C-MAC
    with pytest.raises(AssertionError, match="6A86"):
        open_scp02(card, level=0x11)  # i = 55 has no R-MAC


def test_kvn_zero_is_the_first_set_and_unknown_kvn_is_6a88(card: SimulatedCard) -> None:
    rsp, sw = send(card, apdu(0x80, 0x50, 0x00, 0x00, bytes(8), le=0))
    assert sw == 0x9000 and rsp[10:13] == H("300370")
    assert send(card, apdu(0x80, 0x50, 0x21, 0x00, bytes(8), le=0))[1] == 0x6A88
    assert send(card, apdu(0x80, 0x50, 0x30, 0x01, bytes(8), le=0))[1] == 0x6A86
    assert send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(7), le=0))[1] == 0x6700
    rsp, sw = send(card, apdu(0x80, 0x50, 0x20, 0x00, bytes(8), le=0))
    assert sw == 0x9000 and rsp[10:12] == H("2002") and len(rsp) == 28


def test_wrong_keys_get_6300_and_change_nothing(card: SimulatedCard) -> None:
    for opener in (open_scp03, open_scp02):
        with pytest.raises(HostError, match="card cryptogram"):  # the host sees the card is not its card
            opener(card, enc=WRONG, mac=WRONG)
    for kvn in (0x30, 0x20):  # a host that skips that check still gets nowhere
        assert send(card, apdu(0x80, 0x50, kvn, 0x00, bytes(8), le=0))[1] == 0x9000
        before = card.store.committed()  # (the IU itself moved the SCP03 counter)
        assert send(card, H("8482010010") + bytes(16))[1] == 0x6300
        assert send(card, GET_STATUS_ISD)[1] == 0x6982
        assert card.store.committed() == before


def test_mac_tampering_gets_6982_and_closes_the_session(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x01)
    wrapped = bytearray(host.wrap(GET_STATUS_ISD))
    wrapped[-3] ^= 0x01  # one bit of the C-MAC
    assert send(card, bytes(wrapped))[1] == 0x6982
    assert host.send(GET_STATUS_ISD)[1] == 0x6982  # even a correct MAC: the session is gone
    assert send(card, GET_STATUS_ISD)[1] == 0x6982


def test_tampered_data_under_scp02_is_6982(card: SimulatedCard) -> None:
    host = open_scp02(card, level=0x03)
    wrapped = bytearray(host.wrap(GET_STATUS_ISD))
    wrapped[5] ^= 0x80  # a ciphertext bit: the padding or the MAC no longer checks
    assert send(card, bytes(wrapped))[1] == 0x6982
    assert host.send(GET_STATUS_ISD)[1] == 0x6982


def test_plain_command_in_a_cmac_session_closes_it(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x01)
    assert send(card, GET_STATUS_ISD)[1] == 0x6982
    assert host.send(GET_STATUS_ISD)[1] == 0x6982


def test_external_authenticate_needs_initialize_update(card: SimulatedCard) -> None:
    assert send(card, H("8482010010") + bytes(16))[1] == 0x6985
    send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(8), le=0))
    assert send(card, GET_STATUS_ISD)[1] == 0x6982  # anything in between ends the handshake
    assert send(card, H("8482010010") + bytes(16))[1] == 0x6985


def test_management_commands_need_a_session(card: SimulatedCard) -> None:
    for raw in (GET_STATUS_ISD, H("80F0800007"), apdu(0x80, 0xE6, 0x20, 0x00, H("000008") + ISD + H("000000")),
                H("80E40000024F00"), H("80D8008102000000"), H("80E2800000")):
        assert send(card, raw)[1] == 0x6982, raw.hex()
    assert send(card, H("84F280020A4F00") + bytes(8) + H("00"))[1] == 0x6982  # secure messaging without a session


def test_level_00_session_allows_management_but_not_keys_or_store_data(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x00)
    assert host.send(GET_STATUS_ISD)[1] == 0x9000
    assert host.send(H("80D8008102000000"))[1] == 0x6982
    assert host.send(H("80E2800000"))[1] == 0x6982


def test_get_data_without_a_session(card: SimulatedCard) -> None:
    data, sw = send(card, "80CA9F7F00")
    assert sw == 0x9000 and data[:3] == H("9F7F2A")
    cplc = Cplc.parse(data[3:])
    assert cplc.ic_serial_number == H("00000018") and cplc.ic_batch_id == H("0000")  # from the serial
    assert cplc == Cplc.from_serial(SERIAL)
    data, sw = send(card, "80CA00CF00")
    assert sw == 0x9000 and data == H("CF0A") + cplc.diversification_data
    assert data[-6:] == cplc.ic_serial_number + cplc.ic_batch_id  # what EMV CPS diversification uses
    rsp, _ = send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(8), le=0))
    assert rsp[:10] == cplc.diversification_data
    data, sw = send(card, "80CA00E000")
    keys = [c.value for c in tlv.decode(data)[0].children]
    assert sw == 0x9000 and keys == [H(k) for k in ("01208010", "02208010", "03208010",
                                                    "01308810", "02308810", "03308810")]
    data, sw = send(card, "80CA006600")
    assert sw == 0x9000
    flat = tlv.decode(data)[0].children[0].children
    scps = [c.children[0].value for c in flat if c.tag == b"\x64"]
    assert scps == [H("2A864886FC6B040370"), H("2A864886FC6B040255")]
    assert send(card, "80CA004500") == (H("450A") + encode_iccid(SERIAL), 0x9000)
    assert send(card, "80CA004200")[1] == 0x6A88  # no IIN until STORE DATA gives one
    assert send(card, "00CA9F7F00")[1] == 0x9000  # the interindustry class works too
    assert send(card, "80CA123400")[1] == 0x6A88


def test_store_data_to_the_security_domain_sets_iin_and_cin(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x03)
    assert host.send(apdu(0x80, 0xE2, 0x90, 0x00, H("4203123456") + H("4504CAFEBABE")))[1] == 0x9000
    assert host.send("80CA004200") == (H("4203123456"), 0x9000)
    assert host.send("80CA004500") == (H("4504CAFEBABE"), 0x9000)
    assert host.send(apdu(0x80, 0xE2, 0x90, 0x00, H("5A0112")))[1] == 0x6A88  # not an SD data object


def test_scp03_counter_persists_and_grows(card: SimulatedCard) -> None:
    counters = []
    for _ in range(3):
        rsp, _ = send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(8), le=0))
        counters.append(int.from_bytes(rsp[-3:], "big"))
        card.power_on()
        select(card, ISD)
    assert counters == [1, 2, 3] and cm(card).sequence_counter(0x30) == 3
    a = send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(8), le=0))[0]
    b = send(card, apdu(0x80, 0x50, 0x30, 0x00, bytes(8), le=0))[0]
    assert a[13:21] != b[13:21]  # a new card challenge every time


def test_scp02_counter_counts_opened_sessions(card: SimulatedCard) -> None:
    for n in range(3):
        rsp, _ = send(card, apdu(0x80, 0x50, 0x20, 0x00, bytes(8), le=0))
        assert rsp[12:14] == n.to_bytes(2, "big")
        open_scp02(card)
    assert cm(card).sequence_counter(0x20) == 3


def test_session_on_a_logical_channel(card: SimulatedCard) -> None:
    rsp, sw = send(card, "0070000001")
    assert sw == 0x9000 and rsp == b"\x01"
    assert select(card, ISD, channel=1) == 0x9000
    host = open_scp03(card, level=0x33, channel=1)
    data, sw = host.send(bytes((0x81,)) + GET_STATUS_ISD[1:])
    assert sw == 0x9000 and _isd_entry(data)[b"\x4f"] == ISD
    assert send(card, GET_STATUS_ISD)[1] == 0x6982  # channel 0 has no session


def test_selecting_again_ends_the_session(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert select(card, ISD) == 0x9000
    assert host.send(GET_STATUS_ISD)[1] == 0x6982


def test_default_keys_are_the_test_keys() -> None:
    assert DEFAULT_KEY == H("404142434445464748494A4B4C4D4E4F")
    assert "4041" not in repr(CardManager().__dict__.get("_initial"))
