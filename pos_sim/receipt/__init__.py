"""Receipts: the slip model, plain text, ESC/POS bytes for a thermal printer, and PNG pictures.

``receipt_from_entry`` builds a :class:`Receipt` from a journal entry; ``outcome_summary`` is the
JSON-able dict of an EMV outcome that the terminal journals and the receipt is built from.
"""

from pos_sim.receipt.escpos import render_escpos
from pos_sim.receipt.image import find_cjk_font, png_width, render_png
from pos_sim.receipt.layout import WIDTHS, display_width
from pos_sim.receipt.model import KIND_LABELS, Copy, Cvm, Receipt, ReceiptError, format_amount
from pos_sim.receipt.summary import Merchant, outcome_summary, receipt_from_entry
from pos_sim.receipt.text import render_text

__all__ = [
    "KIND_LABELS",
    "WIDTHS",
    "Copy",
    "Cvm",
    "Merchant",
    "Receipt",
    "ReceiptError",
    "display_width",
    "find_cjk_font",
    "format_amount",
    "outcome_summary",
    "png_width",
    "receipt_from_entry",
    "render_escpos",
    "render_png",
    "render_text",
]
