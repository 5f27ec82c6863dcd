"""The report in headless Chromium: the screenshot shows the histogram above the waterfall, both drawn.

Skips when Chromium is missing — and fails when ``CI`` is set (``make test`` installs it), as the
PC/SC end-to-end tests do (tests/readers/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cardkit.bench.charts import HISTOGRAM_COLOUR, WATERFALL_COLOUR
from cardkit.bench.model import BenchRun
from cardkit.bench.report import render_html

Image = pytest.importorskip("PIL.Image")

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        message = "chromium not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the report screenshot test: {message}")
        pytest.skip(message)
    return found


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _pixels(image: object, colour: str, tolerance: int = 6) -> list[tuple[int, int]]:
    want = _rgb(colour)
    rgb = image.convert("RGB")  # type: ignore[attr-defined]
    width, height = rgb.size
    data = rgb.load()
    return [(x, y) for y in range(0, height, 2) for x in range(0, width, 2)
            if all(abs(c - w) <= tolerance for c, w in zip(data[x, y], want, strict=True))]


def screenshot(html: Path, png: Path, profile: Path) -> None:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,1600",
               html.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"chromium wrote no screenshot (rc {done.returncode}): {done.stderr[-2000:]}"


def test_screenshot_shows_the_charts(run: BenchRun, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(render_html(run), encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(html, png, tmp_path / "profile")
    with Image.open(png) as image:
        assert image.size == (1200, 1600)
        bars = _pixels(image, HISTOGRAM_COLOUR)
        steps = _pixels(image, WATERFALL_COLOUR)
    # sampled every 2nd pixel both ways: a bar of 30 x 20 px is ~150 samples
    assert len(bars) > 1000, "histogram bars missing from the screenshot"
    assert len(steps) > 300, "waterfall bars missing from the screenshot"
    assert max(y for _, y in bars) < min(y for _, y in steps), "the histogram is drawn above the waterfall"
    xs = sorted({x // 40 for x, _ in bars})
    assert len(xs) >= 5, "histogram bars span the chart, not one spot"
    starts = {min(x for x, y in steps if y // 30 == row) for row in {y // 30 for _, y in steps}}
    assert len(starts) >= 4, "waterfall bars start at different times"
    if os.environ.get("CARDKIT_KEEP_SCREENSHOT"):
        png.replace(os.environ["CARDKIT_KEEP_SCREENSHOT"])
