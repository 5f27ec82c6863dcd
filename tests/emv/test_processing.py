"""GPO and READ RECORD (Book 3 §10.1-§10.2): PDOL data, response formats, AFL, records."""

from __future__ import annotations

from datetime import datetime

import pytest

from cardkit import tlv
from cardkit.emv import Kernel, TerminalConfig
from cardkit.emv.outcome import CardDataError
from cardkit.emv.processing import gpo_command, parse_afl, parse_gpo_response, read_application_data
from cardkit.errors import CardError

from .cards import AID, FakeEmvCard, ScriptedCard, channel_for, default_application_record, h

NOW = datetime(2026, 5, 1, 9, 8, 7)


def test_gpo_command_wraps_the_pdol_data() -> None:
    assert gpo_command(b"").to_bytes().hex().upper() == "80A80000028300" + "00"
    assert gpo_command(b"\x01\x02").data == bytes.fromhex("83020102")


def test_parse_gpo_formats() -> None:
    f1 = parse_gpo_response(bytes.fromhex("800A 7D00 08010100 10010101".replace(" ", "")))
    assert (f1.aip, f1.afl, f1.format) == (bytes.fromhex("7D00"), bytes.fromhex("0801010010010101"), 1)
    f2 = parse_gpo_response(h(0x77, h(0x82, "1980") + h(0x94, "08010100") + h(0x9F27, "40")))
    assert f2.format == 2 and f2.aip == bytes.fromhex("1980") and f2.data[b"\x9f\x27"] == b"\x40"


@pytest.mark.parametrize("raw", ["8003 7D0008", "7703 9F2701", "6F00", "", "8001 7D", "7706 8202 1980 9401 08"])
def test_malformed_gpo(raw: str) -> None:
    with pytest.raises(CardDataError):
        parse_gpo_response(bytes.fromhex(raw.replace(" ", "")))


@pytest.mark.parametrize("afl", ["00010100", "F8010100", "08000100", "08020100", "08010203", "080101"])
def test_bad_afl_entries(afl: str) -> None:
    with pytest.raises(CardDataError):
        parse_afl(bytes.fromhex(afl))


def test_pdol_data_is_built_from_terminal_data() -> None:
    pdol = bytes.fromhex("9F66049F02069F1A029A039C019F3704DF6001")
    card = FakeEmvCard(pdol=pdol)
    k = Kernel(channel_for(card.card), TerminalConfig(), clock=lambda: NOW, rng=lambda n: b"\xab" * n)
    txn = k.start(1250, transaction_type=0x00)
    k.select_and_initiate(txn)
    # TTQ is not sent on the contact path (zeros); DF60 is unknown to the terminal: zeros
    assert card.pdol_data == bytes.fromhex("00000000 000000001250 0156 260501 00 ABABABAB 00".replace(" ", ""))
    assert txn.pdol_data == card.pdol_data and txn.aip == card.aip


def test_records_keep_oda_bytes_and_merge_data() -> None:
    rec1 = tlv.build(0x70, h(0x9F0D, "FC50AC8800"))
    rec2 = default_application_record()
    card = ScriptedCard({"00B2010C": rec1.hex() + "9000", "00B20114": rec2.hex() + "9000"})
    got = read_application_data(channel_for(card), bytes.fromhex("0801010010010101"))
    assert got.oda_records == [(2, rec2)]
    assert got.data[b"\x5a"] == bytes.fromhex("6212345678901234567F")
    assert got.data[b"\x9f\x0d"] == bytes.fromhex("FC50AC8800")


def test_sfi_above_10_is_kept_whole_and_not_parsed() -> None:
    card = ScriptedCard({"00B2015C": "DEADBEEF9000"})
    got = read_application_data(channel_for(card), bytes.fromhex("58010101"))
    assert got.oda_records == [(11, bytes.fromhex("DEADBEEF"))] and got.data == {}


def test_duplicate_tags_across_records_end_the_transaction() -> None:
    rec = tlv.build(0x70, h(0x5A, "6212"))
    card = ScriptedCard({"00B2010C": rec.hex() + "9000", "00B2020C": rec.hex() + "9000"})
    with pytest.raises(CardDataError, match="5A appears in two records"):
        read_application_data(channel_for(card), bytes.fromhex("08010200"))


def test_a_record_that_is_not_a_70_template() -> None:
    card = ScriptedCard({"00B2010C": h(0x77, h(0x5A, "62")).hex() + "9000"})
    with pytest.raises(CardDataError):
        read_application_data(channel_for(card), bytes.fromhex("08010100"))


def test_read_record_refused() -> None:
    card = ScriptedCard({"00B2010C": "6A83"})
    with pytest.raises(CardError) as info:
        read_application_data(channel_for(card), bytes.fromhex("08010100"))
    assert info.value.sw == 0x6A83 and "SFI 1 record 1" in str(info.value)


def test_gpo_6985_removes_the_application_and_selection_continues() -> None:
    card = FakeEmvCard(gpo_sw="6985")
    k = Kernel(channel_for(card.card), TerminalConfig(), clock=lambda: NOW, rng=lambda n: bytes(n))
    out = k.run(100)
    assert out.kind.value == "not-accepted"
    assert [c.ins for c in card.card.commands].count(0xA8) == 1
    assert card.card.sent(0xA4)[-1].data == AID  # the final SELECT was the last one
