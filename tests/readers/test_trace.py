"""Traces: text lines, pcap structure (parsed back with struct), tshark dissection, masking."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from cardkit.apdu import CommandAPDU
from cardkit.readers import CardChannel, PcapTracer, TextTracer, VirtualReader
from cardkit.readers.trace import (
    LINKTYPE_ISO_14443,
    MASK_BYTE,
    crc_a,
    masked_range,
    redact_command,
)

from .cards import SELECT_EF, SELECT_MF, make_card, read_binary

PIN = bytes.fromhex("241234FFFFFFFFFF")  # an ISO 9564 format 2 PIN block for "1234"
VERIFY = CommandAPDU(0x00, 0x20, 0x00, 0x80, PIN)
PUT_KEY = CommandAPDU(0x80, 0xD8, 0x01, 0x81, bytes.fromhex("8010A5C3A5C3A5C3A5C3A5C3A5C3A5C3A5C3"))


def run_exchanges(*tracers) -> None:
    with VirtualReader(make_card()).connect() as conn:
        channel = CardChannel(conn, trace=list(tracers))
        channel.transmit(SELECT_MF)
        channel.transmit(VERIFY)
        channel.transmit(PUT_KEY)
        channel.transmit(SELECT_EF)
        channel.transmit(CommandAPDU(0x00, 0xD6, 0x00, 0x00, b"my secret"), sensitive=True)
        channel.transmit(read_binary(0, 9), sensitive=True)
        channel.transmit(read_binary(0x100, 300))  # 256 + 44 bytes: a chained frame in pcap


# ------------------------------------------------------------------------------------ masking
@pytest.mark.parametrize(
    ("apdu", "masked"),
    [
        ("0020008008241234FFFFFFFFFF", range(5, 13)),  # VERIFY
        ("8424000008241234FFFFFFFFFF", range(5, 13)),  # EMV PIN CHANGE/UNBLOCK (CHANGE REFERENCE DATA)
        ("002C000010" + "11" * 16, range(5, 21)),  # RESET RETRY COUNTER
        ("80D8018103AABBCC00", range(5, 8)),  # GP PUT KEY, with Le
        ("805E000003123456", range(5, 8)),  # PBOC RELOAD PIN (proprietary class)
        ("0020000000000412345678", range(7, 11)),  # extended Lc
        ("002000", range(4, 3)),  # too short to have data: nothing
        ("00200080", None),  # case 1 VERIFY: retry counter query, no data
        ("005E000003123456", None),  # INS 5E in the interindustry class is not a PIN command
        ("00A4040002A000", None),
        ("0020008005AABB", range(4, 7)),  # malformed: everything after the header
    ],
)
def test_masked_range(apdu: str, masked: range | None):
    got = masked_range(bytes.fromhex(apdu))
    assert got == masked or (got is None and masked is not None and len(masked) == 0)


def test_caller_marks_anything_sensitive():
    apdu = bytes.fromhex("00D6000003414243")
    assert masked_range(apdu) is None
    assert redact_command(apdu, sensitive=True) == bytes.fromhex("00D6000003") + bytes([MASK_BYTE]) * 3


# --------------------------------------------------------------------------------------- text
def test_text_trace_lines_tlv_timing_and_masking():
    lines: list[str] = []
    run_exchanges(TextTracer(lines.append))
    text = "\n".join(lines)
    assert lines[0] == ">> 00 A4 00 00 02 3F 00 00"
    assert lines[1].startswith("<< 6F ") and "90 00  normal processing  (" in lines[1] and lines[1].endswith(" ms)")
    assert lines[2].startswith("   6F (")  # the FCI decoded as TLV
    assert ">> 00 20 00 80 08 XX XX XX XX XX XX XX XX" in lines
    assert ">> 80 D8 01 81 12" + " XX" * 18 in lines
    assert ">> 00 D6 00 00 09" + " XX" * 9 in lines
    assert "<<" + " XX" * 9 + " 90 00  normal processing" in text
    for secret in ("24 12 34", "A5 C3 A5 C3", "6D 79 20 73", "my secret"):
        assert secret not in text


def test_text_trace_to_a_stream_and_wrapping():
    out = io.StringIO()
    run_exchanges(TextTracer(out, width=16, tlv=False))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 3 + 16 * 3 + 60 for line in lines)
    assert not any(line.startswith("   6F (") for line in lines)


def test_text_trace_falls_back_silently_on_non_tlv():
    lines: list[str] = []
    tracer = TextTracer(lines.append)
    tracer.command(bytes.fromhex("00B0000004"))
    tracer.response(bytes.fromhex("FFFFFFFF9000"), elapsed=0.001)
    assert lines == [">> 00 B0 00 00 04", "<< FF FF FF FF 90 00  normal processing  (1.00 ms)"]


# --------------------------------------------------------------------------------------- pcap
def read_pcap(path: Path) -> tuple[int, list[bytes]]:
    raw = path.read_bytes()
    magic, major, minor, _zone, _sig, snaplen, linktype = struct.unpack_from("<IHHiIII", raw, 0)
    assert (magic, major, minor, snaplen) == (0xA1B2C3D4, 2, 4, 65535)
    records, pos = [], 24
    while pos < len(raw):
        _sec, usec, incl, orig = struct.unpack_from("<IIII", raw, pos)
        assert incl == orig and usec < 1_000_000
        records.append(raw[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    assert pos == len(raw)
    return linktype, records


def test_crc_a_known_answers():
    # ISO/IEC 14443-3 Annex B examples
    assert crc_a(b"\x00\x00") == bytes.fromhex("A01E")
    assert crc_a(b"\x12\x34") == bytes.fromhex("26CF")


def test_pcap_structure(tmp_path: Path):
    path = tmp_path / "t.pcap"
    tracer = PcapTracer(path)
    run_exchanges(tracer)
    tracer.close()
    linktype, records = read_pcap(path)
    assert linktype == LINKTYPE_ISO_14443 == 264
    frames = []
    for rec in records:
        version, event, length = struct.unpack_from(">BBH", rec, 0)
        frame = rec[4:]
        assert version == 0 and event in (0xFE, 0xFF) and length == len(frame)
        assert crc_a(frame[:-2]) == frame[-2:]
        frames.append((event, frame[:-2]))
    assert frames[0] == (0xFE, bytes.fromhex("E080")) and frames[1][0] == 0xFF  # RATS / ATS
    blocks = frames[2:]
    # SELECT MF: PCD→PICC I-block 02 with the APDU; the answer is an I-block with the same number
    assert blocks[0] == (0xFE, b"\x02" + SELECT_MF.to_bytes())
    assert blocks[1][0] == 0xFF and blocks[1][1][0] == 0x02 and blocks[1][1][-2:] == b"\x90\x00"
    assert blocks[2][1][0] == 0x03  # the next exchange toggles the block number
    payloads = b"".join(f[1] for f in blocks)
    assert bytes([MASK_BYTE]) * 8 in payloads and PIN not in payloads
    assert b"my secret" not in payloads and b"\xa5\xc3\xa5\xc3" not in payloads
    pcbs = [f[1][0] for f in blocks]
    assert any(p & 0x10 for p in pcbs) and any(p & 0xF6 == 0xA2 for p in pcbs)  # chaining + R(ACK)


def test_tshark_dissects_down_to_iso7816(tmp_path: Path):
    tshark = shutil.which("tshark")
    if tshark is None:
        if os.environ.get("CI"):
            pytest.fail("tshark is missing: 'make test' installs it")
        pytest.skip("tshark not installed ('make test' installs it)")
    path = tmp_path / "t.pcap"
    with PcapTracer(path) as tracer:
        run_exchanges(tracer)
    run = subprocess.run([tshark, "-r", str(path), "-d", "iso14443.subdissector,iso7816", "-V"],
                         capture_output=True, text=True, check=False, timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "ISO 7816" in out and "Instruction: Select file (0xa4)" in out
    assert "Instruction: Verify (0x20)" in out
    assert "Reassembled" in out  # the 300-byte READ BINARY answer crossed two I-blocks
    assert "[CRC Status: Bad]" not in out and "[CRC Status: Good]" in out
    assert "241234ffffffffff" not in out.lower()
    summary = subprocess.run([tshark, "-r", str(path), "-d", "iso14443.subdissector,iso7816"],
                             capture_output=True, text=True, check=False, timeout=60).stdout
    assert "Response APDU (to Select file)" in summary
