"""One transit tap end to end: the validator against the demo card, in process and via pcscd + vpcd.

Usage: ``.venv/bin/python benchmarks/bench_transit.py [--n 200] [--svg OUT]``

A tap-out is the expensive one: SELECT, READ BINARY (issuer data), GET BALANCE, READ RECORD (the
transit record), INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA CACHE, DEBIT FOR CAPP PURCHASE
(MAC1 from the PSAM, MAC2 and TAC checked by it), with the fare computed from the entry station;
the gate journal is left out (a gate journals asynchronously) so the figure is the card
interaction a gate budgets for. Taps alternate in and out, one fen fares keep the purse alive. The
goal is under 10 ms in process; a gate's budget is about 300 ms for the card interaction.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from _served import card_via_pcscd
from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK
from cardkit.purse import Psam
from cardkit.readers import CardChannel, VirtualReader
from cardkit.readers.base import Connection
from pos_sim.demo_card import make_demo_card
from pos_sim.transit import TapAction, Validator, demo_rules

WARM_UP = 5
GATE_BUDGET_MS = 300.0


def taps(conn: Connection, n: int) -> dict[str, float]:
    """Median ms of a tap-in and of a tap-out, and the APDUs of a tap-out."""
    rules = replace(demo_rules(), bands=((100.0, 1),), max_fare=1, min_entry_balance=0, transfer_discount=0)
    gates = [rules.station("Xizhimen"), rules.station("Dongzhimen")]
    psam = Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=bytes.fromhex("000100000101"))
    clock = [datetime(2026, 12, 1, 8, 0, 0)]
    inside: list[float] = []
    conn.hooks.append(lambda _c, _r, elapsed: inside.append(elapsed))
    channel = CardChannel(conn)
    samples: dict[TapAction, list[float]] = {TapAction.ENTRY: [], TapAction.EXIT: []}
    apdus: list[int] = []
    for i in range(2 * (n + WARM_UP)):
        clock[0] += timedelta(minutes=10)
        validator = Validator(rules, psam, gates[i % 2], clock=lambda: clock[0])
        inside.clear()
        start = time.perf_counter()
        tap = validator.tap(channel)
        elapsed = (time.perf_counter() - start) * 1e3
        assert tap.gate_open, tap.reason
        samples[tap.action].append(elapsed)
        if tap.action is TapAction.EXIT:
            apdus.append(len(inside))
    return {"entry_ms": statistics.median(samples[TapAction.ENTRY][WARM_UP:]),
            "exit_ms": statistics.median(samples[TapAction.EXIT][WARM_UP:]),
            "exit_p95_ms": sorted(samples[TapAction.EXIT][WARM_UP:])[int(n * 0.95) - 1],
            "apdus": statistics.median(apdus)}


def through_pcscd(n: int) -> dict[str, float]:
    with card_via_pcscd(make_demo_card()) as conn:
        return taps(conn, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="taps in and out per measurement")
    parser.add_argument("--svg", metavar="OUT", help="also draw the medians as an SVG bar chart here")
    args = parser.parse_args()
    with VirtualReader(make_demo_card()).connect() as conn:
        local = taps(conn, args.n)
    remote = through_pcscd(args.n)
    for name, row in (("in process", local), ("pyscard → pcscd → vpcd", remote)):
        print(f"{name:<24} tap-in {row['entry_ms']:6.2f} ms  tap-out {row['exit_ms']:6.2f} ms "
              f"(p95 {row['exit_p95_ms']:6.2f} ms, {row['apdus']:.0f} APDUs)")
    print(f"tap-out via pcscd: {remote['exit_ms'] / GATE_BUDGET_MS:.1%} of a 300 ms gate budget; "
          f"PC/SC : in-process {remote['exit_ms'] / local['exit_ms']:.1f}x")
    if args.svg:
        rows = [("tap-in, in process", local["entry_ms"]), ("tap-out, in process", local["exit_ms"]),
                ("tap-in, via pcscd + vpcd", remote["entry_ms"]), ("tap-out, via pcscd + vpcd", remote["exit_ms"]),
                ("gate budget", GATE_BUDGET_MS)]
        bar_chart(Path(args.svg), "One transit tap, median ms (lower is better)", rows, "ms", log=True)
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
