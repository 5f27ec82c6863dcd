"""Plain-text receipts: for a terminal, a log-free preview, a file, or a printer without ESC/POS."""

from __future__ import annotations

from pos_sim.receipt.layout import Align, Line, display_width, layout
from pos_sim.receipt.model import Receipt

__all__ = ["render_text", "text_of"]


def text_of(line: Line, width: int) -> str:
    """The line as it stands on paper ``width`` columns wide: centred lines padded on the left."""
    if line.align is Align.CENTRE:
        return " " * ((width - display_width(line.text)) // 2) + line.text
    return line.text


def render_text(receipt: Receipt, width: int = 32) -> str:
    """The receipt as plain text, one line per printed line, none wider than ``width`` columns
    (CJK characters count 2). Ends with a newline."""
    return "".join(text_of(line, width) + "\n" for line in layout(receipt, width))
