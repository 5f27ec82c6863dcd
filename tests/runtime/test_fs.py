"""ISO 7816-4 file system: SELECT by FID/path, FCP/FCI, binary and record commands, SWs, access."""

from __future__ import annotations

import pytest

from applets.runtime import ALWAYS, MF_AID, SimulatedCard, Structure, new_blank_card
from applets.runtime.blank import decode_iccid
from cardkit.apdu import SW
from cardkit.tlv import decode, find

from .helpers import send, sw

PIN_OK = "00 20 0001 04 31323334"


def fcp(data: bytes) -> dict[int, bytes]:
    (tmpl,) = decode(data)
    return {int.from_bytes(t.tag, "big"): t.value for t in tmpl.children}


# -- SELECT -----------------------------------------------------------------------------------------
def test_select_mf_forms(fs_card: SimulatedCard) -> None:
    for apdu in ("00 A4 0000 02 3F00 00", "00 A4 0000 00", "00 A4 0000"):
        data, s = send(fs_card, apdu)
        assert s == SW.OK
        assert fcp(data)[0x83] == b"\x3f\x00" and fcp(data)[0x82] == b"\x38"
        assert fcp(data)[0x84] == MF_AID


def test_select_ef_returns_fcp_fci_or_nothing(fs_card: SimulatedCard) -> None:
    data, s = send(fs_card, "00 A4 0004 02 0001 00")
    assert s == SW.OK and data[0] == 0x62
    p = fcp(data)
    assert p[0x80] == b"\x00\x0a" and p[0x82] == b"\x01" and p[0x83] == b"\x00\x01"
    assert p[0x88] == bytes([1 << 3]) and p[0x8A] == b"\x05"
    data, s = send(fs_card, "00 A4 0000 02 0001 00")
    assert s == SW.OK and data[0] == 0x6F
    assert send(fs_card, "00 A4 000C 02 0001") == (b"", SW.OK)
    data, _ = send(fs_card, "00 A4 0004 02 0002 00")
    assert fcp(data)[0x82] == bytes.fromhex("0221000402")  # linear fixed, DCB, max 4, 2 records
    data, _ = send(fs_card, "00 A4 0004 02 0003 00")
    assert fcp(data)[0x82][0] == 0x06
    data, _ = send(fs_card, "00 A4 0004 02 0004 00")
    assert fcp(data)[0x82][0] == 0x04


