"""cardkit bench: run suites of checks against a card in any reader, time every APDU, report.

Suites: ``smoke``, ``emv``, ``transit``, ``eid``, ``full`` (all four) and ``tearing`` (simulated
cards only). See docs/bench.md.

>>> run = run_bench("virtual:card.json", suite="smoke")      # doctest: +SKIP
>>> run.summary()["checks"]                                    # doctest: +SKIP
"""

from __future__ import annotations

from cardkit.bench.junit import to_junit
from cardkit.bench.model import ApduTiming, BenchRun, CheckResult
from cardkit.bench.runner import SUITE_NAMES, BenchUsageError, run_bench

__all__ = ["SUITE_NAMES", "ApduTiming", "BenchRun", "BenchUsageError", "CheckResult", "run_bench", "to_junit"]
