"""A demo card image per test (the bench through pcscd + vpcd lives in tests/readers, beside the
session's one pcscd)."""

from __future__ import annotations

from pathlib import Path

import pytest

from applets.runtime import save_card
from pos_sim.demo_card import make_demo_card

_IMAGE: list[bytes] = []


@pytest.fixture
def demo_image(tmp_path: Path) -> Path:
    """A fresh demo card image (made once per session, copied per test: making one takes 0.2 s)."""
    path = tmp_path / "demo.json"
    if not _IMAGE:
        save_card(make_demo_card(), path)
        _IMAGE.append(path.read_bytes())
    path.write_bytes(_IMAGE[0])
    return path
