"""cardkit.tlv: BER-TLV as EMV uses it (EMV Book 3 Annex B), DOLs (Book 3 §5.4), pretty-printing.

Known answers come from tests/vectors/tlv_emv_samples.txt (sources named there).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardkit import tlv
from cardkit.errors import CardkitError, TlvError
from cardkit.tlv import (
    Tlv,
    build,
    build_constructed,
    build_dol_data,
    decode,
    encode,
    find,
    find_all,
    flatten,
    format_tlv,
    parse_dol,
    walk,
)

H = bytes.fromhex
VECTORS_FILE = Path(__file__).parent / "vectors" / "tlv_emv_samples.txt"


def load_vectors() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, source) from the vector file; every vector must have a source."""
    out: dict[str, tuple[bytes, str]] = {}
    source = ""
    for line in VECTORS_FILE.read_text().splitlines():
        if line.startswith("# source:"):
            source = line[len("# source:") :].strip()
        elif line and not line.startswith("#"):
            name, hexstr = line.split()
            assert source, f"vector {name} has no '# source:' line"
            out[name] = (H(hexstr), source)
            source = ""
    return out


V = {name: data for name, (data, _) in load_vectors().items()}


def tags_of(objs) -> list[str]:
    return [o.tag.hex().upper() for o in objs]


def test_every_vector_names_its_source_and_round_trips():
    vectors = load_vectors()
    assert len(vectors) >= 10
    for name, (data, source) in vectors.items():
        assert source, name
        if name != "filler":  # filler bytes are dropped at the top level by design
            assert encode(decode(data)) == data, name


# ---------------------------------------------------------------------------------------------
# known answers


def test_ppse_fci():
    (fci,) = decode(V["ppse_fci"])
    assert fci.tag == b"\x6f" and fci.constructed
    assert tags_of(fci.children) == ["84", "A5"]
    assert fci.children[0].value == b"2PAY.SYS.DDF01"
    entry = find([fci], [b"\x6f", b"\xa5", b"\xbf\x0c", b"\x61"])
    assert entry is not None
    assert tags_of(entry.children) == ["4F", "50", "87"]
    assert find(entry.children, b"\x4f").value == H("A000000333010101")
    assert find([fci], 0x50).value == b"UnionPay Debit"
    assert find([fci], [0x6F, 0xA5, 0xBF0C, 0x61, 0x87]).value == b"\x01"


def test_aid_fci_with_pdol_and_pboc_log_entries():
    (fci,) = decode(V["aid_fci"])
    a5 = find([fci], [b"\x6f", b"\xa5"])
    assert tags_of(a5.children) == ["50", "87", "9F38", "5F2D", "9F11", "9F12", "BF0C"]
    pdol = find([fci], b"\x9f\x38").value
    assert parse_dol(pdol) == [
        (b"\x9f\x7a", 1), (b"\x9f\x02", 6), (b"\x5f\x2a", 2), (b"\x9f\x1a", 2),
        (b"\x9f\x66", 4), (b"\x9f\x37", 4), (b"\x9a", 3), (b"\x9c", 1),
    ]
    bf0c = find([fci], [0x6F, 0xA5, 0xBF0C])
    assert tags_of(bf0c.children) == ["9F4D", "DF4D"]
    assert find([fci], 0xDF4D).value == H("0C0A")


def test_gpo_format2():
    (rsp,) = decode(V["gpo_format2"])
    assert rsp.tag == b"\x77"
    assert tags_of(rsp.children) == ["82", "94", "9F36", "9F10", "9F26", "9F27"]
    assert find([rsp], 0x82).value == H("7C00")
    afl = find([rsp], 0x94).value
    assert len(afl) % 4 == 0 and afl[:4] == H("08010100")
    assert find([rsp], 0x9F36).value == H("0012")


def test_gpo_format1_is_primitive():
    (rsp,) = decode(V["gpo_format1"])
    assert rsp.tag == b"\x80" and not rsp.constructed and rsp.children == ()
    assert rsp.value[:2] == H("7C00") and len(rsp.value[2:]) == 12


def test_read_record_templates_keep_order_and_duplicates():
    payload = V["record_sfi1_1"] + V["record_sfi2_1"] + V["record_sfi2_2"] + V["record_sfi3_1"]
    objs = decode(payload)
    assert tags_of(objs) == ["70", "70", "70", "70"]
    assert find_all(objs, 0x70) == objs
    assert tags_of(objs[1].children) == [
        "5A", "5F24", "5F25", "5F28", "5F34", "9F07", "8E", "9F0D", "9F0E", "9F0F",
    ]
    cert = find(objs, 0x90)
    assert cert.value == bytes(range(176))
    assert V["record_sfi3_1"][1:3] == H("81BA")  # the long form was needed and is decoded
    data = flatten(objs)
    assert data[b"\x5a"] == H("6212345678901234")
    assert data[b"\x5f\x20"] == b"ZHANG/SAN"
    assert b"\x70" not in data  # templates are descended into, not listed


