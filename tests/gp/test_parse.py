"""GET DATA and GET STATUS parsing against published bytes, and GET STATUS paging on a fake card."""

from __future__ import annotations

import datetime as dt

import pytest

from cardkit.cardaids import ISD_AID
from cardkit.errors import CardError
from cardkit.gp import (
    GpError,
    Scope,
    StaticKeys,
    get_cplc,
    get_key_information,
    get_status,
    open_secure_channel,
    parse_card_data,
    parse_cplc,
    parse_key_information,
    parse_status,
    privilege_names,
)
from cardkit.gp._registry import parse_status_legacy
from cardkit.readers import CardChannel, VirtualReader

from .fakecard import Entry, FakeIsd

H = bytes.fromhex


def channel_on(card: FakeIsd) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ CPLC
# source: openjavacard-tools, org/openjavacard/gp/protocol/GPLifeCycleTest.java (CPLC_BYTES, testParse)
CPLC = H("9f7f2a479050384791007833003332A0B1C2D3ABCD4812333900000000060f2032A0B1C2D30000000000000000")


def test_cplc_fields_openjavacard_vector() -> None:
    c = parse_cplc(CPLC)
    want = {"ic_fabricator": "4790", "ic_type": "5038", "os_id": "4791", "os_release_date": "0078",
            "os_release_level": "3300", "ic_fabrication_date": "3332", "ic_serial_number": "a0b1c2d3",
            "ic_batch_identifier": "abcd", "ic_module_fabricator": "4812", "ic_module_packaging_date": "3339",
            "icc_manufacturer": "0000", "ic_embedding_date": "0000", "ic_pre_personalizer": "060f",
            "ic_pre_personalization_date": "2032", "ic_pre_personalization_equipment_id": "a0b1c2d3",
            "ic_personalizer": "0000", "ic_personalization_date": "0000",
            "ic_personalization_equipment_id": "00000000"}
    assert {k: v.hex() for k, v in c.fields().items()} == want
    assert parse_cplc(CPLC[3:]) == c  # the bare 42-byte value parses the same
    dates = c.dates()
    assert dates["ic_embedding_date"] is None  # 0000 is "no date"
    fab = dates["ic_fabrication_date"]
    assert fab is not None and (fab.year_digit, fab.day_of_year) == (3, 332)
    assert fab.resolve(dt.date(2026, 1, 1)) == dt.date(2023, 11, 28)


def test_cplc_dates_globalplatformpro_vectors() -> None:
    """GlobalPlatformPro TestParseTags.testCPLCDateParse: 1210 is day 210 of the latest year ending in 1."""
    c = parse_cplc(CPLC[3:13] + H("1210") + CPLC[15:])
    d = c.dates()["ic_fabrication_date"]
    assert d is not None
    assert d.resolve(dt.date(2021, 7, 30)) == dt.date(2021, 7, 29)
    assert d.resolve(dt.date(2021, 7, 29)) == dt.date(2021, 7, 29)
    assert d.resolve(dt.date(2021, 7, 28)) == dt.date(2011, 7, 29)
    invalid = parse_cplc(CPLC[3:13] + H("1410") + CPLC[15:])  # TestParseTags.testCPLCDateParseInvalid
    assert invalid.dates()["ic_fabrication_date"] is None


def test_short_cplc_is_an_error() -> None:
    with pytest.raises(GpError, match="42 bytes"):
        parse_cplc(CPLC[:30])


# ------------------------------------------------------------------------------- key information
# source: osmocom/pysim pySim/global_platform/__init__.py, KeyInformationData._test_de_encode
@pytest.mark.parametrize(("c0", "key_id", "kvn", "kind", "length"), [
    ("c00401708010", 1, 0x70, 0x80, 16), ("c00403038010", 3, 3, 0x80, 16), ("c00402038810", 2, 3, 0x88, 16),
])
def test_key_information_pysim_vectors(c0: str, key_id: int, kvn: int, kind: int, length: int) -> None:
    (info,) = parse_key_information(H("e006") + H(c0))
    assert (info.key_id, info.kvn, info.key_type, info.length) == (key_id, kvn, kind, length)
    assert info.type_name == ("AES" if kind == 0x88 else "DES")


def test_key_information_with_several_components_and_junk() -> None:
    """A C0 may list several (type, length) pairs; truncated pairs and non-TLV bytes are errors."""
    infos = parse_key_information(H("E008C006017180108810"))
    assert [(i.key_type, i.length) for i in infos] == [(0x80, 16), (0x88, 16)]
    for junk in (H("E005C003017180"), H("E0"), H("C002")):
        with pytest.raises(GpError):
            parse_key_information(junk)


# ------------------------------------------------------------------------------------ card data
# source: martinpaljak/GlobalPlatformPro library/src/test/java/pro/javacard/gp/test/TestParseTags.java, testOther
def test_card_data_globalplatformpro_vectors() -> None:
    gp211 = parse_card_data(H("664C734A06072A864886FC6B01600C060A2A864886FC6B02020101630906072A864886FC6B03640B06"
                              "092A864886FC6B040215650B06092B8510864864020103660C060A2B060104012A026E0102"))
    assert gp211.gp_version == "2.1.1" and gp211.scp == ((2, 0x15),)
    assert ("64", "1.2.840.114283.4.2.21") in gp211.oids
    gp22 = parse_card_data(H("6657735506072A864886FC6B01600B06092A864886FC6B020202630906072A864886FC6B03640B0609"
                             "2A864886FC6B040370640B06092A864886FC6B048000650A06082A864886FC6B0504660C060A2B06010401"
                             "2A026E0103"))
    assert gp22.gp_version == "2.2" and gp22.scp == ((3, 0x70), (0x80, 0x00))


