"""How fast a batch file is read: rows/s of ``read_holders`` over 100,000 synthetic holders.

The file is written once by ``write_holders(example_holders(N))`` into a temporary directory, then read
in full (every row parsed and validated, as ``cardkit issue-batch`` and ``validate_holders`` do) a few
times; the best run is reported. Writing and generating are timed too.

    .venv/bin/python benchmarks/bench_holders.py [--rows 100000] [--repeat 3]

No timed assertions: tests never depend on these numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cardkit.issuer.holder_csv import read_holders, validate_holders, write_holders
from cardkit.issuer.holder_example import example_holders


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "holders.csv"
        generate = _best(lambda: sum(1 for _ in example_holders(n)), 1)
        profiles = list(example_holders(n))

        def write() -> None:
            with path.open("w", encoding="utf-8", newline="") as f:
                write_holders(profiles, f)

        write_time = _best(write, args.repeat)
        read = _best(lambda: sum(1 for _ in read_holders(path)), args.repeat)
        validate = _best(lambda: validate_holders(path), 1)
        size = path.stat().st_size
    print(f"{n} holders, {size / 1e6:.1f} MB CSV")
    print(f"example_holders: {n / generate:10,.0f} profiles/s")
    print(f"write_holders:   {n / write_time:10,.0f} rows/s")
    print(f"read_holders:    {n / read:10,.0f} rows/s  ({read * 1e6 / n:.1f} µs per row, best of {args.repeat})")
    print(f"validate_holders:{n / validate:10,.0f} rows/s")


if __name__ == "__main__":
    main()