def test_pyemv_docstring_example():
    objs = decode(V["pyemv_docstring"])
    assert tags_of(objs) == ["9C", "E0", "9F02"]
    assert objs[1].children == (Tlv(b"\x5f\x2a", H("0208")),)
    assert objs[2].value == b""


def test_raw_tag_trap_9f10_bf0c():
    objs = decode(V["raw_tag_trap"])
    assert [o.tag for o in objs] == [H("BF0C"), H("5F20")]
    assert [o.tag for o in objs[0].children] == [H("9F10"), H("DF01")]
    # not re-encoded as X.690 (class, number): 9F10 -> 90 or BF0C -> AC would be wrong
    assert find(objs, 0x90) is None and find(objs, 0xAC) is None
    assert encode(objs) == V["raw_tag_trap"]


def test_filler_bytes_skipped_everywhere():
    objs = decode(V["filler"])
    assert tags_of(objs) == ["9F36", "70"]
    assert objs[1].children == (Tlv(b"\x5a", b"\x12"),)
    assert objs[1].value == H("00005A011200")  # the raw value keeps its filler
    assert decode(b"\x00" * 10) == [] and decode(b"\xff\x00\xff") == [] and decode(b"") == []


def test_duplicates_kept_and_first_wins_in_flatten():
    objs = decode(H("9F360200019F36020002"))
    assert [o.value for o in objs] == [H("0001"), H("0002")]
    assert flatten(objs) == {b"\x9f\x36": H("0001")}


def test_three_byte_tags_and_long_lengths():
    data = build(H("DF8129"), b"\x01" * 8) + build(0x90, b"\xaa" * 300) + build(0x91, b"\x00" * 70000)
    objs = decode(data)
    assert [o.tag for o in objs] == [H("DF8129"), H("90"), H("91")]
    assert data[len(build(H("DF8129"), b"\x01" * 8)) :][1:4] == H("82012C")
    assert len(objs[2].value) == 70000 and build(0x91, bytes(70000))[1:5] == H("83011170")


def test_accepts_bytearray_and_memoryview():
    data = V["ppse_fci"]
    assert decode(bytearray(data)) == decode(memoryview(data)) == decode(data)


# ---------------------------------------------------------------------------------------------
# errors


# "filler" ends in 00 padding, which a cut may remove without harm: it has no truncation error.
@pytest.mark.parametrize("name", sorted(n for n in V if n != "filler"))
def test_every_truncation_raises_with_offset(name):
    data = V[name]
    for cut in range(1, len(data)):
        try:
            decode(data[:cut])
        except TlvError as e:
            assert e.offset is not None and 0 <= e.offset <= cut
            assert f"at offset {e.offset}" in str(e)
        else:
            # a cut can only succeed when it falls exactly between two top-level objects
            assert encode(decode(data[:cut])) == data[:cut]


@pytest.mark.parametrize(
    "hexstr,what,offset",
    [
        ("9F", "truncated tag", 1),
        ("9F36", "truncated length", 2),
        ("9F3602", "needs 2 bytes, 0 left", 3),
        ("9F360201", "needs 2 bytes, 1 left", 3),
        ("9F3681", "truncated length", 2),
        ("9F368201", "truncated length", 2),
        ("9F36800102", "indefinite length", 2),
        ("9F36840000000100", "length field of 5 bytes", 2),
        ("1FFFFFFF0100", "longer than 3 bytes", 0),
        ("70039F3602", "needs 2 bytes, 0 left in its parent", 5),
        ("70045A03010203", "needs 3 bytes, 2 left in its parent", 4),
        ("7003DF", "needs 3 bytes, 1 left", 2),
        ("70018000", "truncated length", 3),
        ("70025A01", "needs 1 bytes, 0 left in its parent", 4),
        ("6F05A5039F3602", "needs 2 bytes, 0 left in its parent", 7),
        ("5A0112" + "70028000" + "9F", "truncated tag", 8),
    ],
)
def test_error_paths(hexstr, what, offset):
    with pytest.raises(TlvError) as err:
        decode(H(hexstr))
    assert what in str(err.value)
    assert err.value.offset == offset
    assert isinstance(err.value, CardkitError) and isinstance(err.value, ValueError)


