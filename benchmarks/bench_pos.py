"""Tap to receipt: one POS sale, card, host, journal and receipt included, in process and via pcscd.

Usage: ``.venv/bin/python benchmarks/bench_pos.py [--n 100] [--svg OUT]``

The card is the demo citizen card, the terminal ``pos_sim.terminal.Terminal`` with its journal on
disk (SQLite WAL, synchronous=FULL: each sale commits twice, PENDING and the outcome), the host the
embedded ``pos_sim.host.Host`` on its own SQLite file, reached through the ISO 8583 codec. One
sale = ``Terminal.sale`` + rendering the customer receipt (32 columns) + marking it printed. Two
sales: a contactless tap paid from electronic cash (offline, no host message) and a contact sale
with PIN that goes online (ARQC check, ARPC, second GENERATE AC). The baseline in the same run is
the bare EMV kernel on the same card with the in-process issuer stand-in: the ratio is what the
POS around it (journal, ISO 8583, host ledger, receipt) costs. The issue's budget: under two
seconds from tap to paper.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _served import pcscd_running, served
from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from applets.runtime import save_card
from cardkit.crypto.oda import CapkStore
from cardkit.emv import Kernel, TerminalConfig
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.readers import CardChannel, VirtualReader
from cardkit.readers.base import Connection
from pos_sim.config import PosConfig
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.host import Host, InProcessHostLink
from pos_sim.issuer_standin import IssuerStandIn
from pos_sim.journal import Journal
from pos_sim.receipt import render_text
from pos_sim.terminal import Terminal

WARM_UP = 5


def _median(samples: list[float]) -> float:
    return statistics.median(samples[WARM_UP:])


def pos_sales(conn: Connection, n: int, folder: Path) -> dict[str, float]:
    """Median ms from tap to a printed receipt, per sale kind."""
    config = PosConfig.demo(journal=folder / "journal.sqlite")
    out: dict[str, float] = {}
    with Host(folder / "host.sqlite") as host, Journal(config.journal) as journal:
        host.seed_demo_accounts()
        terminal = Terminal(config, journal, InProcessHostLink(host), pin_entry=lambda _r: DEMO_PIN)
        channel = CardChannel(conn)
        for name, amount, contactless in (("contactless", 1, True), ("contact", 1250, False)):
            samples = []
            for _ in range(n + WARM_UP):
                start = time.perf_counter()
                result = terminal.sale(channel, amount, contactless=contactless)
                render_text(terminal.receipt(result.entry), width=32)
                journal.mark_printed(result.entry.id)
                samples.append((time.perf_counter() - start) * 1e3)
                assert result.approved, result.reason
            out[name] = _median(samples)
    return out


def kernel_only(conn: Connection, n: int) -> dict[str, float]:
    """The baseline: the same two transactions on the bare kernel with the issuer stand-in."""
    store = CapkStore()
    store.add(demo_capk())
    kernel = Kernel(CardChannel(conn), TerminalConfig(capk=store), pin_entry=lambda _r: DEMO_PIN,
                    online=IssuerStandIn(demo_issuer()).online)
    out: dict[str, float] = {}
    for name, amount, contactless in (("contactless", 1, True), ("contact", 1250, False)):
        samples = []
        for _ in range(n + WARM_UP):
            start = time.perf_counter()
            assert kernel.run(amount, contactless=contactless).approved
            samples.append((time.perf_counter() - start) * 1e3)
        out[name] = _median(samples)
    return out


def in_process(n: int) -> tuple[dict[str, float], dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        with VirtualReader(make_demo_card()).connect() as conn:
            pos = pos_sales(conn, n, Path(tmp))
        with VirtualReader(make_demo_card()).connect() as conn:
            base = kernel_only(conn, n)
    return pos, base


def through_pcscd(n: int) -> dict[str, float]:
    with pcscd_running() as folder:
        image = folder / "demo.card"
        save_card(make_demo_card(), image)
        with served(image) as conn:
            return pos_sales(conn, n, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="sales per measurement")
    parser.add_argument("--svg", metavar="OUT", help="also draw the medians as an SVG bar chart here")
    args = parser.parse_args()

    local, base = in_process(args.n)
    remote = through_pcscd(args.n)
    for name in ("contactless", "contact"):
        print(f"{name:<12} tap to receipt: in process {local[name]:6.2f} ms, via pcscd + vpcd {remote[name]:6.2f} ms; "
              f"bare kernel {base[name]:6.2f} ms (POS : kernel {local[name] / base[name]:.2f}x)")
    print(f"budget 2000 ms: the slowest sale uses {max(remote.values()) / 2000:.1%} of it")
    if args.svg:
        rows = [
            ("bare kernel, contactless, in process (baseline)", base["contactless"]),
            ("POS sale, contactless, in process", local["contactless"]),
            ("POS sale, contactless, via pcscd + vpcd", remote["contactless"]),
            ("bare kernel, contact online, in process (baseline)", base["contact"]),
            ("POS sale, contact online with PIN, in process", local["contact"]),
            ("POS sale, contact online with PIN, via pcscd + vpcd", remote["contact"]),
            ("tap-to-paper budget", 2000.0),
        ]
        bar_chart(Path(args.svg), "Tap to receipt, median ms (lower is better)", rows, "ms", log=True)
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
