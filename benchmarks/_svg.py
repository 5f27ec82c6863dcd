"""A horizontal bar chart as a standalone SVG: benchmark pictures with no plotting dependency."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

_BAR_H, _GAP, _LABEL_W, _PLOT_W, _VALUE_W, _TOP = 22, 8, 330, 380, 130, 44


def bar_chart(path: Path, title: str, rows: list[tuple[str, float]], unit: str, *,
              log: bool = False, highlight: str = "cardkit") -> None:
    """Write ``rows`` (label, value) as bars; labels starting with ``highlight`` are drawn darker.

    ``log`` puts the bar lengths on a log10 scale, for values that span orders of magnitude.
    """
    top = max(v for _, v in rows)
    low = min(v for _, v in rows)

    def length(v: float) -> float:
        if not log:
            return _PLOT_W * v / top
        span = math.log10(top) - math.log10(low) or 1.0
        return 12 + (_PLOT_W - 12) * (math.log10(v) - math.log10(low)) / span

    width = _LABEL_W + _PLOT_W + _VALUE_W
    height = _TOP + len(rows) * (_BAR_H + _GAP) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        y = _TOP + i * (_BAR_H + _GAP)
        colour = "#1f5f99" if label.startswith(highlight) else "#9aa7b4"
        bar = length(value)
        parts += [
            f'<text x="{_LABEL_W - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{_LABEL_W}" y="{y}" width="{bar:.1f}" height="{_BAR_H}" fill="{colour}"/>',
            f'<text x="{_LABEL_W + bar + 6:.1f}" y="{y + 16}">{value:,.1f} {escape(unit)}</text>',
        ]
    scale = "log scale" if log else "linear scale"
    parts.append(f'<text x="{_LABEL_W}" y="{height - 8}" fill="#666">{scale}; shorter is faster</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")
