"""`cardkit issuer`, `cardkit issue`, `cardkit issue-batch`: what an issuer types, as processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CARDKIT = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]
ZHANG = REPO / "docs" / "examples" / "holder-zhang-san.yaml"
SECRET = "cli passphrase"


def run(*args: str, secret: str | None = SECRET, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CARDKIT_ISSUER_SECRET"}
    if secret is not None:
        env["CARDKIT_ISSUER_SECRET"] = secret
    done = subprocess.run([*CARDKIT, *args], capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL, cwd=REPO)
    assert done.returncode == code, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "issuer"
    out = run("issuer", "init", str(root)).stdout
    assert "gp.kmc" in out and "capk.json" in out
    return root


def test_issue_one_card_then_refuse_the_same_holder(issuer: Path, tmp_path: Path) -> None:
    card = tmp_path / "zhang.card"
    done = run("issue", "--issuer", str(issuer), "--holder", str(ZHANG), "--out", str(card))
    assert "issued card" in done.stdout and card.exists() and (tmp_path / "zhang.pin").exists()
    info = run("card", "info", "--reader", f"virtual:{card}").stdout
    assert "issued: the card's own keys" in info and "PBOC DEBIT" in info
    # the issuer manages its card afterwards with the card's own keys, derived again from its master key
    listed = run("gp", "list", "--reader", f"virtual:{card}", "--issuer", str(issuer), "--json").stdout
    assert "A000000333010101" in listed and "SECURED" in listed and "PERSONALIZED" in listed
    again = run("issue", "--issuer", str(issuer), "--holder", str(ZHANG), "--out", str(tmp_path / "2.card"), code=1)
    assert again.stderr.strip() == "error: holder H000001 already has card " + done.stdout.split()[2] + \
        ": nothing issued"
    listed = run("issuer", "info", str(issuer)).stdout
    assert "cards 1" in listed and "emv.imk.ac" in listed


def test_one_line_errors(issuer: Path, tmp_path: Path) -> None:
    wrong = run("issue", "--issuer", str(issuer), "--holder", str(ZHANG), "--out", str(tmp_path / "x.card"),
                secret="not the passphrase", code=1)
    assert wrong.stderr.strip().splitlines() == [wrong.stderr.strip()] and "wrong passphrase" in wrong.stderr
    assert "not the passphrase" not in wrong.stderr
    no_secret = run("issuer", "info", str(issuer), secret=None, code=1)
    assert no_secret.stderr.strip() == "error: no keystore passphrase: set CARDKIT_ISSUER_SECRET or run in a terminal"
    bad = tmp_path / "bad.yaml"
    bad.write_text(ZHANG.read_text(encoding="utf-8").replace('citizen_id: "110105199001010010"',
                                                             'citizen_id: "110105199001010011"'), encoding="utf-8")
    refused = run("issue", "--issuer", str(issuer), "--holder", str(bad), "--out", str(tmp_path / "y.card"), code=1)
    line = refused.stderr.strip()
    number = next(i for i, text in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "citizen_id" in text)
    assert line == f"error: {bad} line {number}: holder.citizen_id: check character should be 0"
    assert not (tmp_path / "y.card").exists()
    twice = run("issuer", "init", str(issuer), code=1)
    assert "already an issuer directory" in twice.stderr


def test_a_batch_from_the_example_and_its_rerun(issuer: Path, tmp_path: Path) -> None:
    csv = tmp_path / "holders.csv"
    csv.write_text(run("issue-batch", "--example", "4", "--seed", "7").stdout, encoding="utf-8")
    assert csv.read_text(encoding="utf-8").startswith("holder_id,")
    # H000001 already has its card from the first test of this module: that row fails, the rest are issued
    out = tmp_path / "cards"
    first = run("issue-batch", str(csv), "--issuer", str(issuer), "--out", str(out), code=1)
    assert "issued now" in first.stdout and "already issued card" in first.stdout
    assert len(list(out.glob("*.card"))) == 3
    second = run("issue-batch", str(csv), "--issuer", str(issuer), "--out", str(out), code=1)
    assert "skipped (issued by an earlier run)" in second.stdout
    assert len(list(out.glob("*.card"))) == 3


def test_a_bad_csv_is_one_line_and_check_lists_every_row(issuer: Path, tmp_path: Path) -> None:
    csv = tmp_path / "holders.csv"
    lines = run("issue-batch", "--example", "6", "--seed", "8").stdout.splitlines()
    header = lines[0].split(",")
    for n in (2, 4):
        cells = lines[n].split(",")
        cells[header.index("birth_date")] = "1990-02-30"
        lines[n] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused = run("issue-batch", str(csv), "--issuer", str(issuer), "--out", str(tmp_path / "cards"), code=1)
    assert refused.stderr.strip() == (f"error: {csv} row 2 (line 3), column birth_date: 1990-02-30 is not a calendar "
                                      "date (and 1 more; --check lists them): nothing issued")
    assert not (tmp_path / "cards").exists()
    checked = run("issue-batch", str(csv), "--check", secret=None, code=1)
    assert [line.split(",")[0] for line in checked.stderr.strip().splitlines()] == [
        f"{csv} row 2 (line 3)", f"{csv} row 4 (line 5)"]
