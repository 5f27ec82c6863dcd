"""Batch issuance: every holder gets one card, a rerun resumes without a second card or a reused
number, failures are reported per row, and the local process pool gives the same cards."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from applets.runtime import load_card
from cardkit.errors import ProfileError
from cardkit.issuer.batch import BatchResult, run_batch
from cardkit.issuer.holder_csv import write_holders
from cardkit.issuer.holder_example import example_holders
from cardkit.issuer.issuer import Issuer

from .conftest import SECRET


@pytest.fixture
def file_issuer_dir(tmp_path: Path) -> Path:
    """A fresh issuer per test: the synthetic holders of every test are H000001, H000002 ..."""
    from cardkit.issuer.issuer import init_issuer

    init_issuer(tmp_path / "issuer", secret=SECRET).close()
    return tmp_path / "issuer"


def holders_csv(path: Path, n: int, seed: int = 1) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        write_holders(example_holders(n, seed=seed), f)
    return path


def log_rows(out: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(out / "issuance.db")
    rows = db.execute("SELECT holder_id, status, numbers FROM card ORDER BY row").fetchall()
    db.close()
    return [(str(h), str(s), str(n)) for h, s, n in rows]


def all_numbers(out: Path) -> list[str]:
    return [v for _, _, n in log_rows(out) for v in json.loads(n).values()]


class Interrupt(Exception):
    pass


def test_a_batch_issues_every_holder_and_a_rerun_issues_nothing(file_issuer_dir: Path, tmp_path: Path) -> None:
    csv = holders_csv(tmp_path / "holders.csv", 5)
    out = tmp_path / "cards"
    with Issuer.open(file_issuer_dir, SECRET) as issuer:
        seen: list[BatchResult | None] = []
        summary = run_batch(csv, issuer, file_issuer_dir, out, secret=SECRET, on_result=seen.append)
        assert (summary.issued, summary.failed, summary.skipped) == (5, 0, 0) and len(seen) == 5
        assert {"rsa keys", "personalize (APDUs)", "save"} <= set(summary.phase_seconds)
        again = run_batch(csv, issuer, file_issuer_dir, out, secret=SECRET)
        assert (again.issued, again.skipped) == (0, 5)
    images = sorted(out.glob("*.card"))
    assert len(images) == 5 and all(load_card(p) for p in images)
    assert len(list(out.glob("*.pin"))) == 5
    assert [s for _, s, _ in log_rows(out)] == ["issued"] * 5
    lines = [json.loads(line) for line in (out / "issuance.log").read_text(encoding="utf-8").splitlines()]
    assert [line["status"] for line in lines] == ["issued"] * 5 and lines[0]["row"] == 1
    assert not any(pan in (out / "issuance.log").read_text() for pan in all_numbers(out) if len(pan) == 19
                   and pan.startswith("622848"))  # the human log carries card serials, never a PAN
    numbers = all_numbers(out)
    assert len(numbers) == len(set(numbers))  # no PAN, serial or document number twice


def test_an_interrupted_batch_resumes_with_the_same_numbers(file_issuer_dir: Path, tmp_path: Path) -> None:
    csv = holders_csv(tmp_path / "holders.csv", 6, seed=2)
    out = tmp_path / "cards"
    with Issuer.open(file_issuer_dir, SECRET) as issuer:
        count = 0

        def stop_after_three(result: BatchResult | None) -> None:
            nonlocal count
            count += 1
            if count == 3:
                raise Interrupt

        with pytest.raises(Interrupt):
            run_batch(csv, issuer, file_issuer_dir, out, secret=SECRET, on_result=stop_after_three)
        first = {h: n for h, _, n in log_rows(out)}
        assert len(first) == 3
        second, third = list(first)[1:3]
        db = sqlite3.connect(out / "issuance.db")
        with db:  # a crash after the worker's files but before the log: the card exists, unrecorded
            db.execute("UPDATE card SET status = 'handed out' WHERE holder_id = ?", (third,))
            # a crash in the middle of a card: no image yet
            db.execute("UPDATE card SET status = 'handed out' WHERE holder_id = ?", (second,))
        db.close()
        (out / f"{second}.card").unlink()
        summary = run_batch(csv, issuer, file_issuer_dir, out, secret=SECRET)
    assert (summary.skipped, summary.recovered, summary.issued) == (1, 1, 4)
    rows = {h: n for h, _, n in log_rows(out)}
    assert all(rows[h] == n for h, n in first.items())  # resumed holders kept their numbers
    assert len(rows) == 6 and [s for _, s, _ in log_rows(out)] == ["issued"] * 6
    assert (out / f"{second}.card").exists()
    numbers = all_numbers(out)
    assert len(numbers) == len(set(numbers))


def test_a_bad_row_stops_the_batch_naming_it_and_keeps_the_rows_before(file_issuer_dir: Path,
                                                                         tmp_path: Path) -> None:
    csv = holders_csv(tmp_path / "holders.csv", 4, seed=3)
    lines = csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("birth_date")] = "1990-02-30"
    lines[3] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "cards"
    with Issuer.open(file_issuer_dir, SECRET) as issuer, pytest.raises(ProfileError, match="line 4"):
        run_batch(csv, issuer, file_issuer_dir, out, secret=SECRET)
    assert [s for _, s, _ in log_rows(out)] == ["issued", "issued"]


def test_a_holder_issued_in_another_batch_is_a_failed_row(file_issuer_dir: Path, tmp_path: Path) -> None:
    csv = holders_csv(tmp_path / "holders.csv", 2, seed=4)
    with Issuer.open(file_issuer_dir, SECRET) as issuer:
        run_batch(csv, issuer, file_issuer_dir, tmp_path / "a", secret=SECRET)
        summary = run_batch(csv, issuer, file_issuer_dir, tmp_path / "b", secret=SECRET)
    assert summary.failed == 2 and "already issued card" in summary.failures[0][2]
    assert not list((tmp_path / "b").glob("*.card"))


def test_two_worker_processes_issue_the_same_kind_of_cards(file_issuer_dir: Path, tmp_path: Path) -> None:
    csv = holders_csv(tmp_path / "holders.csv", 4, seed=5)
    out = tmp_path / "cards"
    with Issuer.open(file_issuer_dir, SECRET) as issuer:
        summary = run_batch(csv, issuer, file_issuer_dir, out, workers=2, secret=SECRET)
    assert summary.issued == 4 and summary.failed == 0
    assert len([load_card(p) for p in out.glob("*.card")]) == 4
