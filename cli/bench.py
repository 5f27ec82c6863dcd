"""``cardkit bench run``: run a bench suite against a card, show the summary, write JUnit/HTML/JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from cli._app import cli, console, errors

_SUITES = ("smoke", "emv", "transit", "eid", "full", "tearing")
_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow", "error": "magenta"}


@cli.group("bench")
def bench_group() -> None:
    """Test and time a card in any reader: suites of checks, JUnit XML, HTML, pcap."""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _table(summary: dict[str, Any]) -> Table:
    table = Table(title="bench summary")
    table.add_column("what")
    table.add_column("n", justify="right")
    table.add_column("median ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("max ms", justify="right")
    rows = [("per APDU", summary["apdu"])] + [(f"transaction {k}", v) for k, v in summary["transactions"].items()]
    for name, row in rows:
        table.add_row(name, str(row["count"]), _ms(row["median"]), _ms(row["p95"]), _ms(row["max"]))
    return table


@bench_group.command("run")
@click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
@click.option("--suite", type=click.Choice(_SUITES), default="smoke", show_default=True, help="The checks to run.")
@click.option("--repeat", type=click.IntRange(min=1), default=10, show_default=True,
              help="Timed transactions per timing check.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report here.")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every exchange to this pcap file (secrets masked).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON instead of the tables.")
def bench_run(reader_name: str, suite: str, repeat: int, junit_path: Path | None, html_path: Path | None,
              trace_path: Path | None, as_json: bool) -> None:
    """Run SUITE against the card in READER; exit 1 when a check failed or erred."""
    from cardkit.bench import run_bench, to_junit

    run = run_bench(reader_name, suite=suite, repeat=repeat, trace=trace_path,
                    progress=not as_json and errors.is_terminal)
    if junit_path is not None:
        junit_path.write_text(to_junit(run), encoding="utf-8")
    if html_path is not None:
        try:
            from cardkit.bench.report import render_html
        except ImportError:
            errors.print("--html: the HTML report is not available in this cardkit")
        else:
            html_path.write_text(render_html(run), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(run.to_json(), indent=1))
    else:
        checks = Table(title=f"{reader_name} — {suite}")
        for column in ("suite", "check", "status", "ms", "APDUs", "message"):
            checks.add_column(column)
        for c in run.checks:
            if c.transaction is None or c.status != "passed":
                checks.add_row(c.suite, c.name, f"[{_STYLE[c.status]}]{c.status}[/]", _ms(c.seconds),
                               str(len(c.apdus)), c.message)
        console.print(checks)
        summary = run.summary()
        counts = summary["checks"]
        console.print(" ".join(f"[{_STYLE[s]}]{counts[s]} {s}[/]" for s in _STYLE) + f" of {counts['total']}")
        console.print(_table(summary))
    if not run.ok:
        raise click.exceptions.Exit(1)
