"""Run pcscd as our own child process: for the demo, the tests and the benchmarks.

pcscd is the PC/SC daemon every real smart-card program talks to; with vsmartcard's vpcd driver it
offers "Virtual PCD 00 00" (TCP 35963) and "Virtual PCD 00 01" (35964) that a simulated card connects
to. Debian's package does not start it, so we start it in the foreground, wait for its socket, and stop
it by PID — never a stray ``pkill``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from cardkit.errors import TransportError

__all__ = ["PCSCD_SOCKET", "Pcscd", "pcscd_is_running", "vpcd_is_installed"]

log = logging.getLogger(__name__)

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONFIG = Path("/etc/reader.conf.d/vpcd")


def pcscd_is_running() -> bool:
    """True when a pcscd answers on its socket."""
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def vpcd_is_installed() -> bool:
    return shutil.which("pcscd") is not None and VPCD_CONFIG.exists()


class Pcscd:
    """A pcscd child process; a context manager that reuses a daemon already running.

    Args:
        log_path: where pcscd's output goes (``-a`` APDU logging is on when ``apdu_log``).
        apdu_log: ask pcscd to log every APDU (a good CI artifact; never use with real PINs).
    """

    def __init__(self, log_path: Path | None = None, *, apdu_log: bool = False) -> None:
        self._log_path = log_path
        self._apdu_log = apdu_log
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def started_by_us(self) -> bool:
        return self._proc is not None

    def start(self, timeout: float = 10.0) -> None:
        if pcscd_is_running():
            log.info("pcscd already running; using it")
            return
        exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
        if exe is None:
            raise TransportError("pcscd is not installed: run 'make test' or apt-get install pcscd vsmartcard-vpcd")
        args = [exe, "--foreground"] + (["--apdu"] if self._apdu_log else [])
        try:
            with open(self._log_path or os.devnull, "wb") as out:
                self._proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise TransportError(f"cannot start pcscd: {exc.strerror}") from exc
        deadline = time.monotonic() + timeout
        while not pcscd_is_running():
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise TransportError(
                    f"pcscd exited at start (code {code}); stale /run/pcscd files or missing permissions?"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TransportError(f"pcscd did not open {PCSCD_SOCKET} within {timeout:.0f} s")
            time.sleep(0.02)
        log.info("pcscd started, pid %d", self._proc.pid)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
