"""The `cardkit` command: user errors end in one clear line and a non-zero exit; secrets stay out."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main

CARDKIT = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CARDKIT, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    image = tmp_path / "blank.card"
    assert main(["card", "new", "--blank", str(image)]) == 0
    return image


def test_card_new_writes_private_image(blank: Path):
    assert stat.S_IMODE(os.stat(blank).st_mode) == 0o600


def test_card_new_refuses_to_overwrite(blank: Path, capsys):
    before = blank.read_bytes()
    assert main(["card", "new", "--blank", str(blank)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {blank} already exists: choose another path or pass --force"]
    assert blank.read_bytes() == before


def test_apdu_on_virtual_reader_decodes_and_explains(blank: Path, capsys):
    assert main(["apdu", "--reader", f"virtual:{blank}", "00A40000023F00", "00B201F400", "00FE0000"]) == 0
    out = capsys.readouterr().out
    assert ">> 00 A4 00 00 02 3F 00" in out
    assert "normal processing" in out
    assert "instruction code not supported" in out  # 6D00 explained


def test_apdu_writes_pcap(blank: Path, tmp_path: Path):
    pcap = tmp_path / "t.pcap"
    assert main(["apdu", "--reader", f"virtual:{blank}", "--trace", str(pcap), "00A40000023F00"]) == 0
    assert pcap.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")  # pcap magic, little-endian


def test_bad_hex_is_a_usage_error(blank: Path):
    res = run("apdu", "--reader", f"virtual:{blank}", "00A4ZZ")
    assert res.returncode == 2
    assert "is not hexadecimal" in res.stderr and "Traceback" not in res.stderr


def test_malformed_apdu_is_one_line(blank: Path):
    res = run("apdu", "--reader", f"virtual:{blank}", "00A4040005A000")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == ["error: Lc 5 does not match the 2 bytes after the header"]


def test_corrupt_image_is_one_line_and_untouched(tmp_path: Path):
    image = tmp_path / "bad.card"
    image.write_bytes(b"not a card image at all")
    res = run("apdu", "--reader", f"virtual:{image}", "00A40000023F00")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(image) in lines[0]
    assert image.read_bytes() == b"not a card image at all"


def test_truncated_image_is_refused(blank: Path):
    blank.write_bytes(blank.read_bytes()[:-20])
    res = run("emulate", str(blank), "--port", "1")
    assert res.returncode == 1 and "Traceback" not in res.stderr


def test_debug_shows_traceback(tmp_path: Path):
    image = tmp_path / "missing.card"
    res = run("--debug", "apdu", "--reader", f"virtual:{image}", "00A40000023F00")
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_unknown_reader_scheme(blank: Path):
    res = run("apdu", "--reader", "bogus:1", "00A40000023F00")
    assert res.returncode == 1
    assert "pcsc:" in res.stderr and "virtual:" in res.stderr


def test_pin_never_reaches_the_trace(blank: Path, capsys):
    main(["apdu", "--reader", f"virtual:{blank}", "0020000106313233343536"])
    out = capsys.readouterr().out
    assert "31 32 33 34 35 36" not in out and "313233343536" not in out
