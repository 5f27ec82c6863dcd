"""CommandAPDU / ResponseAPDU: ISO 7816-4 §5.1 cases 1-4, short and extended, and status words."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardkit.apdu import (
    SW,
    CommandAPDU,
    ResponseAPDU,
    bytes_available,
    correct_le,
    describe_sw,
    pin_tries_left,
)
from cardkit.errors import ApduError, CardError

# (hex, case, extended, len(data), Le) — layouts from ISO/IEC 7816-4:2020 §5.1 / ISO 7816-3 §12.1.
KNOWN = [
    ("00B2010C", 1, False, 0, None),
    ("00B2010C00", 2, False, 0, 256),
    ("00B2010C1D", 2, False, 0, 29),
    ("00A404000E315041592E5359532E4444463031", 3, False, 14, None),  # SELECT PSE, no Le
    ("00A404000E325041592E5359532E444446303100", 4, False, 14, 256),  # SELECT PPSE (EMV Book 1 §11.3)
    ("00B0000000FFFF", 2, True, 0, 65535),
    ("00B0000000000000"[:14], 2, True, 0, 65536),
    ("00D60000000003AABBCC", 3, True, 3, None),
    ("00D60000000003AABBCC0100", 4, True, 3, 256),
]


@pytest.mark.parametrize("hexstr,case,extended,nc,le", KNOWN)
def test_parse_known_layouts(hexstr, case, extended, nc, le):
    raw = bytes.fromhex(hexstr)
    cmd = CommandAPDU.parse(raw)
    assert (cmd.case, cmd.extended, len(cmd.data), cmd.le) == (case, extended, nc, le)
    assert cmd.to_bytes() == raw


@pytest.mark.parametrize(
    "hexstr,message",
    [
        ("", "shorter than the 4-byte header"),
        ("00A404", "shorter than the 4-byte header"),
        ("00A4040005A0000003", "does not match"),  # Lc 5, only 3 bytes
        ("00A4040002A00000000000", "does not match"),  # too many bytes for short case 4
        ("00D6000000", None),  # valid case 2 (Le 256): not an error
        ("00D600000000", "truncated"),  # 6 bytes: extended marker with one length byte
        ("00D60000000000AA", "extended Lc of zero"),
        ("00D60000000005AABB", "does not match"),
    ],
)
def test_malformed_commands_raise_clear_errors(hexstr, message):
    raw = bytes.fromhex(hexstr)
    if message is None:
        assert CommandAPDU.parse(raw).le == 256
        return
    with pytest.raises(ApduError, match=message):
        CommandAPDU.parse(raw)


def test_build_switches_to_extended_when_needed():
    big = CommandAPDU(0x00, 0xD6, 0, 0, bytes(300))
    assert big.extended and big.to_bytes()[4:7] == b"\x00\x01\x2c"
    assert CommandAPDU(0x00, 0xB0, 0, 0, le=4096).to_bytes() == bytes.fromhex("00B0000000" "1000")


@pytest.mark.parametrize(
    "kwargs",
    [dict(cla=256, ins=0), dict(cla=0, ins=-1), dict(cla=0, ins=0, le=0), dict(cla=0, ins=0, le=65537)],
)
def test_invalid_fields_rejected(kwargs):
    with pytest.raises(ApduError):
        CommandAPDU(**kwargs)


commands = st.builds(
    CommandAPDU,
    cla=st.integers(0, 255),
    ins=st.integers(0, 255),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=400),
    le=st.none() | st.integers(1, 65536),
    extended=st.booleans(),
)


@given(commands)
def test_command_round_trip(cmd):
    assert CommandAPDU.parse(cmd.to_bytes()) == cmd


@given(st.binary(max_size=300))
def test_parse_random_bytes_never_raises_anything_but_apdu_error(raw):
    try:
        cmd = CommandAPDU.parse(raw)
    except ApduError:
        return
    assert cmd.to_bytes() == raw


@given(st.binary(max_size=64), st.integers(0, 0xFFFF))
def test_response_round_trip(data, sw):
    resp = ResponseAPDU(data, sw)
    assert ResponseAPDU.parse(resp.to_bytes()) == resp
    assert (resp.sw1 << 8 | resp.sw2) == sw


def test_response_needs_status_word():
    with pytest.raises(ApduError, match="no status word"):
        ResponseAPDU.parse(b"\x90")


def test_status_word_meanings_and_families():
    assert describe_sw(SW.OK) == "normal processing"
    assert "not found" in describe_sw(0x6A82)
    assert describe_sw(0x6110) == "16 response bytes still available (GET RESPONSE)"
    assert describe_sw(0x6C00) == "wrong Le: exactly 256 bytes available"
    assert describe_sw(0x63C2) == "verification failed, 2 tries left"
    assert "insufficient balance" in describe_sw(SW.INSUFFICIENT_BALANCE)
    assert describe_sw(0x6A8B).endswith("(GlobalPlatform)")
    assert describe_sw(0x1234) == "unknown status word"
    assert bytes_available(0x6100) == 256 and bytes_available(0x9000) is None
    assert correct_le(0x6C1D) == 29 and correct_le(0x6700) is None
    assert pin_tries_left(0x63C0) == 0 and pin_tries_left(0x6300) is None


def test_card_error_carries_sw_and_meaning():
    err = CardError(0x6982, "READ BINARY")
    assert err.sw == 0x6982
    assert str(err) == "READ BINARY: card answered 6982 (security status not satisfied)"
