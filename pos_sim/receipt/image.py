"""PNG receipts that look like the thermal slip: for a demo, a web page or a bug report.

The picture is the printer's own geometry: every column is 12 dots wide and every line 24 dots
high (a 12x24 font, 24x24 for Chinese), 32 columns on 384 dots of 58 mm paper, 42 and 48 columns
on 80 mm paper; bold is a thicker stroke and double height stretches the line, as the print head
does. Characters are placed cell by cell, so the columns line up exactly as in
:func:`render_text`.

Pillow is an optional dependency (``pip install cardkit[image]``), and Chinese needs a CJK font:
WenQuanYi Micro Hei (Debian/Ubuntu ``fonts-wqy-microhei``), found through fontconfig or at the
usual paths.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from pos_sim.receipt.layout import Align, char_width, display_width, layout
from pos_sim.receipt.model import Receipt, ReceiptError

if TYPE_CHECKING:
    from PIL import ImageFont

__all__ = ["find_cjk_font", "png_width", "render_png"]

log = logging.getLogger(__name__)

FONT_FAMILY = "WenQuanYi Micro Hei"
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian, Ubuntu: fonts-wqy-microhei
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora: wqy-microhei-fonts
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",  # Arch
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CELL_W, CELL_H = 12, 24  # dots per column and per line (ESC/POS font A)
MARGIN = 16  # dots of blank paper on each side
PAPER = (255, 255, 255)
INK = (24, 24, 28)
_EDGE = 8  # height of the torn zigzag edge, dots


def png_width(width: int, scale: int = 2) -> int:
    """The width in pixels of a ``width``-column receipt drawn at ``scale`` pixels per dot."""
    return (width * CELL_W + 2 * MARGIN) * scale


def find_cjk_font() -> Path:
    """The CJK font file: what fontconfig calls WenQuanYi Micro Hei, else a known path.

    Raises:
        ReceiptError: no CJK font on this machine (names the package to install).
    """
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run([fc_match, "-f", "%{family}\n%{file}", FONT_FAMILY], capture_output=True,
                                   text=True, timeout=10, check=False).stdout.split("\n")
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("fc-match failed: %s", exc)
            found = []
        # fc-match always answers with *some* font: only take it when it is the family asked for
        if len(found) == 2 and "WenQuanYi" in found[0] and Path(found[1]).is_file():
            return Path(found[1])
    for candidate in KNOWN_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ReceiptError("PNG receipts need a CJK font and none was found: install fonts-wqy-microhei "
                       "(sudo apt-get install fonts-wqy-microhei)")


def _load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path``; in a collection, its monospaced face when it has one (Micro Hei Mono
    is face 1 of wqy-microhei.ttc), since a receipt is set in fixed columns."""
    from PIL import ImageFont

    try:
        face = ImageFont.truetype(str(path), size)
        if path.suffix.lower() == ".ttc":
            try:
                mono = ImageFont.truetype(str(path), size, index=1)
            except OSError:
                return face
            if "Mono" in (mono.getname()[0] or ""):
                return mono
        return face
    except OSError as exc:
        raise ReceiptError(f"cannot load the font {path}: {exc}") from None


def render_png(receipt: Receipt, width: int = 32, *, scale: int = 2, font: str | Path | None = None) -> bytes:
    """The receipt as a PNG: white paper, the lines of :func:`render_text`, a torn bottom edge.

    Args:
        width: columns (32, 42 or 48); the image is :func:`png_width` pixels wide.
        scale: pixels per printer dot (2 gives a crisp picture on a screen).
        font: a CJK font file; default :func:`find_cjk_font`.

    Raises:
        ReceiptError: Pillow is not installed, or no CJK font was found.
    """
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        raise ReceiptError("PNG receipts need Pillow: pip install cardkit[image]") from None
    lines = layout(receipt, width)
    face = _load_font(Path(font) if font else find_cjk_font(), 21 * scale)
    cell_w, cell_h, margin = CELL_W * scale, CELL_H * scale, MARGIN * scale
    height = margin + sum(cell_h * (2 if line.tall else 1) for line in lines) + margin + _EDGE * scale
    image = Image.new("RGB", (png_width(width, scale), height), PAPER)
    y = margin
    for line in lines:
        strip = Image.new("RGB", (width * cell_w, cell_h), PAPER)
        draw = ImageDraw.Draw(strip)
        col = (width - display_width(line.text)) // 2 if line.align is Align.CENTRE else 0
        for ch in line.text:
            cells = char_width(ch)
            if ch != " ":
                x = col * cell_w + cells * cell_w / 2
                draw.text((x, cell_h / 2), ch, font=face, fill=INK, anchor="mm",
                          stroke_width=max(1, scale // 2) if line.bold else 0, stroke_fill=INK)
            col += cells
        if line.tall:
            strip = strip.resize((strip.width, cell_h * 2), Image.Resampling.BICUBIC)
        image.paste(strip, (margin, y))
        y += strip.height
    draw = ImageDraw.Draw(image)
    tooth = _EDGE * scale
    points = [(x, height - (tooth if (x // tooth) % 2 else 0)) for x in range(0, image.width + tooth, tooth)]
    draw.polygon([(0, height), *points, (image.width, height)], fill=(236, 236, 236))
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)  # thermal paper is grey scale: half the bytes
    return out.getvalue()
