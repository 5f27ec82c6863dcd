"""The card side of vsmartcard's vpcd driver: serve a card to pcscd so every PC/SC program sees it.

pcscd loads ``libifdvpcd`` which listens on TCP 35963 ("Virtual PCD 00 00"); the card connects to
it. Every message is a 2-byte big-endian length and a body. A 1-byte body is a control message —
00 power off, 01 power on, 02 reset (no answer), 04 "send your ATR" (answered with the ATR, pcscd
asks about every 0.4 s to check the card is present). A longer body is a C-APDU, answered with the
R-APDU, length-prefixed, in one ``send``.

Latency: vpcd writes the length and the body separately without TCP_NODELAY, so with delayed ACKs
each APDU waits ~40 ms. We set TCP_NODELAY and re-arm TCP_QUICKACK before every ``recv`` (Linux
clears it after use), which brings a round trip through pyscard → pcscd → vpcd to ~0.1 ms.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cardkit.errors import CardTornError
from cardkit.readers.base import CardLike
from cardkit.readers.virtual import StatePersister

__all__ = ["VPCD_DEFAULT_PORT", "VpcdServer", "run_until_signalled", "serve"]

log = logging.getLogger(__name__)

VPCD_DEFAULT_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class _Disconnected(Exception):
    """pcscd closed the connection (or stop() shut it down)."""


class VpcdServer:
    """Serve one card to pcscd's vpcd slot until :meth:`stop`; reconnects when pcscd restarts.

    Args:
        card: any :class:`~cardkit.readers.base.CardLike` (wrap it in
            :class:`~cardkit.readers.t0.T0Card` to behave as a T=0 card).
        host: where pcscd's vpcd listens.
        port: 35963 is "Virtual PCD 00 00", 35964 "Virtual PCD 00 01".
        image_path: save the card image there after every exchange that changed its state.
        on_change: called (instead of saving to ``image_path``) after such an exchange.
        quickack: re-arm TCP_QUICKACK before each receive (disable only to measure the trap).
        retry_delay: first wait between connection attempts; doubles up to ``max_retry_delay``.
    """

    def __init__(
        self,
        card: CardLike,
        *,
        host: str = "127.0.0.1",
        port: int = VPCD_DEFAULT_PORT,
        image_path: str | Path | None = None,
        on_change: Callable[[], None] | None = None,
        quickack: bool = True,
        retry_delay: float = 0.05,
        max_retry_delay: float = 1.0,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.quickack = quickack and _QUICKACK is not None
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.apdus = 0
        self.connections = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._on_change = on_change
        self._persister = StatePersister(card, image_path) if image_path is not None else None
        self._generation = self._store_generation()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------ lifecycle
    def start(self) -> threading.Thread:
        """Run :meth:`serve_forever` in a daemon thread and return it."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop serving: the card leaves the reader. Safe from signal handlers and other threads."""
        self._stop.set()
        with self._lock:
            sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv()
            except OSError:
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def serve_forever(self) -> None:
        """Connect to vpcd and answer it until :meth:`stop`; reconnect with backoff when dropped."""
        delay = self.retry_delay
        warned = False
        try:
            while not self._stop.is_set():
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=2.0)
                except OSError as exc:
                    if not warned:
                        log.warning("vpcd %s:%d not reachable (%s); is pcscd running? retrying",
                                    self.host, self.port, exc.strerror or exc)
                        warned = True
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.max_retry_delay)
                    continue
                warned = False
                delay = self.retry_delay
                self._session(sock)
        finally:
            self._power_off()

    # -------------------------------------------------------------------------- session
    def _session(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sock = sock
        if self._stop.is_set():  # stop() raced with the connect
            sock.close()
            return
        self.connections += 1
        self.connected.set()
        log.info("card inserted in vpcd %s:%d", self.host, self.port)
        try:
            while True:
                body = self._recv_message(sock)
                reply = self._handle(body)
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except CardTornError as exc:
            log.warning("the card went mute (%s): powered off, it leaves the reader and comes back", exc)
        except (_Disconnected, OSError) as exc:
            if not self._stop.is_set():
                log.info("vpcd connection dropped (%s); reconnecting", exc or "closed by pcscd")
        finally:
            self.connected.clear()
            with self._lock:
                self._sock = None
            sock.close()
            self._power_off()

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if self.quickack:
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)  # type: ignore[arg-type]
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise _Disconnected()
            buf += chunk
        return bytes(buf)

    def _recv_message(self, sock: socket.socket) -> bytes:
        size = int.from_bytes(self._recv_exact(sock, 2), "big")
        return self._recv_exact(sock, size) if size else b""

    def _handle(self, body: bytes) -> bytes | None:
        """One vpcd message in, the reply to send (or ``None``)."""
        if len(body) == 1:
            ctrl = body[0]
            if ctrl == CTRL_ATR:
                return self.card.atr
            if ctrl == CTRL_ON:
                self.card.power_on()
            elif ctrl == CTRL_RESET:
                self.card.reset()
            elif ctrl == CTRL_OFF:
                self.card.power_off()
            else:
                log.warning("unknown vpcd control byte %02X ignored", ctrl)
            return None
        if not body:
            return None
        try:
            rapdu = self.card.transmit(body)
        finally:
            self.apdus += 1
            self._after_exchange()
        return rapdu

    # ----------------------------------------------------------------------- persistence
    def _store_generation(self) -> int | None:
        return getattr(getattr(self.card, "store", None), "generation", None)

    def _after_exchange(self) -> None:
        now = self._store_generation()
        if now is None or now == self._generation:
            return
        self._generation = now
        try:
            if self._on_change is not None:
                self._on_change()
            elif self._persister is not None:
                self._persister.save()
        except Exception:
            log.exception("could not save the card's state")

    def _power_off(self) -> None:
        try:
            self.card.power_off()
        except Exception:
            log.debug("power off failed", exc_info=True)


class _Server(Protocol):
    def serve_forever(self) -> None: ...

    def stop(self, timeout: float | None = ...) -> None: ...


def serve(card: CardLike, *, host: str = "127.0.0.1", port: int = VPCD_DEFAULT_PORT,
          image_path: str | Path | None = None) -> None:
    """Serve ``card`` until stopped by SIGINT/SIGTERM (the ``cardkit emulate`` loop)."""
    run_until_signalled(VpcdServer(card, host=host, port=port, image_path=image_path))


def run_until_signalled(server: _Server) -> None:
    """Run ``server.serve_forever()`` until SIGINT/SIGTERM, then stop it (vpcd and NFC card servers)."""
    import signal

    previous = signal.signal(signal.SIGTERM, lambda *_: server.stop(timeout=0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=0)
    finally:
        signal.signal(signal.SIGTERM, previous)
