"""The ISO 8583 layout (pos_sim/host/iso8583.py).

Independence: what we encode is decoded again with pyiso8583's *published* spec
``iso8583.specs.default`` (ASCII MTI, binary bitmaps, ASCII fields, binary 52/55/64) used as it
ships, not with our SPEC — our layout is that spec restricted to fewer fields, so any byte we put
in the wrong place shows up. One message is also checked byte by byte against a hand-written
expectation (MTI, both bitmaps, the LL and LLL length prefixes).
"""

from __future__ import annotations

import iso8583
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iso8583.specs import default as PUBLISHED_SPEC

from pos_sim.host import (
    AdditionalAmount,
    HostMessageError,
    OriginalData,
    OriginalReference,
    SettlementTotals,
    decode_message,
    encode_message,
    frame,
)
from pos_sim.host.iso8583 import FIELDS, response_mti

ICC = bytes.fromhex("9F2608" "8EE66EE930862300" "9F270180" "9F360200019505" "0000008000" "9C0100")
COMMON = {"7": "0501123000", "11": "000123", "41": "TERM0001", "42": "MERCHANT0000001"}
MESSAGES: dict[str, dict[str, str | bytes]] = {
    "0100": {**COMMON, "t": "0100", "2": "6228480000000000018", "3": "030000", "4": "000000100000", "12": "123000",
             "13": "0501", "14": "3012", "22": "051", "23": "001", "25": "00", "37": "612112000123", "49": "156",
             "52": bytes.fromhex("0123456789ABCDEF"), "55": ICC, "60": "000001"},
    "0110": {**COMMON, "t": "0110", "2": "6228480000000000018", "3": "030000", "4": "000000100000",
             "37": "612112000123", "38": "000042", "39": "00", "49": "156", "54": "1002156C000000900000",
             "55": bytes.fromhex("910A0102030405060708" "3030")},
    "0200": {**COMMON, "t": "0200", "2": "6228480000000000018", "3": "000000", "4": "000000001250",
             "35": "6228480000000000018=301222000000", "25": "06", "38": "000042", "49": "156", "55": ICC,
             "60": "000001", "61": "0001220501120000TERM0001"},
    "0210": {**COMMON, "t": "0210", "3": "000000", "4": "000000001250", "39": "51", "49": "156"},
    "0400": {**COMMON, "t": "0400", "2": "6228480000000000018", "3": "000000", "4": "000000001250", "49": "156",
             "90": str(OriginalData("0200", "000122", "0501120000"))},
    "0410": {**COMMON, "t": "0410", "39": "00", "90": str(OriginalData("0200", "000122", "0501120000"))},
    "0500": {**COMMON, "t": "0500", "60": "000001", "74": "0000000001", "76": "0000000012",
             "86": "0000000000001000", "88": "0000000000150000"},
    "0510": {**COMMON, "t": "0510", "39": "95", "60": "000001", "74": "0000000001", "76": "0000000012",
             "86": "0000000000001000", "88": "0000000000150000"},
    "0800": {**COMMON, "t": "0800", "70": "001"},
    "0810": {**COMMON, "t": "0810", "39": "00", "70": "301"},
}


@pytest.mark.parametrize("mti", sorted(MESSAGES))
def test_every_message_type_round_trips(mti: str) -> None:
    msg = MESSAGES[mti]
    raw = encode_message(msg)
    assert decode_message(raw) == msg
    assert encode_message(decode_message(raw)) == raw


@pytest.mark.parametrize("mti", sorted(MESSAGES))
def test_pyiso8583_published_spec_reads_our_bytes(mti: str) -> None:
    msg = MESSAGES[mti]
    theirs, _ = iso8583.decode(bytearray(encode_message(msg)), PUBLISHED_SPEC)
    for number, value in msg.items():
        expected = value.hex().upper() if isinstance(value, bytes) else value
        assert theirs[number] == expected, number
    assert set(theirs) - {"p", "1"} == set(msg)


