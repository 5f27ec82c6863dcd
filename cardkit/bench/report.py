"""The bench run as one self-contained HTML file: verdicts, timings, charts and the air-interface table.

:func:`render_html` inlines its CSS and SVG and loads nothing from the network, so the file can be
mailed or attached to a CI job as it is. Every string that came from the card or the reader (reader
name, check messages, APDU names) is HTML-escaped.

Layout, top to bottom: header (reader, ATR, protocol, date), pass/fail badges, the latency histogram
and the waterfall of the slowest transaction, APDU and transaction statistics, the air-interface
prediction against the EMV and transit budgets (:mod:`cardkit.bench.air`), and the table of checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from html import escape

from cardkit.bench.air import EMV_BUDGET_S, TRANSIT_BUDGET_S, BudgetRow, budget_table, slowest_transactions
from cardkit.bench.charts import histogram, waterfall
from cardkit.bench.model import STATUSES, BenchRun, spread
from cardkit.readers.channel import INS_NAMES

__all__ = ["render_html"]

_STATUS_COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "skipped": "#757575", "error": "#ef6c00"}

_CSS = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1120px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 28px 0 8px; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 0; }
dl.meta dt { color: #666; } dl.meta dd { margin: 0; font-family: monospace; word-break: break-all; }
.badges { margin: 14px 0; } .badge { display: inline-block; padding: 4px 12px; border-radius: 12px;
  color: white; font-weight: bold; margin-right: 8px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: bold; } .ok { color: #2e7d32; } .over { color: #c62828; font-weight: bold; }
.charts svg { display: block; margin: 8px 0; max-width: 100%; height: auto; }
p.note { color: #666; font-size: 12px; max-width: 900px; }
"""


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: frozenset[int] = frozenset(),
           css: str = "") -> str:
    """An HTML table; ``rows`` cells are already-escaped HTML, ``numeric`` columns align right."""
    def cell(tag: str, i: int, text: str) -> str:
        return f'<{tag} class="num">{text}</{tag}>' if i in numeric else f"<{tag}>{text}</{tag}>"

    out = [f'<table class="{css}">' if css else "<table>",
           "<tr>" + "".join(cell("th", i, escape(h)) for i, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows]
    out.append("</table>")
    return "\n".join(out)


def _header(run: BenchRun) -> str:
    atr = " ".join(f"{b:02X}" for b in run.atr) or "(none)"
    return (f"<h1>cardkit bench report</h1>\n<dl class=\"meta\">"
            f"<dt>reader</dt><dd>{escape(run.reader)}</dd><dt>ATR</dt><dd>{escape(atr)}</dd>"
            f"<dt>protocol</dt><dd>{escape(run.protocol)}</dd>"
            f"<dt>started</dt><dd>{escape(run.started.isoformat(sep=' ', timespec='seconds'))}</dd></dl>")


def _badges(run: BenchRun) -> str:
    counts = run.counts()
    badges = [f'<span class="badge" style="background:{_STATUS_COLOURS[s]}">{counts[s]} {s}</span>'
              for s in STATUSES]
    verdict = "all checks passed" if run.ok else "some checks failed"
    return f'<div class="badges">{"".join(badges)} <strong>{verdict}</strong> ({len(run.checks)} checks)</div>'


def _charts(run: BenchRun) -> str:
    latencies = run.apdu_latencies()
    parts = ['<h2>Charts</h2>\n<div class="charts">']
    if latencies:
        parts.append(histogram(latencies, title=f"APDU latency, {len(latencies)} APDUs"))
    else:
        parts.append('<p class="note">No APDUs were recorded.</p>')
    slowest = slowest_transactions(run)
    if slowest:
        name, apdus = max(slowest.items(), key=lambda item: sum(a.seconds for a in item[1]))
        first = apdus[0].start
        shifted = [replace(a, start=a.start - first) for a in apdus]
        parts.append(waterfall(shifted, title=f"Slowest transaction: {name}"))
    parts.append("</div>")
    return "\n".join(parts)


def _stats(run: BenchRun) -> str:
    def row(name: str, values: list[float]) -> list[str]:
        s = spread(values)
        return [escape(name), str(s["count"]), _ms(s["median"]), _ms(s["p95"]), _ms(s["max"])]

    by_name: dict[str, list[float]] = {}
    for check in run.checks:
        for a in check.apdus:
            # by command (ISO name of the INS; the full name for proprietary ones like INITIALIZE FOR ...)
            by_name.setdefault(INS_NAMES.get(a.ins) or a.name, []).append(a.seconds)
    head = ("", "n", "median ms", "p95 ms", "max ms")
    num = frozenset({1, 2, 3, 4})
    apdu_rows = [row("all APDUs", run.apdu_latencies())] + [row(k, v) for k, v in sorted(by_name.items())]
    parts = ["<h2>APDU latency</h2>", _table(head, apdu_rows, numeric=num)]
    transactions = run.transactions()
    parts.append("<h2>Transactions</h2>")
    if transactions:
        parts.append(_table(("transaction", "n", "median ms", "p95 ms", "max ms"),
                            [row(k, v) for k, v in transactions.items()], numeric=num))
    else:
        parts.append('<p class="note">No passed timed transactions.</p>')
    return "\n".join(parts)


def _verdict(total: float, budget: float) -> str:
    return '<span class="ok">within</span>' if total <= budget else '<span class="over">over</span>'


def _air(rows: Sequence[BudgetRow]) -> str:
    parts = ["<h2>Air-interface prediction (ISO 14443-4 type A)</h2>"]
    if not rows:
        parts.append('<p class="note">No transaction to predict.</p>')
        return "\n".join(parts)
    body = [[escape(r.transaction), str(r.apdus), _ms(r.measured_s), str(r.prediction.bit_rate),
             _ms(r.prediction.activation_s), _ms(r.prediction.air_s + r.prediction.gap_s),
             _ms(r.prediction.card_s), str(r.prediction.frames), str(r.prediction.wtx),
             f"<strong>{_ms(r.prediction.total_s)}</strong>",
             _verdict(r.prediction.total_s, EMV_BUDGET_S), _verdict(r.prediction.total_s, TRANSIT_BUDGET_S)]
            for r in rows]
    head = ("transaction", "APDUs", "measured ms", "kbit/s", "activation ms", "air + FDT ms", "card ms",
            "frames", "WTX", "predicted ms", f"EMV {EMV_BUDGET_S * 1e3:.0f} ms",
            f"gate {TRANSIT_BUDGET_S * 1e3:.0f} ms")
    parts.append(_table(head, body, numeric=frozenset(range(1, 10)), css="air"))
    parts.append('<p class="note">The card\'s processing time is taken as the whole measured APDU time (an '
                 "upper bound: the recording's own transport is not subtracted); frames of at most 256 bytes, "
                 "FWI 4, one activation per transaction. The budgets are industry yardsticks, not specs.</p>")
    return "\n".join(parts)


def _checks(run: BenchRun) -> str:
    body = [[escape(c.suite), escape(c.name),
             f'<span class="status" style="color:{_STATUS_COLOURS[c.status]}">{c.status}</span>',
             _ms(c.seconds), str(len(c.apdus)), escape(c.message)] for c in run.checks]
    return "<h2>Checks</h2>\n" + _table(("suite", "check", "status", "ms", "APDUs", "message"), body,
                                         numeric=frozenset({3, 4}), css="checks")


def render_html(run: BenchRun) -> str:
    """Return the bench report of ``run`` as one self-contained HTML document.

    Args:
        run: the bench run.

    Returns:
        The HTML text (UTF-8 when written); no external resources are referenced.
    """
    title = escape(f"cardkit bench: {run.reader}")
    body = [_header(run), _badges(run), _charts(run), _stats(run), _air(budget_table(run)), _checks(run)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body)
            + "\n</body></html>\n")
