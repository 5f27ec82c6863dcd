"""The receipt laid out as lines of a fixed paper width: one layout, three renderers.

Text, ESC/POS and PNG all print the same :class:`Line` objects, so what the test reads back from
the printer bytes is exactly the plain-text receipt, and the picture matches both.

Widths are display columns. A thermal printer in Chinese mode prints every non-ASCII character
as a full-width (24-dot) glyph, so every non-ASCII character counts 2 and ASCII counts 1. That is
exact for the printer and never narrower than a terminal shows it (East Asian Wide/Fullwidth
characters are 2 columns there too), so no line is ever wider than the paper.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from pos_sim.receipt.model import Copy, Cvm, Receipt, format_amount

__all__ = ["WIDTHS", "Align", "Line", "display_width", "layout", "wrap"]

#: Paper widths in columns: 58 mm (32), 80 mm printers with 72 mm print width (42) and 80 mm (48).
WIDTHS = (32, 42, 48)

_ACKNOWLEDGEMENT = ("本人确认以上交易，同意将其记入本卡账户",
                   "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES")
_ENTRY_MODES = {"chip": "插卡 CHIP", "contactless": "挥卡 CONTACTLESS"}


class Align(enum.Enum):
    LEFT = "left"
    CENTRE = "centre"


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line. ``text`` never exceeds the width; ``CENTRE`` lines are centred by the
    renderer (the text renderer pads with ``(width - display_width) // 2`` spaces)."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    tall: bool = False  # double height


def char_width(ch: str) -> int:
    return 1 if " " <= ch <= "~" else 2


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def _tokens(text: str) -> Iterator[str]:
    """Words (with their trailing spaces) for ASCII, single characters for everything else, so
    Latin text breaks between words and Chinese between any two characters."""
    word = ""
    for ch in text:
        if char_width(ch) == 2:
            if word:
                yield word
                word = ""
            yield ch
        elif ch == " ":
            word += ch
        else:
            if word.endswith(" "):
                yield word
                word = ""
            word += ch
    if word:
        yield word


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, breaking between words when it can and
    inside a word only when the word alone is wider than a line."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        if display_width(current + token.rstrip()) <= width:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ""
        token = token.lstrip()
        while display_width(token.rstrip()) > width:  # a word longer than the line: break it
            cut, used = 0, 0
            while used + char_width(token[cut]) <= width or cut == 0:  # cut == 0: a line holds one character
                used += char_width(token[cut])
                cut += 1
            lines.append(token[:cut])
            token = token[cut:]
        current = token
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def pair(label: str, value: str, width: int, *, bold: bool = False, tall: bool = False) -> list[Line]:
    """``label`` on the left and ``value`` right-aligned on one line, or, when they do not fit
    together, the label first and the value wrapped and right-aligned below it."""
    gap = width - display_width(label) - display_width(value)
    if gap >= 1 or not label and gap >= 0:
        return [Line(label + " " * gap + value, bold=bold, tall=tall)]
    lines = [Line(text, bold=bold) for text in wrap(label, width)] if label else []
    for text in wrap(value, width):
        lines.append(Line(" " * (width - display_width(text)) + text, bold=bold, tall=tall))
    return lines


def centred(text: str, width: int, *, bold: bool = False, tall: bool = False) -> list[Line]:
    return [Line(t, Align.CENTRE, bold, tall) for t in wrap(text, width)]


def layout(receipt: Receipt, width: int = 32) -> list[Line]:
    """The receipt as lines for paper ``width`` columns wide (32, 42 or 48).

    Raises:
        ValueError: a width that is not one of :data:`WIDTHS`.
    """
    if width not in WIDTHS:
        raise ValueError(f"receipt width is one of {WIDTHS} columns, not {width}")
    r = receipt
    rule = [Line("-" * width)]
    out = centred("签购单 SALES SLIP", width, bold=True, tall=True) + centred(r.copy.value, width)
    if r.reprint:
        out += centred("重打印 REPRINT", width, bold=True)
    out += rule
    out += pair("商户名称 MERCHANT NAME", r.merchant_name_zh, width)
    if r.merchant_name_en:
        out += pair("", r.merchant_name_en, width)
    out += pair("商户编号 MID", r.mid, width) + pair("终端编号 TID", r.tid, width)
    out += pair("操作员号 OPERATOR", r.operator, width) + rule
    out += pair("卡号 CARD NO.", r.pan_masked, width, bold=True)
    out += pair("输入方式 ENTRY", _ENTRY_MODES[r.entry_mode], width)
    if r.label:
        out += pair("应用标签 APP LABEL", r.label, width)
    out += pair("AID", r.aid, width)
    out += pair("交易类型 TYPE", r.kind_label, width, bold=True)
    out += pair("批次号 BATCH NO.", f"{r.batch:06d}", width) + pair("凭证号 TRACE NO.", r.trace, width)
    if r.rrn:
        out += pair("参考号 REF NO.", r.rrn, width)
    if r.auth_code:
        out += pair("授权码 AUTH NO.", r.auth_code, width)
    out += pair("日期时间 DATE/TIME", r.when.strftime("%Y-%m-%d %H:%M:%S"), width) + rule
    if r.kind != "balance":
        out += pair("金额 AMOUNT", f"{r.currency} {r.signed_amount}", width, bold=True, tall=True)
    if r.balance is not None:
        out += pair("余额 BALANCE", f"{r.currency} {format_amount(r.balance)}", width, bold=r.kind == "balance")
    if not r.approved:
        out += centred("交易失败", width, bold=True, tall=True)
        out += centred(f"DECLINED — {r.decline_reason}", width, bold=True)
        if r.response_code:
            out += pair("应答码 RESP CODE", r.response_code, width)
    out += rule
    out += _emv_lines(r, width)
    if r.cvm is Cvm.SIGNATURE:  # a signature line, only where there is something to sign for
        if r.approved:
            out += [Line("")] + [Line(t) for t in wrap(r.cvm.value, width)] + [Line(""), Line("_" * width)]
    else:
        out += [Line(t) for t in wrap(r.cvm.value, width)]
    if r.approved and r.copy is Copy.MERCHANT:
        out += [Line(t) for sentence in _ACKNOWLEDGEMENT for t in wrap(sentence, width)]
    return out + centred(r.copy.value, width) + [Line("")]


def _emv_lines(r: Receipt, width: int) -> list[Line]:
    out: list[Line] = []
    if r.cryptogram:
        out += pair(r.cryptogram_type, r.cryptogram, width)
    for name, value in (("TVR", r.tvr), ("TSI", r.tsi), ("ATC", r.atc)):
        if value:
            out += pair(name, value, width)
    return out
