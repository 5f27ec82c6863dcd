"""A test holder, a card with the ID application, and a minimal ICAO 9303 terminal.

The terminal never uses ``applets.eid`` code: BAC and secure messaging come from
:mod:`cardkit.crypto.icao` (tested against 9303-11 Appendix D) and the bytes on the wire, so a
card that agrees with itself but not with 9303 fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec

from applets.eid import EID_AID, EidApplet, install_eid
from applets.runtime import SimulatedCard, new_blank_card
from cardkit.crypto import icao
from cardkit.issuer.demo_keys import demo_document_signer
from cardkit.issuer.eid_data import IdHolder, prepare_eid

HOLDER = IdHolder("E12345678", "ZHANG", "SAN", "张三", "M", date(1990, 1, 1), date(2031, 12, 31),
                  "110105199001010010", address="北京市东城区景山前街4号")
AA_KEY = ec.derive_private_key(0x1D0C_0FFEE_5EED, ec.SECP256R1())
FIDS = {"EF.COM": 0x011E, "DG1": 0x0101, "DG2": 0x0102, "DG11": 0x010B, "DG15": 0x010F, "EF.SOD": 0x011D}
DGIS = {"EF.COM": 0x1E00, "DG1": 0x0100, "DG2": 0x0200, "DG11": 0x0B00, "DG15": 0x0F00, "EF.SOD": 0x1D00}
SELECT_AID = bytes.fromhex("00A4040C07") + EID_AID


@cache
def dgis() -> dict[int, bytes]:
    return prepare_eid(HOLDER, document_signer=demo_document_signer(), aa_key=AA_KEY)


def make_card(personalization: dict[int, bytes] | None = None,
              random: Callable[[int], bytes] | None = None) -> SimulatedCard:
    card = new_blank_card(serial="8986000000000000018")
    install_eid(card, personalization if personalization is not None else dgis(), random=random)
    card.strict = True  # an exception in the applet fails the test instead of becoming 6F00
    card.power_on()
    return card


def applet(card: SimulatedCard) -> EidApplet:
    a = card.applet(EID_AID)
    assert isinstance(a, EidApplet)
    return a


def sw(r: bytes) -> int:
    return int.from_bytes(r[-2:], "big")


@dataclass
class Terminal:
    """BAC, then every command in secure messaging, straight from cardkit.crypto.icao."""

    card: SimulatedCard
    ks: icao.BacKeys | None = field(default=None, repr=False)
    ssc: int = 0

    def send(self, apdu: bytes | str) -> bytes:
        return self.card.transmit(bytes.fromhex(apdu) if isinstance(apdu, str) else apdu)

    def select_application(self) -> None:
        assert sw(self.send(SELECT_AID)) == 0x9000

    def bac(self, mrz_info: str = HOLDER.mrz_information, *, rnd_ifd: bytes | None = None,
            k_ifd: bytes | None = None) -> int:
        """GET CHALLENGE + MUTUAL AUTHENTICATE; the card's SW (keys kept when 9000)."""
        keys = icao.derive_bac_keys(mrz_info)
        r = self.send("0084000008")
        assert sw(r) == 0x9000 and len(r) == 10
        rnd_ic, rnd_ifd, k_ifd = r[:-2], rnd_ifd or os.urandom(8), k_ifd or os.urandom(16)
        r = self.send(bytes.fromhex("0082000028") + icao.ifd_authenticate(keys, rnd_ic, rnd_ifd, k_ifd) + b"\x28")
        if sw(r) != 0x9000:
            return sw(r)
        assert len(r) == 42
        k_ic = icao.open_ic_response(keys, r[:-2], rnd_ifd)
        self.ks, self.ssc = icao.bac_session_keys(k_ifd, k_ic), icao.bac_ssc(rnd_ic, rnd_ifd)
        return 0x9000

    def sm(self, apdu: bytes | str) -> tuple[bytes, int]:
        """One protected command; (plain data, SW from DO 99)."""
        assert self.ks is not None
        plain = bytes.fromhex(apdu) if isinstance(apdu, str) else apdu
        protected, self.ssc = icao.protect_command(self.ks, self.ssc, plain)
        r = self.send(protected)
        assert sw(r) not in (0x6987, 0x6988), f"the card refused secure messaging: {r.hex()}"
        data, status, self.ssc = icao.unprotect_response(self.ks, self.ssc, r)
        assert status == r[-2:], "DO 99 and the outer status word differ"
        return data, int.from_bytes(status, "big")

    def read_file(self, fid: int, chunk: int = 0xDF) -> bytes:
        """SELECT EF by FID, then READ BINARY in chunks of ``chunk`` until a short answer."""
        data, status = self.sm(bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big"))
        assert status == 0x9000, hex(status)
        out = b""
        while True:
            part, status = self.sm(bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, chunk)))
            assert len(part) <= chunk
            out += part
            if status == 0x6282 or len(part) < chunk:
                return out
            assert status == 0x9000, hex(status)


def open_session(card: SimulatedCard | None = None) -> Terminal:
    t = Terminal(card or make_card())
    t.select_application()
    assert t.bac() == 0x9000
    return t
