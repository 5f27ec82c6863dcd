"""PNG receipts: they open, have the printer's width, are not blank, and fail clearly without
Pillow or a CJK font."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from pos_sim.receipt import WIDTHS, Copy, Cvm, ReceiptError, find_cjk_font, png_width, render_png
from pos_sim.receipt import image as image_module
from tests.pos.receipt_kit import sample

Image = pytest.importorskip("PIL.Image")


@pytest.mark.parametrize("width", WIDTHS)
def test_png_opens_with_the_printer_width_and_ink(width: int) -> None:
    png = render_png(sample(copy=Copy.MERCHANT, cvm=Cvm.SIGNATURE), width)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as im:
        assert im.size[0] == png_width(width) == (12 * width + 32) * 2
        assert im.size[1] > im.size[0]  # a slip is long
        grey = im.convert("L")
        dark = sum(grey.histogram()[:96])
        assert 0.02 < dark / (im.size[0] * im.size[1]) < 0.5  # ink on paper, not a blank or a black page
        assert grey.getpixel((1, 1)) == 255  # white paper


def test_scale_changes_the_size() -> None:
    with Image.open(io.BytesIO(render_png(sample(), 32, scale=1))) as im:
        assert im.size[0] == png_width(32, 1) == 416


def test_the_cjk_font_is_found() -> None:
    assert find_cjk_font().is_file()


def test_missing_pillow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ReceiptError, match=r"pip install cardkit\[image\]"):
        render_png(sample())


def test_missing_font_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(image_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(image_module, "KNOWN_FONTS", (str(tmp_path / "nope.ttc"),))
    with pytest.raises(ReceiptError, match="fonts-wqy-microhei"):
        render_png(sample())


def test_fc_match_fallback_font_is_not_taken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """fc-match answers DejaVu when the family is missing; that font has no Chinese."""
    fake = tmp_path / "fc-match"
    fake.write_text("#!/bin/sh\nprintf 'DejaVu Sans\\n/usr/share/fonts/dejavu.ttf'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(image_module.shutil, "which", lambda name: str(fake))
    monkeypatch.setattr(image_module, "KNOWN_FONTS", ())
    with pytest.raises(ReceiptError, match="fonts-wqy-microhei"):
        find_cjk_font()


def test_unloadable_font_is_a_receipt_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(ReceiptError, match="cannot load the font"):
        render_png(sample(), font=bad)
