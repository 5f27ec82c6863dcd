"""ESC/POS output, decoded back by an independent parser of the command stream."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_sim.receipt import WIDTHS, Receipt, display_width, render_escpos, render_text
from tests.pos.receipt_kit import receipts, sample

# command prefix -> number of argument bytes (GS V takes one more when m is 65 or 66)
COMMANDS = {b"\x1b@": 0, b"\x1c&": 0, b"\x1c.": 0, b"\x1ba": 1, b"\x1bE": 1, b"\x1d!": 1, b"\x1c!": 1,
            b"\x1bd": 1, b"\x1dV": 1}


@dataclass
class Printed:
    """What a printer would do with the bytes: the lines with their modes, and the job's framing."""

    lines: list[tuple[str, bool, bool, bool]] = field(default_factory=list)  # text, centred, bold, tall
    commands: list[bytes] = field(default_factory=list)
    chinese_mode: bool = False
    cut: bool = False
    fed: int = 0


def parse(job: bytes) -> Printed:
    out = Printed()
    centre = bold = tall_ank = tall_cjk = False
    text = bytearray()
    i = 0
    while i < len(job):
        byte = job[i]
        if byte in (0x1B, 0x1C, 0x1D):
            assert not out.cut, "bytes after the cut"
            prefix = job[i:i + 2]
            assert prefix in COMMANDS, f"unknown command {prefix.hex()} at {i}"
            n = COMMANDS[prefix]
            if prefix == b"\x1dV" and job[i + 2] in (65, 66):
                n = 2
            arg = job[i + 2:i + 2 + n]
            out.commands.append(prefix + arg)
            match prefix:
                case b"\x1c&":
                    out.chinese_mode = True
                case b"\x1c.":
                    out.chinese_mode = False
                case b"\x1ba":
                    centre = arg[0] == 1
                case b"\x1bE":
                    bold = bool(arg[0] & 1)
                case b"\x1d!":
                    tall_ank = bool(arg[0] & 0x0F)
                case b"\x1c!":
                    tall_cjk = bool(arg[0] & 0x08)
                case b"\x1bd":
                    out.fed += arg[0]
                case b"\x1dV":
                    out.cut = True
            i += 2 + n
        elif byte == 0x0A:
            assert tall_ank == tall_cjk, "ASCII and Chinese sizes disagree"
            decoded = bytes(text).decode("gb18030")
            assert decoded.isascii() or out.chinese_mode, "Chinese text outside Chinese mode"
            out.lines.append((decoded, centre, bold, tall_ank))
            text.clear()
            i += 1
        else:
            assert byte >= 0x20, f"stray control byte {byte:02x}"
            text.append(byte)
            i += 1
    assert not text, "text left unprinted after the last line feed"
    return out


def as_text(printed: Printed, width: int) -> str:
    return "".join((" " * ((width - display_width(t)) // 2) if c else "") + t + "\n" for t, c, _, _ in printed.lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_bytes_decode_to_the_text_receipt(width: int) -> None:
    r = sample()
    job = render_escpos(r, width)
    printed = parse(job)
    assert as_text(printed, width) == render_text(r, width)
    assert job.startswith(b"\x1b@\x1c&") and job.endswith(b"\x1bd\x04\x1dV\x01")
    assert printed.cut and printed.fed == 4


@settings(max_examples=60)
@given(receipts(), st.sampled_from(WIDTHS))
def test_any_receipt_round_trips(receipt: Receipt, width: int) -> None:
    assert as_text(parse(render_escpos(receipt, width)), width) == render_text(receipt, width)


def test_title_and_amount_are_bold_and_double_height() -> None:
    printed = parse(render_escpos(sample(), 32))
    tall = [(t.strip(), bold) for t, _, bold, is_tall in printed.lines if is_tall]
    assert tall == [("签购单 SALES SLIP", True), ("金额 AMOUNT            CNY 12.50", True)]
    assert printed.lines[0][1] is True  # the title is centred by the printer
    assert b"\x1d!\x01\x1c!\x08" in render_escpos(sample(), 32)


def test_chinese_is_gb18030() -> None:
    job = render_escpos(sample(), 32)
    assert "签购单".encode("gb18030") in job and "签购单".encode() not in job
    rare = render_escpos(sample(merchant_name_zh="𠀀字号"), 32)  # a CJK Extension B character: 4 bytes
    assert "𠀀".encode("gb18030") in rare and len("𠀀".encode("gb18030")) == 4


def test_modes_are_reset_before_the_cut() -> None:
    job = render_escpos(sample(), 48)
    assert job.endswith(b"\n\x1ba\x00\x1bE\x00\x1d!\x00\x1c!\x00\x1bd\x04\x1dV\x01")