def test_trailing_garbage_inside_constructed_value():
    # 70 05: 5A 01 12 then two bytes that are not a whole object
    with pytest.raises(TlvError) as err:
        decode(H("70055A01125F20"))
    assert err.value.offset == 7 and "truncated length of tag 5F20" in str(err.value)


def test_overrun_of_parent_even_when_buffer_has_the_bytes():
    # the inner 5A claims 4 bytes; the buffer has them but the parent 70 ends first
    with pytest.raises(TlvError, match="left in its parent"):
        decode(H("70045A041234" "5678"))


def test_offsets_are_relative_to_the_top_level_buffer():
    good = V["ppse_fci"]
    with pytest.raises(TlvError) as err:
        decode(good + H("70039F3602"))
    assert err.value.offset == len(good) + 5


def test_deep_nesting_is_an_error_not_a_crash():
    data = b""
    for _ in range(200):
        data = build(0x70, data)
    with pytest.raises(TlvError, match="deeper than"):
        decode(data)
    ok = b""
    for _ in range(20):
        ok = build(0x70, ok)
    assert len(list(walk(decode(ok)))) == 20


# ---------------------------------------------------------------------------------------------
# the Tlv object


def test_tlv_object_basics():
    t = Tlv(0x9F36, b"\x00\x01")
    assert t.tag == H("9F36") and not t.constructed and t.children == ()
    assert t.to_bytes() == H("9F36020001") == bytes(t)
    c = Tlv(b"\x70", b"", (t, Tlv(b"\x5a", b"\x12")))
    assert c.constructed and c.value == H("9F3602000 15A0112".replace(" ", ""))
    assert c == decode(c.to_bytes())[0]
    assert Tlv(b"\x70", c.value).children == c.children
    assert c.find(0x5A).value == b"\x12"
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.tag = b"\x71"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Tlv(b"\x5a", b"", (t,))
    for bad in (b"", b"\x9f", b"\x5a\x01", b"\x00", b"\xff\x01", b"\x9f\x81\x81\x01"):
        with pytest.raises(TlvError):
            Tlv(bad, b"")
    with pytest.raises(TlvError):
        Tlv(b"\x70", b"\x5a\x05")  # constructed value that is not TLV


def test_decoded_objects_behave_like_constructed_ones():
    (fci,) = decode(V["aid_fci"])
    built = Tlv(b"\x6f", fci.value)
    assert fci == built and hash(fci) == hash(built) and repr(fci) == repr(built)
    assert type(fci) is Tlv and type(fci.children[1]) is Tlv
    assert pickle.loads(pickle.dumps(fci)) == fci
    assert copy.deepcopy(fci) == fci
    assert dataclasses.replace(fci, value=fci.value) == fci
    assert [f.name for f in dataclasses.fields(fci)] == ["tag", "value", "children"]
    with pytest.raises(AttributeError):
        fci.no_such_attribute  # noqa: B018
    assert fci.children is fci.children  # built once, then stored
    match fci:
        case Tlv(tag=b"\x6f", children=(Tlv(tag=b"\x84"), _)):
            pass
        case _:
            pytest.fail("pattern matching on decoded Tlv failed")


# ---------------------------------------------------------------------------------------------
# building


def test_build_and_build_constructed():
    assert build(0x9F36, b"\x00\x01") == H("9F36020001")
    assert build(b"\x5a", b"") == H("5A00")
    assert build(0x90, bytes(0x7F))[:2] == H("907F")
    assert build(0x90, bytes(0x80))[:3] == H("908180")
    assert build(0x90, bytes(0x100))[:4] == H("90820100")
    assert build_constructed(0x70, build(0x5A, b"\x12"), Tlv(0x9F36, b"\x00\x01")) == H(
        "70085A01129F36020001"
    )
    with pytest.raises(TlvError):
        build_constructed(0x5A, b"")
    with pytest.raises(TlvError):
        build(0x9F, b"")
    with pytest.raises(TlvError):
        tlv.encode_length(1 << 24)


def test_find_paths_and_misses():
    objs = decode(V["ppse_fci"])
    assert find(objs, [b"\x6f", b"\x61"]) is None  # a path step looks at direct children only
    assert find(objs, b"\x61").tag == b"\x61"  # a single tag searches depth first
    assert find(objs, [b"\x6f"]) is objs[0]
    assert find(objs, 0x9F36) is None
    assert find([], 0x6F) is None
    assert find_all(objs, b"\x99") == []


def test_walk_order():
    objs = decode(V["aid_fci"])
    assert tags_of(walk(objs)) == [
        "6F", "84", "A5", "50", "87", "9F38", "5F2D", "9F11", "9F12", "BF0C", "9F4D", "DF4D",
    ]