def test_bytes_by_hand() -> None:
    msg = {"t": "0800", "2": "6228480000000000018", "7": "0501123000", "11": "000001", "41": "TERM0001",
           "55": b"\x91\x02\xab\xcd", "70": "301"}
    expected = (
        b"0800"  # MTI, ASCII
        + bytes.fromhex("C220000000800200")  # primary bitmap: 1 (secondary), 2, 7, 11, 41, 55
        + bytes.fromhex("0400000000000000")  # secondary bitmap: 70
        + b"19" + b"6228480000000000018"  # field 2, LLVAR: two ASCII length digits
        + b"0501123000" + b"000001" + b"TERM0001"  # fixed 7, 11, 41
        + b"004" + b"\x91\x02\xab\xcd"  # field 55, LLLVAR: three ASCII digits, then binary
        + b"301"  # field 70
    )
    assert encode_message(msg) == expected
    assert frame(expected) == len(expected).to_bytes(2, "big") + expected


def test_response_mti() -> None:
    assert [response_mti(m) for m in ("0100", "0200", "0400", "0401", "0500", "0800")] == [
        "0110", "0210", "0410", "0411", "0510", "0810"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"3": "000000"}, "MTI"),
    ({"t": "0200", "99": "1"}, "field 99 is not in"),
    ({"t": "0200", "3": "00000"}, "exactly 6"),
    ({"t": "0200", "4": "00000000125X"}, "outside ISO type n"),
    ({"t": "0200", "2": "1" * 20}, "at most 19"),
    ({"t": "0200", "55": "9F2608"}, "must be bytes"),
    ({"t": "0200", "52": b"\x01" * 7}, "exactly 8"),
    ({"t": "0200", "41": 12345678}, "must be str"),
])
def test_bad_values_are_refused_before_encoding(fields: dict[str, object], message: str) -> None:
    with pytest.raises(HostMessageError, match=message):
        encode_message(fields)  # type: ignore[arg-type]


def test_bad_bytes_are_refused() -> None:
    raw = encode_message(MESSAGES["0200"])
    with pytest.raises(HostMessageError, match="cannot decode"):
        decode_message(raw[:-3])
    with pytest.raises(HostMessageError, match="cannot decode"):
        decode_message(raw + b"0")
    foreign, _ = iso8583.encode({"t": "0200", "62": "ABC"}, PUBLISHED_SPEC)
    with pytest.raises(HostMessageError, match="field 62"):
        decode_message(bytes(foreign))
    letters, _ = iso8583.encode({"t": "0200", "11": "ABCDEF"}, PUBLISHED_SPEC)
    with pytest.raises(HostMessageError, match="field 11"):
        decode_message(bytes(letters))


def _value(number: str) -> st.SearchStrategy[str | bytes]:
    f = FIELDS[number]
    sizes = {"min_size": 0 if f.prefix else f.length, "max_size": f.length}
    if f.binary:
        return st.binary(**sizes)
    alphabet = {"n": "0123456789", "an": "ABCXYZabc0123456789 ", "ans": "AZaz09 -/#*~", "z": "0123456789=D"}
    return st.text(alphabet[f.iso_type], **sizes)


_DATA_FIELDS = sorted((n for n in FIELDS if n not in ("t", "p", "1")), key=int)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["0100", "0200", "0400", "0500", "0800"]).flatmap(
    lambda mti: st.fixed_dictionaries({"t": st.just(mti)}, optional={n: _value(n) for n in _DATA_FIELDS})))
def test_any_valid_field_set_round_trips(msg: dict[str, str | bytes]) -> None:
    assert decode_message(encode_message(msg)) == msg


def test_composite_fields() -> None:
    entry = AdditionalAmount("10", "02", "156", 998_750)
    assert str(entry) == "1002156C000000998750"
    assert AdditionalAmount.parse_all(str(entry) + str(AdditionalAmount("30", "01", "156", -500))) == [
        entry, AdditionalAmount("30", "01", "156", -500)]
    with pytest.raises(HostMessageError):
        AdditionalAmount.parse_all("1002156X000000998750")
    original = OriginalData("0200", "000122", "0501120000")
    assert str(original) == "0200" "000122" "0501120000" + "0" * 22
    assert OriginalData.parse(str(original)) == original
    ref = OriginalReference("000122", "0501120000", "TERM0002")
    assert OriginalReference.parse(str(ref)) == ref
    assert OriginalReference.parse("0001220501120000") == OriginalReference("000122", "0501120000")
    totals = SettlementTotals(12, 150_000, 1, 1_000)
    assert SettlementTotals.of(totals.fields()) == totals