# ------------------------------------------------------------------------------------ registry
# source: martinpaljak/GlobalPlatformPro TestParseTags.java, testParseISD / testParsePartialISD / testPrivileges
def test_registry_entries_globalplatformpro_vectors() -> None:
    (isd,) = parse_status(H("E3144F07A00000015100009F700107C50180EA028000"), Scope.ISD)
    assert isd.aid == H("A0000001510000") and isd.state == "INITIALIZED"
    assert isd.privilege_names == ["Security Domain"]
    (partial,) = parse_status(H("E3464F08A0000000030000009F700101C5039EFE80CF0140CF0141CF0142CF0143CF0180CF0181"
                                "CF0182CF0183C40BD276000005AAFFCAFE0001CE020001CC08A000000003000000"), Scope.ISD)
    assert partial.state == "OP_READY" and partial.load_file == H("D276000005AAFFCAFE0001")
    assert partial.version == H("0001") and partial.security_domain == H("A000000003000000")
    assert len(partial.privilege_names) == 13  # 9EFE80
    assert privilege_names(H("80C000")) == ["Security Domain", "Trusted Path", "Authorized Management"]


def test_application_states_are_named_by_their_scope() -> None:
    apps = parse_status(b"".join(Entry(0x40, H("A0000000041010"), s).tlv() for s in (0x03, 0x07, 0x0F, 0x83, 0x87)),
                        Scope.APPLICATIONS)
    assert [e.state for e in apps] == ["INSTALLED", "SELECTABLE", "PERSONALIZED", "LOCKED", "LOCKED"]
    (card,) = parse_status(Entry(0x80, ISD_AID, 0x0F).tlv(), Scope.ISD)
    assert card.state == "SECURED" and str(card) == "A000000151000000 SECURED"


@pytest.mark.parametrize("junk", [H("E3034F0100"), H("E305"), H("6F00"), H("E3039F7001")])
def test_malformed_registry_is_gp_error(junk: bytes) -> None:
    with pytest.raises(GpError):
        parse_status(junk, Scope.APPLICATIONS)


def test_legacy_format_with_modules() -> None:
    raw = Entry(0x10, H("F0636172646B697401"), 0x01, modules=(H("F0636172646B69740101"),)).legacy()
    (lf,) = parse_status_legacy(raw, Scope.LOAD_FILES_AND_MODULES)
    assert lf.state == "LOADED" and lf.modules == (H("F0636172646B69740101"),)
    with pytest.raises(GpError, match="truncated"):
        parse_status_legacy(raw[:-1], Scope.LOAD_FILES_AND_MODULES)


# ------------------------------------------------------------------------------ against the fake
def _fake_with_apps(n: int, **kw: object) -> FakeIsd:
    apps = [Entry(0x40, H("A00000000410") + bytes((i,)), 0x07, H("00")) for i in range(n)]
    return FakeIsd(entries=[Entry(0x80, ISD_AID, 0x0F, H("9EFE80")), *apps], **kw)  # type: ignore[arg-type]


def test_get_status_follows_6310_continuations() -> None:
    card = _fake_with_apps(5, page=2)
    session = open_secure_channel(channel_on(card), StaticKeys.default(0x30))
    apps = get_status(session, Scope.APPLICATIONS)
    assert [a.aid[-1] for a in apps] == [0, 1, 2, 3, 4]
    p2s = [c.p2 for c in card.plain if c.ins == 0xF2]
    assert p2s == [0x02, 0x03, 0x03]  # first, then "next occurrence" twice
    (isd,) = get_status(session, Scope.ISD)
    assert isd.state == "SECURED"
    assert get_status(session, Scope.LOAD_FILES) == []  # 6A88: nothing there


def test_get_status_falls_back_to_the_legacy_format() -> None:
    card = _fake_with_apps(3, page=2, tag_format=False)
    session = open_secure_channel(channel_on(card), StaticKeys.default(0x30))
    apps = get_status(session, Scope.APPLICATIONS)
    assert [a.state for a in apps] == ["SELECTABLE"] * 3
    assert [c.p2 for c in card.plain if c.ins == 0xF2] == [0x02, 0x00, 0x01]


def test_get_status_without_a_channel_the_card_accepts_is_card_error() -> None:
    card = FakeIsd()
    session = open_secure_channel(channel_on(card), StaticKeys.default(0x30))
    card.level = -1  # the card dropped the session (a reset behind our back)
    with pytest.raises(CardError, match="GET STATUS APPLICATIONS"):
        get_status(session, Scope.APPLICATIONS)


def test_get_data_plain_on_the_fake() -> None:
    card = FakeIsd()
    channel = channel_on(card)
    from cardkit.gp import select_aid

    select_aid(channel)
    assert get_cplc(channel).ic_fabricator == H("4790")
    infos = get_key_information(channel)
    assert [(i.kvn, i.key_id, i.type_name, i.length) for i in infos] == [(0x30, k, "AES", 16) for k in (1, 2, 3)]
    with pytest.raises(CardError, match="GET DATA 0045"):
        from cardkit.gp import get_data

        get_data(channel, 0x0045)
