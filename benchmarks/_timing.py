"""Timing shared by the benchmark scripts: timeit with an automatic loop count, in µs per call."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable


def time_call(fn: Callable[[], object], repeat: int, min_loops: int) -> dict[str, float]:
    """Best and median µs per call of ``fn`` over ``repeat`` runs of at least ``min_loops`` calls."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(number, min_loops)
    runs = [t / number * 1e6 for t in timer.repeat(repeat=repeat, number=number)]
    return {"best_us": min(runs), "median_us": statistics.median(runs), "loops": number}
