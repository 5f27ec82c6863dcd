"""cardkit bench: run suites of checks against a card in any reader, time every APDU, report.

>>> run = run_bench("virtual:card.json", suite="smoke")      # doctest: +SKIP
>>> run.summary()["checks"]                                    # doctest: +SKIP
"""

from __future__ import annotations

from cardkit.bench.model import ApduTiming, BenchRun, CheckResult

__all__ = ["ApduTiming", "BenchRun", "CheckResult"]