# ---------------------------------------------------------------------------------------------
# DOLs: EMV Book 3 §5.4


CDOL1 = H("9F02069F03069F1A0295055F2A029A039C019F37049F21039F4E14")


def test_cdol1_parse():
    assert parse_dol(CDOL1) == [
        (H("9F02"), 6), (H("9F03"), 6), (H("9F1A"), 2), (H("95"), 5), (H("5F2A"), 2),
        (H("9A"), 3), (H("9C"), 1), (H("9F37"), 4), (H("9F21"), 3), (H("9F4E"), 20),
    ]
    (rec,) = decode(V["record_sfi2_2"])
    assert find([rec], 0x8C).value == CDOL1


def test_cdol1_build_with_book3_rules():
    values = {
        H("9F02"): H("000000001250"),  # n12, exact
        H("9F03"): H("00"),  # n, short: leading zeros
        H("9F1A"): H("0156"),
        # 95 missing: zero-filled
        H("5F2A"): H("000156"),  # n, long: keep the rightmost bytes
        H("9A"): H("261123"),
        H("9C"): H("00"),
        H("9F37"): H("11223344"),
        H("9F21"): H("1230"),  # n, short
        H("9F4E"): b"CARDKIT SHOP",  # ans, short: trailing 00
    }
    out = build_dol_data(CDOL1, values)
    assert out == (
        H("000000001250") + H("000000000000") + H("0156") + bytes(5) + H("0156") + H("261123")
        + H("00") + H("11223344") + H("001230") + b"CARDKIT SHOP" + bytes(8)
    )
    assert len(out) == sum(n for _, n in parse_dol(CDOL1))


def test_dol_padding_and_truncation_by_format():
    dol = H("5A0A") + H("5A04") + H("9F4E03") + H("9F1E04") + H("9F0202") + H("7002") + H("9F7E02")
    values = {
        H("5A"): H("6212345678901234"),  # cn: short -> trailing FF, long -> leftmost
        H("9F4E"): b"MERCHANT",  # ans: long -> leftmost
        H("9F1E"): b"AB",  # an: short -> trailing 00
        H("9F02"): H("000000012345"),  # n: long -> rightmost
        H("70"): H("5A0112"),  # constructed: zeros whatever the value
        H("9F7E"): H("AABBCC"),  # unknown tag: treated as b
    }
    out = build_dol_data(dol, values)
    assert out == (
        H("6212345678901234FFFF") + H("62123456") + b"MER" + b"AB\x00\x00" + H("2345")
        + H("0000") + H("AABB")
    )
    # the parsed form and format overrides work too
    assert build_dol_data(parse_dol(H("9F7E04")), {H("9F7E"): H("12")}, formats={H("9F7E"): "n"}) == H(
        "00000012"
    )
    assert build_dol_data(b"", {}) == b""


@pytest.mark.parametrize("hexstr", ["9F", "9F02", "9F0281", "9F0280", "00"])
def test_bad_dols(hexstr):
    with pytest.raises(TlvError):
        parse_dol(H(hexstr))


# ---------------------------------------------------------------------------------------------
# pretty-printing


def test_format_tlv_tree():
    lines = format_tlv(V["ppse_fci"])
    assert lines == [
        "6F (File Control Information (FCI) Template)",
        "  84 (Dedicated File (DF) Name) 325041592E5359532E4444463031",
        "  A5 (File Control Information (FCI) Proprietary Template)",
        "    BF0C (File Control Information (FCI) Issuer Discretionary Data)",
        "      61 (Application Template)",
        "        4F (Application Identifier (AID) - card) A000000333010101",
        '        50 (Application Label) 556E696F6E506179204465626974 "UnionPay Debit"',
        "        87 (Application Priority Indicator) 01",
    ]


def test_format_tlv_details():
    assert format_tlv(H("9F36020001")) == ["9F36 (Application Transaction Counter) 0001"]
    assert format_tlv(H("DF7F0101")) == ["DF7F (unknown) 01"]
    assert format_tlv(H("5F2000")) == ["5F20 (Cardholder Name)"]
    assert format_tlv(H("50020A0B")) == ["50 (Application Label) 0A0B"]  # not printable: hex only
    assert format_tlv(H("9F6D06000000020000"), context="pboc") == [
        "9F6D (Electronic Cash Reset Threshold) 000000020000"
    ]
    assert format_tlv(H("61035F1F00"), context="icao") == [
        "61 (DG1 (MRZ data group))",
        "  5F1F (MRZ Data Elements)",
    ]
    assert format_tlv(decode(H("9F36020001")), indent="\t") == ["9F36 (Application Transaction Counter) 0001"]
    with pytest.raises(TlvError):
        format_tlv(H("9000"[:2]))  # not TLV: callers fall back to hex


