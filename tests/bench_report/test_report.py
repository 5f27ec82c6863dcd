"""The HTML report: it parses, holds both charts (a bar per bin, a bar per APDU) and escapes card strings."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from cardkit.bench.air import slowest_transactions
from cardkit.bench.charts import histogram_bins
from cardkit.bench.model import BenchRun
from cardkit.bench.report import render_html

from .conftest import HOSTILE

_VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "line"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.unbalanced: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.unbalanced.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def rects(self, css: str) -> int:
        return sum(1 for tag, attrs in self.tags if tag == "rect" and attrs.get("class") == css)


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    assert not parser.unbalanced and not parser.stack, (parser.unbalanced, parser.stack)
    return parser


def test_report_parses_and_has_the_sections(run: BenchRun) -> None:
    page = parse(render_html(run))
    text = " ".join(page.text)
    for heading in ("Charts", "APDU latency", "Transactions", "Air-interface prediction", "Checks"):
        assert heading in text
    assert "ACS ACR122U 00 00" in text and "3B 8F 80 01" in text and "T=CL" in text and "2026-11-25" in text
    assert "8 passed" in text and "1 failed" in text and "1 skipped" in text
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 2


def test_one_histogram_bar_per_bin(run: BenchRun) -> None:
    page = parse(render_html(run))
    bins = histogram_bins(run.apdu_latencies())
    assert len(bins) >= 5 and sum(b.count for b in bins) == len(run.apdu_latencies())
    assert page.rects("hist-bar") == len(bins)


def test_one_waterfall_bar_per_apdu_of_the_slowest_transaction(run: BenchRun) -> None:
    page = parse(render_html(run))
    slowest = slowest_transactions(run)["emv-contactless"]
    assert page.rects("wf-bar") == len(slowest) == 7
    assert "Slowest transaction: emv-contactless" in " ".join(page.text)


def test_air_table_has_a_row_per_transaction_and_rate(run: BenchRun) -> None:
    html = render_html(run)
    table = html[html.index('<table class="air">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 1 + 2 * 4


def test_card_strings_are_escaped(hostile_run: BenchRun) -> None:
    emv = hostile_run.checks[1]  # the slowest purchase: its APDU names reach the waterfall
    named = replace(emv, apdus=(replace(emv.apdus[0], name=HOSTILE),) + emv.apdus[1:], message=HOSTILE)
    run = replace(hostile_run, checks=(hostile_run.checks[0], named) + hostile_run.checks[2:])
    html = render_html(run)
    page = parse(html)
    assert not [tag for tag, _ in page.tags if tag in ("script", "img")]
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert HOSTILE in "".join(page.text)  # shown as text, in the header, the table and the waterfall


def test_self_contained(run: BenchRun) -> None:
    page = parse(render_html(run))
    links = [(tag, attrs) for tag, attrs in page.tags if {"src", "href"} & attrs.keys()]
    assert not links
    assert all(attrs.get("xmlns") == "http://www.w3.org/2000/svg" for tag, attrs in page.tags if tag == "svg")


def test_empty_run_renders() -> None:
    from datetime import UTC, datetime

    run = BenchRun("r", b"", "T=1", datetime(2026, 1, 1, tzinfo=UTC), ())
    text = " ".join(parse(render_html(run)).text)
    assert "No APDUs were recorded" in text and "No transaction to predict" in text
