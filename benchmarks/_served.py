"""A simulated card in pcscd's reader for the benchmarks: pcscd started (or reused), the card
image served through vpcd by a separate process (as `cardkit emulate` does), a PC/SC connection."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from applets.runtime import SimulatedCard, save_card
from cardkit.errors import NoCardError
from cardkit.readers.base import Connection
from cardkit.readers.pcsc import PcscReader
from cardkit.readers.pcscd import Pcscd

READER = "Virtual PCD 00 00"
SERVE = textwrap.dedent("""
    import signal, sys
    from applets.runtime import load_card
    from cardkit.readers.vpcd import VpcdServer
    server = VpcdServer(load_card(sys.argv[1]), quickack=sys.argv[2] == "1")
    signal.signal(signal.SIGTERM, lambda *_: server.stop(timeout=0))
    server.serve_forever()
""")


@contextmanager
def pcscd_running() -> Iterator[Path]:
    """pcscd for the run (a folder for card images beside its log)."""
    with tempfile.TemporaryDirectory() as tmp, Pcscd(Path(tmp) / "pcscd.log") as daemon:
        print(f"pcscd: {'started for this run' if daemon.started_by_us else 'already running'}")
        yield Path(tmp)


@contextmanager
def served(image: Path, *, quickack: bool = True, protocol: str | None = None) -> Iterator[Connection]:
    """Serve ``image`` through vpcd from a child process and connect to it through PC/SC."""
    reader = PcscReader(READER)
    reader.wait_for_removal(timeout=10)
    card = subprocess.Popen([sys.executable, "-c", SERVE, str(image), "1" if quickack else "0"])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reader.wait_for_card(timeout=0.5)
                break
            except NoCardError:
                if card.poll() is not None or time.monotonic() > deadline:
                    raise
        with reader.connect(protocol) as conn:
            yield conn
    finally:
        card.terminate()
        card.wait(10)
        reader.wait_for_removal(timeout=10)
        reader.close()


@contextmanager
def card_via_pcscd(card: SimulatedCard) -> Iterator[Connection]:
    """pcscd, ``card`` served through vpcd, one PC/SC connection to it."""
    with pcscd_running() as folder:
        image = folder / "card.card"
        save_card(card, image)
        with served(image) as conn:
            yield conn
