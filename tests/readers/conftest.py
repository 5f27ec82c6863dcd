"""Fixtures for the reader tests, including the real PC/SC stack: pcscd + vsmartcard's vpcd.

``pcscd`` (session) starts ``pcscd --foreground`` as our own child process, waits for its socket and
stops it by PID at the end. ``serve_card`` starts a card process connected to vpcd — ``cardkit
emulate`` itself, or a ``VpcdServer`` with :class:`~cardkit.readers.T0Card` in front for T=0 — waits
until pcscd reports the card, and at teardown stops the process and waits until the reader is empty,
so no card leaks into the next test (a leaked card would be queued on the port and hijack it).

When pcscd/vpcd or pyscard are missing the end-to-end tests skip — and fail when ``CI`` is set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from applets.runtime import save_card
from cardkit.errors import NoCardError
from cardkit.readers.pcsc import PcscReader, pcsc_available
from cardkit.readers.pcscd import Pcscd, pcscd_is_running, vpcd_is_installed

from .cards import make_card

VPCD_READER = "Virtual PCD 00 00"
VPCD_PORT = 35963
REPO = Path(__file__).resolve().parents[2]
CARDKIT = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]



def _require_stack() -> None:
    missing = [what for what, ok in (("pcscd + vsmartcard-vpcd", vpcd_is_installed()),
                                     ("pyscard", pcsc_available())) if not ok]
    if missing:
        message = f"{' and '.join(missing)} not installed (apt-get install pcscd vsmartcard-vpcd; pip install pyscard)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PC/SC end-to-end tests: {message}")
        pytest.skip(message)


class Daemon:
    """The session's pcscd, restartable by tests that need to."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.starts = 0
        self.owned = not pcscd_is_running()
        self._pcscd: Pcscd | None = None

    def start(self) -> None:
        self.starts += 1
        self._pcscd = Pcscd(self.log_dir / f"pcscd-{self.starts}.log")
        self._pcscd.start(timeout=15)

    def stop(self) -> None:
        if self._pcscd is not None:
            self._pcscd.stop()
            self._pcscd = None

    def restart(self) -> None:
        if not self.owned:
            pytest.skip("pcscd was already running and is not ours to restart")
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    _require_stack()
    daemon = Daemon(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def vpcd_reader(pcscd: Daemon) -> Iterator[PcscReader]:
    """The vpcd reader, empty at the start of the test."""
    reader = PcscReader(VPCD_READER)
    reader.wait_for_removal(timeout=10)  # a card left by an earlier test would hijack this one
    yield reader
    reader.close()


@pytest.fixture
def card_image(tmp_path: Path) -> Path:
    path = tmp_path / "card.json"
    save_card(make_card(), path)
    return path


class CardProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


ServeCard = Callable[..., CardProcess]


@pytest.fixture
def serve_card(vpcd_reader: PcscReader, tmp_path: Path) -> Iterator[ServeCard]:
    """Start ``cardkit emulate`` on vpcd; ``serve_card(image, mode="emulate"|"t0")`` (t0: ``--t0``)."""
    started: list[CardProcess] = []

    def start(image: Path, mode: str = "emulate", wait: bool = True) -> CardProcess:
        log = tmp_path / f"card-{len(started)}.log"
        args = [*CARDKIT, "emulate", str(image), "--port", str(VPCD_PORT)] + (["--t0"] if mode == "t0" else [])
        with open(log, "wb") as out:
            proc = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        card = CardProcess(proc, log)
        started.append(card)
        if wait:
            deadline = time.monotonic() + 20
            while True:
                try:
                    vpcd_reader.wait_for_card(timeout=0.5)
                    break
                except NoCardError:
                    if proc.poll() is not None:
                        pytest.fail(f"card process exited ({proc.returncode}):\n{card.output()}")
                    if time.monotonic() > deadline:
                        pytest.fail(f"pcscd never saw the card:\n{card.output()}")
        return card

    yield start
    for card in started:
        card.stop()
    vpcd_reader.wait_for_removal(timeout=10)
