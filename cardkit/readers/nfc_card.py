"""The card side of NFC: serve a simulated card as an ISO 14443-4 type A target through nfcpy.

nfcpy emulates only type 3 tags itself, so the ISO-DEP half is here, on ``clf.listen`` /
``clf.exchange``:

* ISO 14443-3 §6 (REQA/ATQA, anticollision, SELECT/SAK) is answered by nfcpy's listen mode with
  the card's UID, ATQA and SAK (``card.contactless``). ATQA is kept MSB first (``00 44``) as PC/SC
  tools print it; on air, and in nfcpy's ``sens_res``, it goes LSB first (``44 00``).
* ISO 14443-4 §5.6: the RATS is answered with the card's pre-built ATS at once (nfcpy readers wait
  only 30 ms); the card is powered on right after.
* ISO 14443-4 §7: I-blocks with chaining both ways (responses longer than the reader's FSD are
  chained), R(ACK)/R(NAK) with the block-number rules of §7.5.4.2, S(DESELECT), and S(WTX) (§7.3)
  whenever the card takes longer than a quarter of its frame waiting time (an RSA signature).
  The optional CID byte is echoed; NAD is not supported (the ATS does not offer it).
* DESELECT, an RF-off, or a new poll (REQA/WUPA) ends the session: the card is powered off, and on
  again at the next RATS.

The block rules are a sans-IO class, :class:`IsoDepTarget`; :class:`NfcCardServer` runs the I/O.
Tested over nfcpy's UDP driver (``udp:HOST:PORT``). A USB device with listen mode (nfcpy supports
listen on e.g. the RC-S380 and PN533) should work with ``usb[:VID:PID]`` but is untested: we had no
hardware.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cardkit.errors import CardTornError, TransportError
from cardkit.readers.base import CardLike
from cardkit.readers.nfc import import_nfc, parse_ats, parse_nfc_name
from cardkit.readers.trace import redact_command
from cardkit.readers.virtual import StatePersister

__all__ = ["ContactlessCard", "IsoDepTarget", "NfcCardServer", "serve"]

log = logging.getLogger(__name__)

_FSC = (16, 24, 32, 40, 48, 64, 96, 128, 256)
_CARRIER = 13.56e6
#: First bytes that mean the reader started polling again (ISO 14443-3 §6.3-6.4: REQA, WUPA,
#: ANTICOLLISION/SELECT of cascade levels 1-3, HLTA): the field was reset.
_POLL_BYTES = frozenset({0x26, 0x52, 0x93, 0x95, 0x97, 0x50})
_IDLE_POLL = 0.25  # how often a waiting server looks at its stop flag


class _Identity(Protocol):
    @property
    def uid(self) -> bytes: ...

    @property
    def atqa(self) -> bytes: ...

    @property
    def sak(self) -> int: ...

    @property
    def ats(self) -> bytes: ...


class ContactlessCard(CardLike, Protocol):
    """A card with a type A identity (``applets.runtime.SimulatedCard`` fits)."""

    @property
    def contactless(self) -> _Identity: ...

    def power_on(self, *, contactless: bool = ...) -> bytes: ...


class IsoDepTarget:
    """ISO 14443-4 §7 half-duplex block protocol, PICC side; no I/O.

    Feed each received block to :meth:`receive`. It returns ``("send", block)``, ``("apdu", capdu)``
    (answer it with :meth:`respond`), ``("deselect", block)`` (send it, then the session is over),
    ``("field", b"")`` (the reader polls again: the session is over) or ``("ignore", b"")``.

    Args:
        fsd: the reader's frame size from the RATS (ISO 14443-4 §5.1), CRC included.
    """

    def __init__(self, fsd: int) -> None:
        self.fsd = fsd
        self.block = 1  # rule D: the PICC's block number starts at 1 (§7.5.3.1)
        self._cid: int | None = None
        self._rx = bytearray()
        self._tx: list[bytes] = []
        self._last = b""

    def _pcb(self, pcb: int) -> bytes:
        return bytes((pcb | 0x08, self._cid)) if self._cid is not None else bytes((pcb,))

    def _send(self, block: bytes) -> tuple[str, bytes]:
        self._last = block
        return "send", block

    def receive(self, frame: bytes) -> tuple[str, bytes]:
        if not frame:
            return "ignore", b""
        pcb = frame[0]
        if pcb in _POLL_BYTES:
            return "field", b""
        has_cid = bool(pcb & 0x08)  # b4 of any PCB: a CID byte follows (§7.1.1.1)
        self._cid = frame[1] & 0x0F if has_cid and len(frame) > 1 else None
        inf = frame[2:] if has_cid else frame[1:]
        if pcb & 0xE2 == 0x02:  # I-block (§7.1.1.1); NAD (b3) is not offered in our ATS
            if pcb & 0x04:
                return "ignore", b""
            self.block = pcb & 1  # rule 10: toggle (to the reader's number) before answering
            self._rx += inf
            if pcb & 0x10:  # chaining: acknowledge, wait for more (§7.5.2.1)
                return self._send(self._pcb(0xA2 | self.block))
            capdu, self._rx = bytes(self._rx), bytearray()
            self._tx = []
            return "apdu", capdu
        if pcb & 0xE6 == 0xA2:  # R-block
            nak, number = bool(pcb & 0x10), pcb & 1
            if number == self.block:  # rule 11: re-send the last block
                return ("send", self._last) if self._last else ("ignore", b"")
            if nak:  # rule 12: R(NAK) with the other number → R(ACK) (the presence check)
                return "send", self._pcb(0xA2 | self.block)
            if self._tx:  # rule 13: R(ACK) with the other number while chaining → next block
                self.block ^= 1
                return self._send(self._next_chunk())
            return ("send", self._last) if self._last else ("ignore", b"")
        if pcb & 0xC7 == 0xC2:  # S-block
            if pcb & 0x30 == 0x00:  # DESELECT (§8): answer with the same
                return "deselect", self._pcb(0xC2)
            return "ignore", b""  # a late S(WTX) response
        return "ignore", b""  # rule 4: an invalid block is ignored

    def respond(self, rapdu: bytes) -> bytes:
        """The first block of the answer to the APDU :meth:`receive` returned (chained if too long)."""
        room = self.fsd - 3 - (self._cid is not None)  # PCB, CID, CRC_A (§7.1.1)
        self._tx = [rapdu[i : i + room] for i in range(0, len(rapdu), room)] or [b""]
        return self._send(self._next_chunk())[1]

    def _next_chunk(self) -> bytes:
        chunk = self._tx.pop(0)
        return self._pcb((0x12 if self._tx else 0x02) | self.block) + chunk

    def wtx_request(self, wtxm: int) -> bytes:
        """S(WTX) request asking for ``wtxm`` × FWT more (§7.3); it becomes the block to re-send."""
        return self._send(self._pcb(0xF2) + bytes((wtxm & 0x3F,)))[1]


class NfcCardServer:
    """Serve a card as an ISO 14443-4 type A target until :meth:`stop`.

    Args:
        card: a :class:`ContactlessCard`; its ``contactless`` identity gives UID, ATQA, SAK and ATS.
        path: ``udp:HOST:PORT`` (nfcpy binds the port on all interfaces), or ``usb[:VID:PID]``
            for a device with listen mode (untested). ``nfc:`` in front is accepted.
        image_path: save the card image there after every exchange that changed its state.
        on_change: called (instead of saving to ``image_path``) after such an exchange.
    """

    def __init__(self, card: ContactlessCard, path: str, *, image_path: str | Path | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.card = card
        self.path = parse_nfc_name(path)
        ident = card.contactless
        self.uid, self.atqa, self.sak, self.ats = bytes(ident.uid), bytes(ident.atqa), ident.sak, bytes(ident.ats)
        _, fwi, _ = parse_ats(self.ats)
        self.fwt = 4096 / _CARRIER * 2**fwi
        self.wtx_after = self.fwt / 4
        self.wtxm = max(1, min(59, math.ceil(1.0 / self.fwt)))  # ask for ~1 s each time
        self.activations = 0
        self.apdus = 0
        self.wtx_requests = 0
        self.active = threading.Event()
        self._stop = threading.Event()
        self._persister: StatePersister | None = None
        if on_change is not None:
            self._persister = StatePersister(card, "", save=lambda _card, _path: on_change())
        elif image_path is not None:
            self._persister = StatePersister(card, image_path)
        self._nfc = import_nfc()
        self._clf: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._mute = False

    # ---------------------------------------------------------------------------- lifecycle
    def start(self) -> threading.Thread:
        """Run :meth:`serve_forever` in a daemon thread and return it."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"nfc-card-{self.path.port}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop serving (the card leaves the field); safe from signal handlers and other threads."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def serve_forever(self) -> None:
        """Listen, answer one reader session after another, until :meth:`stop`."""
        nfc = self._nfc
        clf = nfc.ContactlessFrontend()
        if not clf.open(self.path.nfcpy):
            raise TransportError(f"nfcpy could not open {self.path.nfcpy!r} for listening")
        self._clf = clf
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nfc-card-apdu")
        target = nfc.clf.LocalTarget("106A")
        target.sens_res = bytearray(self.atqa[::-1])
        target.sdd_res = bytearray(self.uid)
        target.sel_res = bytearray((self.sak,))
        warned = False
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                activated = clf.listen(target, timeout=0.5)
                if activated is None:
                    if time.monotonic() - started < 0.1:  # nfcpy could not bind the port
                        if not warned:
                            log.warning("cannot listen on %s (port in use?); retrying", self.path.nfcpy)
                            warned = True
                        self._stop.wait(0.2)
                    continue
                warned = False
                cmd = bytes(activated.tt4_cmd or b"")
                if len(cmd) == 2 and cmd[0] == 0xE0:
                    self._session(clf, cmd)
        finally:
            self._power_off()
            self._pool.shutdown(wait=False)
            clf.close()

    # ------------------------------------------------------------------------------ session
    def _session(self, clf: Any, rats: bytes) -> None:
        """One activation: ATS (§5.6.1), blocks until DESELECT, RF-off or a new poll (§7-8)."""
        clf.exchange(bytearray(self.ats), 0)  # send now, receive later: the reader waits 30 ms
        fsd = _FSC[min(rats[1] >> 4, 8)]
        try:
            self.card.power_on(contactless=True)
        except CardTornError as exc:
            log.warning("the card went mute at power-on (%s)", exc)
            return
        self.activations += 1
        self.active.set()
        self._mute = False
        dep = IsoDepTarget(fsd)
        log.info("card activated on %s (FSD %d)", self.path.nfcpy, fsd)
        try:
            frame = self._exchange(clf, None)
            while frame is not None:
                kind, data = dep.receive(frame)
                if kind == "apdu":
                    rapdu = self._process(clf, dep, data)
                    if rapdu is None:
                        return
                    data, kind = dep.respond(rapdu), "send"
                if kind == "deselect":
                    clf.exchange(bytearray(data), 0)
                    log.info("card deselected")
                    return
                if kind == "field":
                    log.info("the reader polls again: session over")
                    return
                frame = self._exchange(clf, data if kind == "send" else None)
        finally:
            self.active.clear()
            self._power_off()

    def _exchange(self, clf: Any, send: bytes | None) -> bytes | None:
        """Send ``send`` (if any), return the next block; ``None`` on RF-off or :meth:`stop`."""
        nfc = self._nfc
        data = bytearray(send) if send is not None else None
        while not self._stop.is_set():
            try:
                frame = clf.exchange(data, _IDLE_POLL)
            except nfc.clf.TimeoutError:
                data = None
                continue
            except nfc.clf.BrokenLinkError:
                log.info("RF field off: session over")
                return None
            except nfc.clf.CommunicationError as exc:
                log.debug("bad frame ignored: %s", exc)
                data = None
                continue
            if frame is not None:
                return bytes(frame)
            data = None
        return None

    def _process(self, clf: Any, dep: IsoDepTarget, capdu: bytes) -> bytes | None:
        """Run the APDU on the card; send S(WTX) while it works (§7.3). ``None``: the card went mute."""
        assert self._pool is not None
        future = self._pool.submit(self._transmit, capdu)
        wait = self.wtx_after
        while True:
            try:
                return future.result(timeout=wait)
            except concurrent.futures.TimeoutError:
                pass
            except CardTornError as exc:
                log.warning("the card went mute (%s): it stops answering until the next activation", exc)
                return None
            self.wtx_requests += 1
            reply = self._exchange(clf, dep.wtx_request(self.wtxm))
            while reply is not None and not (reply[0] & 0xF7 == 0xF2):  # not yet the S(WTX) response
                kind, block = dep.receive(reply)
                if kind in ("field", "deselect", "apdu"):
                    concurrent.futures.wait([future])
                    return None
                reply = self._exchange(clf, block if kind == "send" else None)
            if reply is None:
                concurrent.futures.wait([future])
                return None
            wait = self.wtxm * self.fwt / 2

    def _transmit(self, capdu: bytes) -> bytes:
        log.debug("C-APDU %s", redact_command(capdu)[:5].hex().upper())
        try:
            return self.card.transmit(capdu)
        finally:
            self.apdus += 1
            self._after_exchange()

    # ---------------------------------------------------------------------------- persistence
    def _after_exchange(self) -> None:
        if self._persister is None:
            return
        try:
            self._persister.maybe_save()  # only when the store's generation moved
        except Exception:
            log.exception("could not save the card's state")

    def _power_off(self) -> None:
        try:
            self.card.power_off()
        except Exception:  # a card that fails to power off is off anyway
            log.debug("power off failed", exc_info=True)


def serve(card: ContactlessCard, path: str, *, image_path: str | Path | None = None) -> None:
    """Serve ``card`` on ``path`` until SIGINT/SIGTERM (``cardkit emulate CARD --nfc PATH``)."""
    from cardkit.readers.vpcd import run_until_signalled

    run_until_signalled(NfcCardServer(card, path, image_path=image_path))
