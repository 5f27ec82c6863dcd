"""run_bench: connect to a reader, run a suite's checks with every APDU timed, return a BenchRun."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cardkit.bench.checks import ApduRecorder, Check, Context, run_check
from cardkit.bench.model import BenchRun, CheckResult
from cardkit.bench.suites import SUITES, build_suite, is_demo_card
from cardkit.errors import CardkitError
from cardkit.readers import CardChannel, PcapTracer, open_reader

__all__ = ["SUITE_NAMES", "BenchUsageError", "run_bench"]

SUITE_NAMES: tuple[str, ...] = (*SUITES, "full", "tearing")

OnCheck = Callable[[CheckResult], None]


class BenchUsageError(CardkitError):
    """The bench was asked for something that does not exist (an unknown suite)."""


def _image(reader_name: str) -> Path | None:
    scheme, _, arg = reader_name.partition(":")
    return Path(arg) if scheme == "virtual" and arg else None


def _checks(ctx: Context, suite: str, repeat: int) -> list[tuple[str, Check]]:
    if suite == "tearing":
        from cardkit.bench.tearing import tearing_checks

        return [("tearing", c) for c in tearing_checks(ctx.image)]
    try:
        return build_suite(suite, repeat)
    except KeyError:
        raise BenchUsageError(f"unknown suite {suite!r}: use one of {', '.join(SUITE_NAMES)}") from None


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        task = bar.add_task("bench", total=total)
        yield lambda name: bar.update(task, advance=1, description=name)


CARD_WAIT_S = 10.0


def run_bench(reader_name: str, *, suite: str = "smoke", repeat: int = 10, trace: Path | None = None,
              progress: bool = True, on_check: OnCheck | None = None) -> BenchRun:
    """Run ``suite`` against the card in ``reader_name`` and time every APDU.

    Args:
        reader_name: as :func:`cardkit.readers.open_reader` takes it (``virtual:card.json``, ``pcsc:...``).
        suite: ``smoke``, ``emv``, ``transit``, ``eid``, ``full`` or ``tearing`` (``virtual:`` only).
        repeat: timed transactions per timing check (contactless payments, taps, DG1 reads).
        trace: also write every exchange to this pcap file (secrets masked).
        progress: show a rich progress bar over the checks (on the terminal's stderr).
        on_check: called with each result as it is known.

    Raises:
        BenchUsageError: unknown suite or ``repeat`` below 1.
        ReaderNotFoundError, NoCardError, TransportError: the reader or the card is not there.
    """
    if repeat < 1:
        raise BenchUsageError(f"repeat must be at least 1, not {repeat}")
    if suite not in SUITE_NAMES:
        raise BenchUsageError(f"unknown suite {suite!r}: use one of {', '.join(SUITE_NAMES)}")
    started = datetime.now(UTC)
    recorder = ApduRecorder()
    pcap = PcapTracer(trace) if trace is not None else None
    tracers = [recorder] if pcap is None else [recorder, pcap]
    try:
        reader = open_reader(reader_name)
        reader.wait_for_card(timeout=CARD_WAIT_S)  # a card being put down (or a target re-arming) is not absent
        with reader.connect() as conn:
            ctx = Context(reader_name, conn, CardChannel(conn, trace=tracers), repeat, _image(reader_name))
            checks = _checks(ctx, suite, repeat)
            if suite != "tearing":
                is_demo_card(ctx)  # learned once, before the first check's timing starts
            results: list[CheckResult] = []
            with _progress(progress, len(checks)) as advance:
                for name, check in checks:
                    result = run_check(ctx, name, check, recorder)
                    results.append(result)
                    if on_check is not None:
                        on_check(result)
                    advance(f"{name}: {check.name}")
            return BenchRun(reader_name, conn.atr, conn.protocol, started, tuple(results))
    finally:
        if pcap is not None:
            pcap.close()
