"""Inline SVG charts with no plotting dependency: bar charts, a latency histogram, an APDU waterfall.

Every function returns one ``<svg>`` element as text, ready to write to a file or to inline in HTML.
Labels are XML-escaped here, so card-provided names (APDU names, reader names) are safe to pass.
``benchmarks/_svg.py`` draws the benchmark pictures in ``docs/img/`` with :func:`bar_chart`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cardkit.bench.model import ApduTiming

__all__ = ["BAR_COLOUR", "HISTOGRAM_COLOUR", "WATERFALL_COLOUR", "Bin", "bar_chart", "histogram",
           "histogram_bins", "waterfall"]

BAR_COLOUR, _MUTED = "#1f5f99", "#9aa7b4"
HISTOGRAM_COLOUR = "#2b7bba"
WATERFALL_COLOUR = "#d9822b"
_BAR_H, _GAP, _TOP = 22, 8, 44


@dataclass(frozen=True, slots=True)
class _HBar:
    label: str
    start: float  # px from the plot's left edge
    length: float  # px
    text: str
    colour: str
    css: str = ""
    tip: str = ""


def _hbars(title: str, bars: Sequence[_HBar], footer: str, *, label_w: int, plot_w: int, value_w: int,
           axis: Sequence[tuple[float, str]] = ()) -> str:
    """Labelled horizontal bars, one row each, with an optional x axis of (px, label) ticks."""
    width = label_w + plot_w + value_w
    axis_h = 22 if axis else 0
    height = _TOP + len(bars) * (_BAR_H + _GAP) + axis_h + 24
    parts = [_open(width, height), f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(title)}</text>']
    for i, bar in enumerate(bars):
        y = _TOP + i * (_BAR_H + _GAP)
        css = f' class="{bar.css}"' if bar.css else ""
        tip = f"<title>{escape(bar.tip)}</title>" if bar.tip else ""
        x = label_w + bar.start
        parts += [
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(bar.label)}</text>',
            f'<rect{css} x="{x:g}" y="{y}" width="{bar.length:.1f}" height="{_BAR_H}" fill="{bar.colour}"'
            + (f">{tip}</rect>" if tip else "/>"),
            f'<text x="{x + bar.length + 6:.1f}" y="{y + 16}">{escape(bar.text)}</text>',
        ]
    if axis:
        y = _TOP + len(bars) * (_BAR_H + _GAP)
        parts.append(f'<line x1="{label_w}" y1="{y}" x2="{label_w + plot_w}" y2="{y}" stroke="#444"/>')
        for px, text in axis:
            parts.append(f'<line x1="{label_w + px:.1f}" y1="{y}" x2="{label_w + px:.1f}" y2="{y + 4}" '
                         f'stroke="#444"/><text x="{label_w + px:.1f}" y="{y + 17}" text-anchor="middle" '
                         f'font-size="11">{escape(text)}</text>')
    parts.append(f'<text x="{label_w}" y="{height - 8}" fill="#666">{escape(footer)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _open(width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>')


def bar_chart(title: str, rows: Sequence[tuple[str, float]], unit: str, *, log: bool = False,
              highlight: str = "cardkit") -> str:
    """Return ``rows`` (label, value) as horizontal bars; labels starting with ``highlight`` are darker.

    ``log`` puts the bar lengths on a log10 scale, for values that span orders of magnitude.
    """
    plot_w = 380
    top = max(v for _, v in rows)
    low = min(v for _, v in rows)

    def length(v: float) -> float:
        if not log:
            return plot_w * v / top
        span = math.log10(top) - math.log10(low) or 1.0
        return 12 + (plot_w - 12) * (math.log10(v) - math.log10(low)) / span

    bars = [_HBar(label, 0.0, length(value), f"{value:,.1f} {unit}",
                  BAR_COLOUR if label.startswith(highlight) else _MUTED) for label, value in rows]
    footer = f"{'log' if log else 'linear'} scale; shorter is faster"
    return _hbars(title, bars, footer, label_w=330, plot_w=plot_w, value_w=130)


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2 or 5 × 10^k)."""
    if top <= 0:
        return [0.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step + 1e-9) + 1)]


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 10 else f"{ms:,.0f}"


