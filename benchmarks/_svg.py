"""A horizontal bar chart as a standalone SVG file: benchmark pictures with no plotting dependency.

The drawing lives in :func:`cardkit.bench.charts.bar_chart`; this writes it to ``path``.
"""

from __future__ import annotations

from pathlib import Path

from cardkit.bench.charts import bar_chart as _bar_chart_svg


def bar_chart(path: Path, title: str, rows: list[tuple[str, float]], unit: str, *,
              log: bool = False, highlight: str = "cardkit") -> None:
    """Write ``rows`` (label, value) as bars; labels starting with ``highlight`` are drawn darker.

    ``log`` puts the bar lengths on a log10 scale, for values that span orders of magnitude.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_bar_chart_svg(title, rows, unit, log=log, highlight=highlight))