def test_select_child_parent_and_paths(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 A4 010C 02 5000") == SW.OK
    assert sw(fs_card, "00 A4 010C 02 0001") == SW.FILE_NOT_FOUND  # P1 01 is for DFs only
    assert sw(fs_card, "00 A4 020C 02 5001") == SW.OK
    assert send(fs_card, "00 B0 0000 00")[0] == b"inner"
    assert sw(fs_card, "00 A4 020C 02 5100") == SW.FILE_NOT_FOUND  # P1 02 is for EFs only
    assert sw(fs_card, "00 A4 030C") == SW.OK  # parent of current DF 5000 = MF
    assert sw(fs_card, "00 A4 030C") == SW.FILE_NOT_FOUND  # MF has no parent
    assert sw(fs_card, "00 A4 080C 04 5000 5001") == SW.OK  # path from MF
    assert send(fs_card, "00 B0 0000 05")[0] == b"inner"
    assert sw(fs_card, "00 A4 080C 06 3F00 5000 5100") == SW.OK  # leading MF tolerated
    assert sw(fs_card, "00 A4 030C") == SW.OK  # now at 5000
    assert sw(fs_card, "00 A4 090C 02 5001") == SW.OK  # path from current DF
    assert sw(fs_card, "00 A4 080C 04 0001 0002") == SW.FILE_NOT_FOUND  # through an EF
    assert sw(fs_card, "00 A4 080C 03 500050") == SW.WRONG_LENGTH
    assert sw(fs_card, "00 A4 000C 03 000100") == SW.WRONG_LENGTH
    assert sw(fs_card, "00 A4 030C 02 3F00") == SW.WRONG_LENGTH
    assert sw(fs_card, "00 A4 0A0C 02 3F00") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 A4 0002 02 3F00") == SW.INCORRECT_P1P2  # "next occurrence" of a FID


def test_select_any_searches_parent_and_siblings(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 A4 000C 02 5000") == SW.OK
    assert sw(fs_card, "00 A4 000C 02 5100") == SW.OK  # child of current
    assert sw(fs_card, "00 A4 000C 02 5000") == SW.OK  # parent by FID
    assert sw(fs_card, "00 A4 000C 02 5100") == SW.OK
    assert sw(fs_card, "00 A4 000C 02 5001") == SW.OK  # sibling of 5100 under 5000
    assert sw(fs_card, "00 A4 000C 02 7777") == SW.FILE_NOT_FOUND


def test_failed_select_keeps_current_file(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 A4 000C 02 0001") == SW.OK
    assert sw(fs_card, "00 A4 000C 02 7777") == SW.FILE_NOT_FOUND
    assert send(fs_card, "00 B0 0000 02")[0] == b"01"


# -- binary -----------------------------------------------------------------------------------------
def test_read_binary(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 B0 0000 04") == SW.COMMAND_NOT_ALLOWED_NO_EF  # MF selected, no EF
    assert send(fs_card, "00 B0 8100 04") == (b"0123", SW.OK)  # SFI 1; now current
    assert send(fs_card, "00 B0 0006 00") == (b"6789", SW.OK)  # Le 00: up to the end
    assert send(fs_card, "00 B0 0006 08") == (b"6789", SW.END_OF_FILE)  # fewer than Ne
    assert send(fs_card, "00 B0 000A 01") == (b"", SW.END_OF_FILE)
    assert sw(fs_card, "00 B0 000B 01") == SW.WRONG_P1P2  # offset beyond the end
    assert sw(fs_card, "00 B0 0000") == SW.WRONG_LENGTH  # no Le
    assert sw(fs_card, "00 B0 8700 01") == SW.FILE_NOT_FOUND  # no SFI 7
    assert sw(fs_card, "00 B0 A100 01") == SW.INCORRECT_P1P2  # b7-b6 must be 0 with SFI
    assert sw(fs_card, "00 B0 8300 01") == SW.INCOMPATIBLE_FILE_STRUCTURE  # SFI 3 is a record EF
    assert sw(fs_card, "00 B0 8600 01") == SW.SECURITY_STATUS_NOT_SATISFIED  # read NEVER


def test_update_binary(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 D6 8102 02 4142") == SW.SECURITY_STATUS_NOT_SATISFIED  # update PIN(1)
    assert sw(fs_card, PIN_OK) == SW.OK
    assert sw(fs_card, "00 D6 8102 02 4142") == SW.OK
    assert send(fs_card, "00 B0 0000 00")[0] == b"01AB456789"
    assert sw(fs_card, "00 D6 0009 01 5A") == SW.OK  # last byte, 15-bit offset form
    assert sw(fs_card, "00 D6 0009 02 5A5A") == SW.NOT_ENOUGH_MEMORY
    assert sw(fs_card, "00 D6 000B 01 5A") == SW.WRONG_P1P2
    assert sw(fs_card, "00 D6 0000") == SW.WRONG_LENGTH
    assert sw(fs_card, "00 D6 8300 04 41414141") == SW.INCOMPATIBLE_FILE_STRUCTURE
    fs_card.power_on()
    assert send(fs_card, "00 B0 8100 00")[0] == b"01AB45678Z"  # persistent


# -- records -----------------------------------------------------------------------------------------
def test_read_record(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 B2 01 1C 00") == SW.SECURITY_STATUS_NOT_SATISFIED  # SFI 3, read PIN(1)
    assert sw(fs_card, PIN_OK) == SW.OK
    assert send(fs_card, "00 B2 01 1C 00") == (b"AAAA", SW.OK)
    assert send(fs_card, "00 B2 02 04 00") == (b"BBBB", SW.OK)  # current EF (set by the SFI form)
    assert send(fs_card, "00 B2 00 04 00") == (b"BBBB", SW.OK)  # P1 00 = current record
    assert sw(fs_card, "00 B2 03 04 00") == SW.RECORD_NOT_FOUND
    assert sw(fs_card, "00 B2 01 04 02") == 0x6C04  # wrong Le: exact length
    assert send(fs_card, "00 B2 01 04 08") == (b"AAAA", SW.END_OF_FILE)
    assert send(fs_card, "00 B2 01 04") == (b"AAAA", SW.OK)  # no Le: leniency for T=0-style clients
    assert sw(fs_card, "00 B2 01 1D 00") == SW.INCORRECT_P1P2  # "P1 to last" mode not offered
    assert sw(fs_card, "00 B2 01 FC 00") == SW.INCORRECT_P1P2  # SFI 31 is RFU
    assert sw(fs_card, "00 B2 01 04 01 00") == SW.WRONG_LENGTH  # data in READ RECORD
    assert sw(fs_card, "00 B2 01 3C 00") == SW.FILE_NOT_FOUND  # SFI 7 does not exist
    assert sw(fs_card, "00 B2 01 0C 00") == SW.INCOMPATIBLE_FILE_STRUCTURE  # SFI 1 is transparent
    fs_card.reset()
    assert sw(fs_card, "00 B2 01 04 00") == SW.COMMAND_NOT_ALLOWED_NO_EF


def test_update_record(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 DC 02 1C 04 43434343") == SW.OK
    assert sw(fs_card, "00 DC 00 04 04 44444444") == SW.OK  # current record (2)
    assert sw(fs_card, PIN_OK) == SW.OK
    assert send(fs_card, "00 B2 02 1C 00") == (b"DDDD", SW.OK)
    assert sw(fs_card, "00 DC 03 1C 04 43434343") == SW.RECORD_NOT_FOUND
    assert sw(fs_card, "00 DC 01 1C 03 434343") == SW.WRONG_LENGTH  # fixed records: exact size
    assert sw(fs_card, "00 DC 01 1C") == SW.WRONG_LENGTH
    assert sw(fs_card, "00 DC 01 0C 04 43434343") == SW.INCOMPATIBLE_FILE_STRUCTURE
    assert sw(fs_card, "00 DC 01 28 01 41") == SW.INCORRECT_P1P2  # P2 b3-b1 must be 100
    assert sw(fs_card, "00 DC 01 2C 09 414141414141414141") == SW.WRONG_LENGTH  # variable: max 8
    assert sw(fs_card, "00 DC 01 2C 03 414243") == SW.OK
    assert send(fs_card, "00 B2 01 2C 00") == (b"ABC", SW.OK)
    assert sw(fs_card, "00 DC 01 F4 01 41") == SW.SECURITY_STATUS_NOT_SATISFIED  # EF.DIR: NEVER


def test_append_record_linear(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 E2 00 18 04 43434343") == SW.OK  # SFI 3: record 3 of 3
    assert sw(fs_card, PIN_OK) == SW.OK
    assert send(fs_card, "00 B2 00 04 00") == (b"CCCC", SW.OK)  # appended record is current
    assert sw(fs_card, "00 E2 00 18 04 45454545") == SW.NOT_ENOUGH_MEMORY  # full
    assert sw(fs_card, "00 E2 01 18 04 45454545") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 E2 00 1C 04 45454545") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 E2 00 08 01 41") == SW.INCOMPATIBLE_FILE_STRUCTURE
    assert sw(fs_card, "00 E2 00 F0 01 41") == SW.SECURITY_STATUS_NOT_SATISFIED  # EF.DIR: NEVER
    assert sw(fs_card, "00 E2 00 28 01 41") == SW.OK  # linear variable
    assert sw(fs_card, "00 E2 00 28 01 41") == SW.NOT_ENOUGH_MEMORY


def test_append_record_cyclic_newest_is_record_one(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 B2 01 24 00") == SW.RECORD_NOT_FOUND  # empty
    for value in ("0001", "0002", "0003", "0004"):
        assert sw(fs_card, f"00 E2 00 20 02 {value}") == SW.OK
    assert [send(fs_card, f"00 B2 0{n} 24 00")[0].hex() for n in (1, 2, 3)] == ["0004", "0003", "0002"]
    assert sw(fs_card, "00 B2 04 24 00") == SW.RECORD_NOT_FOUND  # the oldest fell off
    assert sw(fs_card, "00 E2 00 20 01 00") == SW.WRONG_LENGTH


# -- blank card content -------------------------------------------------------------------------------
def test_blank_card_ef_dir_and_iccid() -> None:
    from .toy import CounterApplet

    card = new_blank_card(serial="8901234567", applets=[CounterApplet(label="counter")])
    card.power_on()
    data, s = send(card, "00 B0 8200 00")  # EF.ICCID by SFI 2
    assert s == SW.OK and len(data) == 10 and decode_iccid(data) == "8901234567"
    assert data[:2] == bytes.fromhex("9810")
    rec, s = send(card, "00 B2 01 F4 00")  # EF.DIR by SFI 30
    assert s == SW.OK
    tlv = decode(rec)
    assert find(tlv, [0x61, 0x4F]).value == CounterApplet().aid  # type: ignore[union-attr]
    assert find(tlv, [0x61, 0x50]).value == b"counter"  # type: ignore[union-attr]
    assert sw(card, "00 B2 02 F4 00") == SW.RECORD_NOT_FOUND


def test_builder_rejects_bad_files() -> None:
    card = new_blank_card(serial="1")
    fs = card.applet(MF_AID).fs  # type: ignore[attr-defined]
    bad = [
        {"fid": 0x2F00},  # exists
        {"fid": 0x3F00},  # reserved
        {"fid": 0x0100, "sfi": 31},
        {"fid": 0x0100, "sfi": 30},  # taken by EF.DIR
        {"fid": 0x0100, "structure": Structure.LINEAR_FIXED, "record_size": 0, "max_records": 1},
        {"fid": 0x0100, "structure": Structure.LINEAR_FIXED, "record_size": 2, "max_records": 1, "records": [b"abc"]},
        {"fid": 0x0100, "size": 1, "data": b"ab"},
    ]
    for kw in bad:
        with pytest.raises(ValueError), card.store.transaction():
            fs.create_ef(fs.root, **kw)
    with pytest.raises(ValueError), card.store.transaction():
        fs.create_df(fs.root + (0x2F00,), 0x1000)  # parent is an EF
    with card.store.transaction():
        fs.create_ef(fs.root, 0x0100, read=ALWAYS, data=b"ok")
