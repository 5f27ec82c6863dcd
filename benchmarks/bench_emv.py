"""One EMV transaction, card interaction included: in process and through pcscd + vpcd.

Usage: ``.venv/bin/python benchmarks/bench_emv.py [--n 200] [--svg OUT]``

The card is the demo citizen card (``pos_sim.demo_card``), the terminal ``cardkit.emv.Kernel``
with the demo CAPK and the in-process issuer stand-in. Two transactions:

* contactless: PPSE, SELECT, GPO (the card's TC and fDDA signature), READ RECORDs, fDDA checked
  (three RSA recoveries), electronic cash offline approval — the single-tap path;
* contact: PSE, SELECT, GPO, READ RECORDs, offline PIN, CDA, ARQC, stand-in (ARQC check and
  ARPC), EXTERNAL AUTHENTICATE, second GENERATE AC with CDA.

For each, the median wall time per transaction, its APDU count, and the time spent inside the
connection (card + transport) vs in the kernel. EMV's budget for the card interaction is 500 ms;
cardkit's goal is under 20 ms in process and under 60 ms through pcscd (contactless).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _served import card_via_pcscd
from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from cardkit.crypto.oda import CapkStore
from cardkit.emv import Kernel, TerminalConfig
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.readers import CardChannel, VirtualReader
from cardkit.readers.base import Connection
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.issuer_standin import IssuerStandIn


def measure(conn: Connection, n: int, contactless: bool) -> dict[str, float]:
    """Median ms per transaction, APDUs per transaction and the share spent inside the connection."""
    store = CapkStore()
    store.add(demo_capk())
    kernel = Kernel(CardChannel(conn), TerminalConfig(capk=store), pin_entry=lambda _r: DEMO_PIN,
                    online=IssuerStandIn(demo_issuer()).online)
    inside: list[float] = []
    conn.hooks.append(lambda _c, _r, elapsed: inside.append(elapsed))
    amount = 1 if contactless else 1250  # 0.01 CNY taps: the 500.00 electronic cash lasts
    totals, card_ms, apdus = [], [], []
    for i in range(n + 5):
        inside.clear()
        start = time.perf_counter()
        outcome = kernel.run(amount, contactless=contactless)
        total = (time.perf_counter() - start) * 1e3
        assert outcome.approved, outcome.reason
        if i >= 5:  # warm-up
            totals.append(total)
            card_ms.append(sum(inside) * 1e3)
            apdus.append(len(inside))
    return {"median_ms": statistics.median(totals), "p95_ms": sorted(totals)[int(len(totals) * 0.95) - 1],
            "card_ms": statistics.median(card_ms), "apdus": statistics.median(apdus)}


def through_pcscd(n: int) -> dict[str, dict[str, float]]:
    with card_via_pcscd(make_demo_card()) as conn:
        return {name: measure(conn, n, contactless)
                for name, contactless in (("contactless", True), ("contact", False))}


def show(name: str, row: dict[str, float]) -> None:
    kernel = row["median_ms"] - row["card_ms"]
    print(f"{name:<34} median {row['median_ms']:6.2f} ms  p95 {row['p95_ms']:6.2f} ms  "
          f"{row['apdus']:3.0f} APDUs  card+transport {row['card_ms']:6.2f} ms  kernel {kernel:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="transactions per measurement")
    parser.add_argument("--svg", metavar="OUT", help="also draw the medians as an SVG bar chart here")
    args = parser.parse_args()

    local: dict[str, dict[str, float]] = {}
    for name, contactless in (("contactless", True), ("contact", False)):
        with VirtualReader(make_demo_card()).connect() as conn:
            local[name] = measure(conn, args.n, contactless)
    remote = through_pcscd(args.n)
    for name in ("contactless", "contact"):
        show(f"{name}, in process", local[name])
        show(f"{name}, pyscard → pcscd → vpcd", remote[name])
    budget = 500.0
    tap = remote["contactless"]["median_ms"]
    print(f"contactless through pcscd: {tap:.1f} ms = {tap / budget:.1%} of the 500 ms EMV budget; "
          f"PC/SC : in-process {tap / local['contactless']['median_ms']:.1f}x")
    if args.svg:
        rows = [
            ("cardkit contactless, in process", local["contactless"]["median_ms"]),
            ("cardkit contactless, via pcscd + vpcd", remote["contactless"]["median_ms"]),
            ("cardkit contact (online, CDA), in process", local["contact"]["median_ms"]),
            ("cardkit contact (online, CDA), via pcscd + vpcd", remote["contact"]["median_ms"]),
            ("EMV contactless budget", budget),
        ]
        bar_chart(Path(args.svg), "One EMV transaction, median ms (lower is better)", rows, "ms", log=True)
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
