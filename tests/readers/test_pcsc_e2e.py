"""End to end through the real PC/SC stack: pyscard → pcscd → vpcd → a card process (no mocks)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from applets.runtime import load_card
from cardkit.apdu import SW
from cardkit.errors import NoCardError, ReaderNotFoundError, TransportError
from cardkit.readers import (
    CardChannel,
    TextTracer,
    VirtualReader,
    list_readers,
    open_reader,
)
from cardkit.readers.pcsc import PcscReader
from cardkit.readers.t0 import t0_only_atr
from pos_sim.demo_card import make_demo_card

from .cards import (
    EF_CONTENT,
    SELECT_EF,
    SELECT_MF,
    make_card,
    read_binary,
    update_binary,
)
from .conftest import VPCD_READER

pytestmark = pytest.mark.pcsc


def test_pyscard_sees_the_card_and_its_atr(serve_card, card_image: Path, vpcd_reader: PcscReader):
    serve_card(card_image)
    infos = {r.name: r for r in list_readers()}
    assert infos[VPCD_READER].has_card
    assert infos[VPCD_READER].atr == make_card().atr
    assert infos[VPCD_READER].backend == "pcsc"
    # the same reader by index and by part of its name
    names = list(infos)
    assert open_reader(f"pcsc:{names.index(VPCD_READER)}").name == VPCD_READER
    assert open_reader("pcsc:PCD 00 00").name == VPCD_READER


@pytest.mark.parametrize("protocol", ["T1", "T0", None])
def test_select_and_read(serve_card, card_image: Path, vpcd_reader: PcscReader, protocol: str | None):
    serve_card(card_image)
    lines: list[str] = []
    with vpcd_reader.connect(protocol) as conn:
        assert conn.protocol == (protocol or "T1")  # the dual-protocol ATR: PC/SC prefers T=1
        channel = CardChannel(conn, trace=TextTracer(lines.append))
        assert channel.transmit_ok(SELECT_MF).data[:1] == b"\x6F"
        channel.transmit_ok(SELECT_EF)
        assert channel.transmit_ok(read_binary(0)).data == EF_CONTENT[:256]
    assert lines[0] == ">> 00 A4 00 00 02 3F 00 00"


def test_t0_card_gets_61xx_and_channel_fetches_with_get_response(serve_card, card_image: Path,
                                                                 vpcd_reader: PcscReader):
    serve_card(card_image, mode="t0")
    assert vpcd_reader.atr() == t0_only_atr(make_card().atr)
    lines: list[str] = []
    with vpcd_reader.connect() as conn:
        assert conn.protocol == "T0"  # the ATR offers only T=0
        raw = conn.transmit(SELECT_MF.to_bytes())
        assert raw[0] == 0x61  # the transport answer: data waits for GET RESPONSE
        channel = CardChannel(conn, trace=TextTracer(lines.append))
        fci = channel.transmit_ok(SELECT_MF)
        assert fci.data[:1] == b"\x6F" and len(fci.data) == raw[1]
        channel.transmit_ok(SELECT_EF)
        assert channel.transmit_ok(read_binary(0)).data == EF_CONTENT[:256]  # case 2, right Le: direct
        assert channel.transmit_ok(read_binary(700)).data == EF_CONTENT[700:]  # 6C44 → resend Le=44
    assert f">> 00 C0 00 00 {raw[1]:02X}" in lines
    assert any(line.startswith("<< 6C 44") for line in lines)


def test_opensc_tool_sees_atr_and_gets_9000(serve_card, card_image: Path):
    tool = shutil.which("opensc-tool")
    if tool is None:
        pytest.skip("opensc-tool not installed")
    serve_card(card_image)
    atr = subprocess.run([tool, "-r", "0", "-a"], capture_output=True, text=True, check=False, timeout=30)
    assert atr.returncode == 0, atr.stderr
    assert make_card().atr.hex(":") in atr.stdout.lower()
    sent = subprocess.run([tool, "-r", "0", "-s", "00A4000C023F00"],
                          capture_output=True, text=True, check=False, timeout=30)
    assert "SW1=0x90, SW2=0x00" in sent.stdout, sent.stdout + sent.stderr


def test_scriptor_runs_an_apdu_script(serve_card, card_image: Path, tmp_path: Path):
    tool = shutil.which("scriptor")
    if tool is None:
        pytest.skip("scriptor not installed")
    serve_card(card_image)
    script = tmp_path / "script.apdu"
    script.write_text("# select EF 0101, read 4 bytes at offset 16\n00 A4 02 0C 02 01 01\n00 B0 00 10 04\n")
    run = subprocess.run([tool, "-r", VPCD_READER, str(script)],
                         capture_output=True, text=True, check=False, timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "10 11 12 13 90 00" in run.stdout, run.stdout


def test_state_persists_to_the_image_after_emulate_stops(serve_card, card_image: Path, vpcd_reader: PcscReader):
    card = serve_card(card_image)
    with vpcd_reader.connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_EF)
        channel.transmit_ok(update_binary(0x20, b"persisted"))
    assert card.stop() == 0, card.output()
    vpcd_reader.wait_for_removal(timeout=10)
    reloaded = VirtualReader(load_card(card_image))
    with reloaded.connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_EF)
        assert channel.transmit_ok(read_binary(0x20, 9)).data == b"persisted"


def test_removal_and_insertion_are_detected(serve_card, card_image: Path, vpcd_reader: PcscReader):
    card = serve_card(card_image)
    conn = vpcd_reader.connect()
    card.stop()
    t0 = time.monotonic()
    vpcd_reader.wait_for_removal(timeout=10)
    assert time.monotonic() - t0 < 5
    with pytest.raises(NoCardError, match="start one with 'cardkit emulate CARD'"):
        vpcd_reader.connect()
    with pytest.raises(TransportError):  # the card left mid-session
        conn.transmit(SELECT_MF.to_bytes())
    conn.close()
    with pytest.raises(NoCardError):
        vpcd_reader.wait_for_card(timeout=0.3)
    serve_card(card_image, wait=False)
    vpcd_reader.wait_for_card(timeout=10)
    with vpcd_reader.connect() as again:
        assert CardChannel(again).transmit(SELECT_MF).sw == SW.OK


def test_emulate_reconnects_after_pcscd_restarts(pcscd, serve_card, card_image: Path, vpcd_reader: PcscReader):
    serve_card(card_image)
    pcscd.restart()
    reader = PcscReader(VPCD_READER)  # a fresh context on the new daemon
    reader.wait_for_card(timeout=15)
    with reader.connect() as conn:
        assert CardChannel(conn).transmit(SELECT_MF).sw == SW.OK
    reader.close()
    # the old reader object re-establishes its context by itself
    assert vpcd_reader.has_card()


def test_unknown_reader_lists_the_ones_there_are(pcscd):
    with pytest.raises(ReaderNotFoundError, match=f"no PC/SC reader matches 'nope'; readers: 0: '{VPCD_READER}'"):
        open_reader("pcsc:nope")


# ------------------------------------------------------------------ the `cardkit` command on the real stack
def _cardkit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    from .conftest import CARDKIT

    return subprocess.run([*CARDKIT, *args], capture_output=True, text=True, timeout=timeout)


def test_cli_readers_and_apdu_through_pcscd(serve_card, card_image: Path, tmp_path: Path):
    import json

    serve_card(card_image)
    listed = json.loads(_cardkit("readers", "--json").stdout)
    ours = next(r for r in listed if r["name"] == VPCD_READER)
    assert ours["has_card"] and ours["atr"] == make_card().atr.hex().upper()

    pcap = tmp_path / "cli.pcap"
    res = _cardkit("apdu", "--reader", "pcsc:Virtual PCD 00 00", "--trace", str(pcap),
                   SELECT_MF.to_bytes().hex(), "0020000106313233343536")
    assert res.returncode == 0, res.stderr
    assert ">> 00 A4" in res.stdout and "normal processing" in res.stdout
    assert "31 32 33 34 35 36" not in res.stdout  # the PIN is masked in the text trace...
    assert b"123456" not in pcap.read_bytes()  # ...and in the pcap


def test_cli_apdu_without_a_card_is_one_clear_line(vpcd_reader: PcscReader):
    res = _cardkit("apdu", "--reader", f"pcsc:{VPCD_READER}", SELECT_MF.to_bytes().hex())
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"error: no card in reader '{VPCD_READER}': start one with 'cardkit emulate CARD' or insert a card"
    ]


def test_demo_runs_end_to_end_through_pcscd(pcscd, vpcd_reader: PcscReader, tmp_path: Path):
    """`make demo`'s main job: demo card → vpcd → opensc-tool sees it → a tap and a PIN sale at the
    POS against the embedded host → the receipt and the journal, and a pcap of every APDU."""
    from pos_sim.journal import EntryStatus, Journal

    res = _cardkit("demo", "--out", str(tmp_path), timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "the card is in reader Virtual PCD 00 00" in res.stdout
    assert "opensc-tool --reader 0 --atr" in res.stdout
    assert make_demo_card().atr.hex(":") in res.stdout  # opensc-tool printed our ATR
    assert "the card approved offline (TC, fDDA verified)" in res.stdout
    assert "approved online (response code 00)" in res.stdout
    assert "CARDHOLDER COPY" in res.stdout and "CNY 128.50" in res.stdout and "6228480000000000018" not in res.stdout
    with Journal(tmp_path / "journal.sqlite") as journal:
        entries = journal.entries()
    assert [(e.kind, e.amount, e.status) for e in entries] == [
        ("sale", 2500, EntryStatus.APPROVED), ("sale", 12850, EntryStatus.APPROVED),
        ("medical", 3650, EntryStatus.APPROVED)]
    assert all(e.receipt_printed for e in entries)
    assert "出站 EXIT Dongzhimen  扣费 FARE 4.00  余额 BAL 46.00" in res.stdout  # the ride, from the purse
    assert "chip genuine · data unaltered · issuer trusted" in res.stdout  # the ID, BAC + PA + AA
    assert "medical account 763.50 CNY" in res.stdout  # the clinic, from social insurance
    with Journal(tmp_path / "gate-journal.sqlite") as gate:
        assert [(e.kind, e.amount) for e in gate.entries()] == [("fare", 0), ("fare", 400)]
    assert (tmp_path / "demo.pcap").stat().st_size > 1000
    vpcd_reader.wait_for_removal(timeout=10)  # the demo's card is gone before the next test
