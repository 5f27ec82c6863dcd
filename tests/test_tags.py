"""cardkit.tags: the tag dictionary is well-formed and says the right thing for known tags."""

from __future__ import annotations

import pytest

from cardkit import tags
from cardkit.tags import (
    CONTEXTS,
    FORMATS,
    TagInfo,
    entries,
    lookup,
    lookup_all,
    name_of,
)
from cardkit.tlv import decode, tag_bytes

ALL = entries()


@pytest.mark.parametrize("info", ALL, ids=lambda i: i.tag.hex().upper() + "/" + i.source)
def test_entry_is_well_formed(info: TagInfo):
    assert tag_bytes(info.tag) == info.tag  # one well-formed tag of 1-3 bytes
    (obj,) = decode(info.tag + b"\x00")  # and it parses as exactly one tag
    assert obj.tag == info.tag
    assert info.fmt in FORMATS
    assert info.name.strip() == info.name and info.name
    assert info.source.strip()
    # templates are constructed tags and constructed tags are templates
    assert (info.fmt == "template") == bool(info.tag[0] & 0x20), info


def test_one_entry_per_tag_and_unique_names_per_context():
    for ctx in CONTEXTS:
        rows = entries(ctx)
        assert len({i.tag for i in rows}) == len(rows), ctx
        names = [i.name for i in rows]
        assert len(set(names)) == len(names), ctx


def test_sources_are_the_documented_ones():
    assert {i.source for i in ALL} <= {
        "EMV 4.4 Book 3 Annex A", "EMV Book C-2", "EMV Book C-3", "PBOC 3.0 / JR/T 0025",
        "GP Card Spec 2.3", "ICAO 9303-10", "ICAO 9303-11", "ISO/IEC 7816-4 Table 12",
    }
    for ctx, prefix in (("pboc", "PBOC"), ("gp", "GP"), ("icao", "ICAO")):
        assert all(i.source.startswith(prefix) for i in entries(ctx)), ctx


EMV_BOOK3 = (
    "4F 50 57 5A 5F20 5F24 5F25 5F28 5F2A 5F2D 5F30 5F34 61 6F 70 71 72 73 77 80 82 84 86 87 88 8A 8C 8D 8E 8F "
    "90 91 92 93 94 95 97 9A 9B 9C 9D A5 BF0C"
).split() + [
    f"9F{n:02X}" for n in range(0x01, 0x50)
    if n not in (0x0A, 0x0C, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x30, 0x31, 0x3E, 0x3F)
]


@pytest.mark.parametrize("hexstr", EMV_BOOK3)
def test_emv_book3_annex_a_covered(hexstr):
    info = lookup(bytes.fromhex(hexstr))
    assert info is not None, hexstr
    assert info.source.startswith("EMV")


@pytest.mark.parametrize(
    "tag,context,name,fmt",
    [
        ("9F36", None, "Application Transaction Counter", "b"),
        ("9F02", None, "Amount, Authorised (Numeric)", "n"),
        ("5A", None, "Application Primary Account Number (PAN)", "cn"),
        ("50", None, "Application Label", "ans"),
        ("8A", None, "Authorisation Response Code", "an"),
        ("BF0C", None, "File Control Information (FCI) Issuer Discretionary Data", "template"),
        ("9F79", None, "Electronic Cash Balance", "n"),
        ("9F74", "pboc", "Electronic Cash Issuer Authorisation Code", "a"),
        ("9F77", "pboc", "Electronic Cash Balance Upper Limit", "n"),
        ("9F78", "pboc", "Electronic Cash Single Transaction Limit", "n"),
        ("9F6D", None, "Mag-stripe Application Version Number (Reader)", "b"),
        ("9F6D", "pboc", "Electronic Cash Reset Threshold", "n"),
        ("DF4D", "pboc", "Load Log Entry", "b"),
        ("9F7F", None, "Card Production Life Cycle Data (CPLC)", "b"),
        ("E3", "gp", "GlobalPlatform Registry Entry (GET STATUS)", "template"),
        ("73", "gp", "Card Recognition Data / Security Domain Management Data", "template"),
        ("73", None, "Directory Discretionary Template", "template"),
        ("61", "icao", "DG1 (MRZ data group)", "template"),
        ("6F", "icao", "DG15 (active authentication public key info)", "template"),
        ("77", "icao", "EF.SOD (document security object)", "template"),
        ("8E", "icao", "Secure messaging: cryptographic checksum", "b"),
        ("8E", None, "Cardholder Verification Method (CVM) List", "b"),
        ("5F1F", None, "MRZ Data Elements", "ans"),
        ("7F61", "icao", "Biometric Information Group Template", "template"),
    ],
)
def test_spot_checks(tag, context, name, fmt):
    info = lookup(tag, context=context)
    assert (info.name, info.fmt) == (name, fmt)


def test_lookup_accepts_bytes_int_and_hex():
    assert lookup(b"\x9f\x36") == lookup(0x9F36) == lookup("9F36") == lookup("9f36")


def test_contexts_fall_back_as_documented():
    assert lookup("9F36", context="pboc").source.startswith("EMV")  # PBOC falls back to EMV
    assert lookup("9F36", context="gp").source.startswith("EMV")
    assert lookup("9F36", context="icao") is None  # ICAO does not
    assert lookup("5F36", context="icao").name == "Unicode Version Number"
    assert lookup("5F36").name == "Transaction Currency Exponent"
    with pytest.raises(ValueError):
        lookup("9F36", context="visa")


def test_lookup_all_lists_every_meaning_emv_first():
    meanings = lookup_all("61")
    assert [m.source for m in meanings] == ["EMV 4.4 Book 3 Annex A", "ICAO 9303-10"]
    assert lookup_all("9F36")[0].name == "Application Transaction Counter"
    assert lookup_all("DF7F") == []


def test_name_of():
    assert name_of(0x9F36) == "Application Transaction Counter"
    assert name_of(b"\xdf\x7f") == "unknown tag DF7F"
    assert name_of("9F6D", context="pboc") == "Electronic Cash Reset Threshold"


def test_unknown_tags():
    assert lookup(b"\xdf\x7f") is None
    assert tags.lookup(b"") is None