def waterfall(apdus: Sequence[ApduTiming], *, title: str) -> str:
    """Return one transaction's APDUs as a waterfall: a bar from ``start`` to ``start + seconds`` each.

    Bars are labelled with the APDU name and their duration; the x axis is milliseconds from the
    start of the check.
    """
    plot_w = 560
    end = max((a.start + a.seconds for a in apdus), default=0.0)
    ticks = _ticks(end * 1e3)
    scale = plot_w / (ticks[-1] / 1e3) if ticks[-1] > 0 else 0.0
    bars = [_HBar(a.name, a.start * scale, max(1.0, a.seconds * scale), f"{_ms(a.seconds)} ms",
                  WATERFALL_COLOUR, css="wf-bar", tip=f"{a.name}: +{_ms(a.start)} ms, {_ms(a.seconds)} ms, "
                  f"{a.command} B out, {a.response} B back, SW {a.sw:04X}") for a in apdus]
    axis = [(t / ticks[-1] * plot_w if ticks[-1] else 0.0, f"{t:g}") for t in ticks]
    footer = f"ms since the transaction's first command; {len(apdus)} APDUs, {_ms(end)} ms in all"
    # wide enough for the longest name (~7 px a character at this font size): a long AID stays whole
    label_w = max(160, 7 * max((len(a.name) for a in apdus), default=0) + 24)
    return _hbars(title, bars, footer, label_w=label_w, plot_w=plot_w, value_w=110, axis=axis)


@dataclass(frozen=True, slots=True)
class Bin:
    """One histogram bin: values in [low, high) seconds (the last bin includes ``high``)."""

    low: float
    high: float
    count: int


def histogram_bins(values: Sequence[float], *, bins: int | None = None, log: bool | None = None) -> list[Bin]:
    """Bin ``values`` (seconds): ``bins`` defaults to √n within 5…20; ``log`` defaults to max/min > 20.

    Log bins have equal widths in log10; values ≤ 0 fall in the first bin.
    """
    if not values:
        return []
    count = bins or min(20, max(5, math.ceil(math.sqrt(len(values)))))
    low, high = min(values), max(values)
    if log is None:
        log = low > 0 and high / low > 20
    if high <= low:
        low, high = low * 0.9, (high * 1.1 or 1e-6)
    if log and low > 0:
        lo, hi = math.log10(low), math.log10(high)
        edges = [10 ** (lo + (hi - lo) * i / count) for i in range(count + 1)]
    else:
        edges = [low + (high - low) * i / count for i in range(count + 1)]
    tallies = [0] * count
    for v in values:
        i = next((k for k in range(count) if v < edges[k + 1]), count - 1)
        tallies[i] += 1
    return [Bin(edges[i], edges[i + 1], tallies[i]) for i in range(count)]


def histogram(values: Sequence[float], *, title: str, bins: int | None = None, log: bool | None = None) -> str:
    """Return a latency histogram of ``values`` (seconds): one vertical bar per bin, counts on y, ms on x.

    See :func:`histogram_bins` for the binning; the x axis labels every bin edge in milliseconds.
    """
    plot_w, plot_h, left, top = 720, 240, 56, 44
    width, height = left + plot_w + 30, top + plot_h + 70
    table = histogram_bins(values, bins=bins, log=log)
    parts = [_open(width, height), f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(title)}</text>']
    peak = max((b.count for b in table), default=0)
    yticks = _ticks(peak, 4) if peak else [0.0]
    y_top = yticks[-1] or 1.0
    base = top + plot_h
    for t in yticks:
        y = base - plot_h * t / y_top
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{t:g}</text>')
    slot = plot_w / max(1, len(table))
    for i, b in enumerate(table):
        h = plot_h * b.count / y_top
        parts.append(f'<rect class="hist-bar" x="{left + i * slot + 1:.1f}" y="{base - h:.1f}" '
                     f'width="{slot - 2:.1f}" height="{h:.1f}" fill="{HISTOGRAM_COLOUR}">'
                     f"<title>{_ms(b.low)}–{_ms(b.high)} ms: {b.count}</title></rect>")
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#444"/>')
    step = max(1, math.ceil(len(table) / 10))
    for i in range(0, len(table) + 1, step):
        edge = table[i].low if i < len(table) else table[-1].high
        x = left + i * slot
        parts.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="#444"/>'
                     f'<text x="{x:.1f}" y="{base + 17}" text-anchor="middle" font-size="11">{_ms(edge)}</text>')
    scale = "log bins" if table and log is not False and _is_log(table) else "linear bins"
    parts += [f'<text x="{left + plot_w / 2:.0f}" y="{base + 38}" text-anchor="middle">APDU latency (ms), '
              f"{scale}</text>",
              f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
              f'text-anchor="middle">APDUs</text>',
              "</svg>"]
    return "\n".join(parts) + "\n"


def _is_log(table: Sequence[Bin]) -> bool:
    first, last = table[0], table[-1]
    return not math.isclose(first.high - first.low, last.high - last.low, rel_tol=1e-6)
