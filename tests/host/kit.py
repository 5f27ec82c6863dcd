"""Test kit for the host: real ICC data from the demo card, and requests built from it.

A transaction runs on the demo citizen card in process (``VirtualReader`` + ``Kernel``); the
kernel's online callback hands us the :class:`OnlineRequest` (field 55 with a real ARQC) and we
build the ISO 8583 request the way a terminal would. ``online_via(link)`` goes further and is the
kernel's whole online step through the host, so the card itself checks the host's ARPC.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from cardkit.crypto.oda import CapkStore
from cardkit.crypto.pin import encode_pin_block, encrypt_pin_block
from cardkit.emv import Kernel, OnlineRequest, OnlineResponse, TerminalConfig
from cardkit.issuer import CREDIT_AID
from cardkit.issuer.demo_keys import DEMO_PAN, DEMO_ZPK, demo_capk
from cardkit.readers import CardChannel, VirtualReader
from cardkit.tlv import decode
from pos_sim.demo_card import DEMO_CREDIT_PAN, DEMO_PIN, make_demo_card
from pos_sim.host import Fields, Host, HostLink

NOW = datetime(2026, 5, 1, 12, 30, 0)
TID, MID = "TERM0001", "MERCHANT0000001"

__all__ = ["DEMO_CREDIT_PAN", "DEMO_PAN", "DEMO_PIN", "MID", "NOW", "TID", "Card", "Terminal", "pin_block"]


def pin_block(pin: str, pan: str = DEMO_PAN, zpk: bytes = DEMO_ZPK) -> bytes:
    """An online PIN block as a terminal sends it: ISO 9564 format 0 under the ZPK."""
    return encrypt_pin_block(zpk, encode_pin_block(pin, pan, 0))


def new_host(**kw: object) -> Host:
    host = Host(clock=lambda: NOW, **kw)  # type: ignore[arg-type]
    host.seed_demo_accounts()
    return host


class Card:
    """The demo card in a virtual reader, with a kernel whose online step we capture or route."""

    def __init__(self, credit: bool = False) -> None:
        self.card = make_demo_card()
        self.credit = credit
        store = CapkStore()
        store.add(demo_capk())
        self.requests: list[OnlineRequest] = []
        self.route: Callable[[OnlineRequest], OnlineResponse | None] | None = None
        channel = CardChannel(VirtualReader(self.card).connect())
        self.kernel = Kernel(channel, TerminalConfig(capk=store), pin_entry=lambda _r: DEMO_PIN,
                             online=self._online, clock=lambda: NOW,
                             choose_application=(lambda cands: next(c for c in cands if c.aid == CREDIT_AID))
                             if credit else None)

    def _online(self, request: OnlineRequest) -> OnlineResponse | None:
        self.requests.append(request)
        return self.route(request) if self.route else None

    def arqc(self, amount: int, transaction_type: int = 0x00) -> OnlineRequest:
        """Run a contact transaction to its ARQC and return what the kernel would send online."""
        self.kernel.run(amount, transaction_type=transaction_type)
        return self.requests[-1]


class Terminal:
    """Builds requests like a POS would: its own STAN counter, RRNs from the STAN, batch 000001."""

    def __init__(self, tid: str = TID, batch: str = "000001") -> None:
        self.tid = tid
        self.batch = batch
        self._stan = itertools.count(1)

    def next_stan(self) -> str:
        return f"{next(self._stan):06d}"

    def base(self, mti: str, stan: str | None = None) -> Fields:
        stan = stan or self.next_stan()
        return {"t": mti, "7": NOW.strftime("%m%d%H%M%S"), "11": stan, "12": NOW.strftime("%H%M%S"),
                "13": NOW.strftime("%m%d"), "41": self.tid, "42": MID}

    def financial(self, request: OnlineRequest | None = None, *, amount: int | None = None, proc: str = "000000",
                  mti: str = "0200", pan: str = DEMO_PAN, pin: str | None = None, stan: str | None = None,
                  **extra: str | bytes) -> Fields:
        msg = self.base(mti, stan)
        msg.update({"3": proc, "22": "051", "25": "00", "49": "156", "60": self.batch})
        msg["37"] = f"6121{NOW:%H}" + str(msg["11"])
        if request is not None:
            pan = request.pan
            msg["23"] = f"{int(request.pan_sequence.hex() or '0'):03d}"
            msg["35"] = request.track2.hex().upper().rstrip("F")
            msg["55"] = request.icc_data
            amount = request.amount if amount is None else amount
        msg["2"] = pan
        msg["4"] = f"{amount or 0:012d}"
        if pin is not None:
            msg["52"] = pin_block(pin, pan)
        msg.update(extra)
        return msg

    def reversal(self, original: Fields) -> Fields:
        msg = self.base("0400")
        msg.update({k: original[k] for k in ("2", "3", "4", "49", "60") if k in original})
        msg["90"] = f"{original['t']}{original['11']}{original['7']}" + "0" * 22
        return msg

    def settlement(self, debits: int, debits_amount: int, credits: int = 0, credits_amount: int = 0) -> Fields:
        msg = self.base("0500")
        msg.update({"60": self.batch, "74": f"{credits:010d}", "76": f"{debits:010d}",
                    "86": f"{credits_amount:016d}", "88": f"{debits_amount:016d}"})
        return msg


def online_via(link: HostLink, terminal: Terminal) -> Callable[[OnlineRequest], OnlineResponse | None]:
    """The kernel's online callback through the host: a 0200 out, 39/38/55 back into the kernel."""

    def online(request: OnlineRequest) -> OnlineResponse | None:
        reply = link.exchange(terminal.financial(request, pin=None))
        arpc = None
        icc = reply.get("55")
        if isinstance(icc, bytes):
            found = [t for t in decode(icc) if t.tag == b"\x91"]
            arpc = found[0].value if found else None
        return OnlineResponse(str(reply["39"]), arpc=arpc, auth_code=str(reply.get("38", "")))

    return online
