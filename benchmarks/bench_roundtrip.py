"""Per-APDU round trip: in-process VirtualReader vs pyscard → pcscd → vpcd → card process.

Usage: ``.venv/bin/python benchmarks/bench_roundtrip.py [--n 2000] [--slow-n 40]``

Starts pcscd (or uses a running one) and the card itself, and cleans up. The APDUs alternate
SELECT EF.ICCID (``00 A4 02 0C 02 2F E2``) and READ BINARY of its 10 bytes. The last run serves the
card with TCP_QUICKACK disabled to show the delayed-ACK trap (~40 ms per APDU), on a few APDUs only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _served import pcscd_running, served
from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from applets.runtime import new_blank_card, save_card
from cardkit.readers import VirtualReader
from cardkit.readers.base import Connection

APDUS = (bytes.fromhex("00A4020C022FE2"), bytes.fromhex("00B000000A"))
def measure(conn: Connection, n: int, warmup: int = 50) -> list[float]:
    for i in range(warmup):
        conn.transmit(APDUS[i % 2])
    out = []
    clock = time.perf_counter_ns
    for i in range(n):
        t = clock()
        rapdu = conn.transmit(APDUS[i % 2])
        out.append((clock() - t) / 1e3)
        assert rapdu[-2:] == b"\x90\x00", rapdu.hex()
    return out


def summary(name: str, us: list[float]) -> dict[str, float]:
    s = sorted(us)
    row = {"median": statistics.median(s), "p99": s[min(len(s) - 1, int(len(s) * 0.99))],
           "mean": statistics.fmean(s), "rate": 1e6 / statistics.fmean(s)}
    print(f"{name:<38} n={len(s):>5}  median {row['median']:>9.1f} µs  p99 {row['p99']:>9.1f} µs  "
          f"{row['rate']:>9.0f} APDUs/s")
    return row


def run_pcsc(image: Path, n: int, quickack: bool) -> list[float]:
    with served(image, quickack=quickack, protocol="T1") as conn:
        return measure(conn, n, warmup=50 if quickack else 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="APDUs per fast run")
    parser.add_argument("--slow-n", type=int, default=40, help="APDUs with TCP_QUICKACK disabled")
    parser.add_argument("--svg", metavar="OUT", help="also draw the medians as an SVG bar chart here")
    args = parser.parse_args()

    card = new_blank_card(serial="8986001234567890")
    with VirtualReader(card).connect() as conn:
        local = summary("in-process VirtualReader", measure(conn, args.n))

    with pcscd_running() as folder:
        image = folder / "card.json"
        save_card(new_blank_card(serial="8986001234567890"), image)
        pcsc = summary("pyscard → pcscd → vpcd → card", run_pcsc(image, args.n, quickack=True))
        slow = summary("same, TCP_QUICKACK disabled", run_pcsc(image, args.slow_n, quickack=False))
    print(f"ratio PC/SC : in-process (median)   {pcsc['median'] / local['median']:.0f}x")
    print(f"ratio no-QUICKACK : QUICKACK (median) {slow['median'] / pcsc['median']:.0f}x")
    if args.svg:
        rows = [("cardkit in-process VirtualReader", local["median"]),
                ("cardkit via pyscard → pcscd → vpcd", pcsc["median"]),
                ("the same without TCP_QUICKACK", slow["median"])]
        bar_chart(Path(args.svg), "APDU round trip (median)", rows, "µs", log=True)
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
