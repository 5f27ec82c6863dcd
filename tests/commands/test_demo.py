"""`cardkit demo` without the PC/SC stack: the same POS walk on the in-process reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import pos_sim.demo as demo
from pos_sim.journal import EntryStatus, Journal


def test_demo_without_pcscd_uses_the_in_process_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "vpcd_is_installed", lambda: False)
    console = Console(record=True, width=100)
    demo.run_demo(tmp_path, console)
    out = console.export_text()
    assert "in-process reader instead" in out and "approved online (response code 00)" in out
    assert "CARDHOLDER COPY" in out and (tmp_path / "demo.pcap").stat().st_size > 1000
    assert "出站 EXIT Dongzhimen" in out
    assert "chip genuine · data unaltered · issuer trusted" in out and "medical account 763.50 CNY" in out
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert [e.kind for e in journal.entries()] == ["sale", "sale", "medical"]
        assert all(e.status is EntryStatus.APPROVED for e in journal.entries())
    demo.run_demo(tmp_path, console)  # a second run starts a fresh batch in the same folder
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert len(journal.entries()) == 3