# ---------------------------------------------------------------------------------------------
# properties


_one_byte_prim = st.integers(0x01, 0xFE).filter(lambda b: not b & 0x20 and b & 0x1F != 0x1F)
_one_byte_cons = st.integers(0x01, 0xFE).filter(lambda b: b & 0x20 and b & 0x1F != 0x1F)


@st.composite
def _tag(draw, constructed: bool) -> bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return bytes([draw(_one_byte_cons if constructed else _one_byte_prim)])
    first = draw(st.sampled_from([0x1F, 0x3F, 0x5F, 0x7F, 0x9F, 0xBF, 0xDF]).filter(
        lambda b: bool(b & 0x20) == constructed))
    if kind == 1:
        return bytes([first, draw(st.integers(0x00, 0x7F))])
    return bytes([first, draw(st.integers(0x80, 0xFF)), draw(st.integers(0x00, 0x7F))])


_prim = st.builds(lambda t, v: Tlv(t, v), _tag(False), st.binary(max_size=300))


def _cons(children):
    return st.builds(lambda t, kids: Tlv(t, b"", tuple(kids)) if kids else Tlv(t, b""),
                     _tag(True), st.lists(children, max_size=5))


_tree = st.recursive(_prim, _cons, max_leaves=25)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_tree, max_size=6))
def test_roundtrip_random_trees(objs):
    data = encode(objs)
    back = decode(data)
    assert back == objs
    assert encode(back) == data
    assert b"".join(o.to_bytes() for o in back) == data
    assert list(walk(back)) == list(walk(objs))


@settings(max_examples=1500)
@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_tlverror(data):
    try:
        objs = decode(data)
    except TlvError as e:
        assert e.offset is not None and 0 <= e.offset <= len(data)
        return
    # what decodes must be fully readable and re-encode to the same bytes minus top-level filler
    list(walk(objs))
    format_tlv(objs)
    again = encode(objs)
    assert decode(again) == objs


@settings(max_examples=500)
@given(st.lists(_tree, min_size=1, max_size=4), st.data())
def test_corrupted_encodings_never_crash(objs, data):
    raw = bytearray(encode(objs))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        decode(bytes(raw[:cut]))
    except TlvError:
        pass


@given(st.binary(max_size=40))
def test_fast_path_agrees_with_the_careful_walker(data):
    """decode() accepts exactly what the slow, bounds-checking walker accepts."""
    try:
        tlv._diagnose(data, 0, len(data), 0)
        careful_ok = True
    except TlvError:
        careful_ok = False
    try:
        decode(data)
        fast_ok = True
    except TlvError:
        fast_ok = False
    assert fast_ok == careful_ok


def test_flatten_bytes_equals_flatten_objects():
    payload = b"".join(V.values())
    assert flatten(payload) == flatten(decode(payload))
    assert flatten(payload)[b"\x9f\x36"] == H("0012")  # gpo_format2 comes first: first wins
    with pytest.raises(TlvError) as err:
        flatten(H("70039F3602"))
    assert err.value.offset == 5


@given(st.lists(_tree, max_size=5))
def test_flatten_property(objs):
    expected: dict[bytes, bytes] = {}
    for o in walk(objs):
        if not o.constructed:
            expected.setdefault(o.tag, o.value)
    assert flatten(objs) == expected == flatten(encode(objs))


@given(st.binary(max_size=40))
def test_flatten_bytes_accepts_exactly_what_decode_accepts(data):
    try:
        expected = flatten(decode(data))
    except TlvError as e:
        with pytest.raises(TlvError) as err:
            flatten(data)
        assert err.value.offset == e.offset
    else:
        assert flatten(data) == expected


def test_format_tlv_names_file_control_parameters_inside_fcp_templates():
    # A SELECT of the MF answers 6F with ISO 7816-4 file parameters (self-made FCI): 82 is the file
    # descriptor there, not the EMV AIP, and 8A the life cycle status, not an authorisation code.
    fci = bytes.fromhex("6F16" "820138" "83023F00" "840AF0636172646B69744D46" "8A0105")
    assert format_tlv(fci) == [
        "6F (File Control Information (FCI) Template)",
        "  82 (File descriptor) 38",
        "  83 (File identifier) 3F00",
        "  84 (Dedicated File (DF) Name) F0636172646B69744D46",
        "  8A (Life cycle status) 05",
    ]
    assert format_tlv(bytes.fromhex("7706820219809400"))[1] == "  82 (Application Interchange Profile) 1980"
