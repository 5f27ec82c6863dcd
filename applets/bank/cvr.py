"""Card verification results and issuer application data (docs/bank.md, VIS-style CVR, CVN 01).

The CVR is what tells the issuer *why* the card answered as it did; the issuer host reads it from
IAD bytes 4-7 and the same four bytes enter the AC data, so card and host must agree bit by bit.
Bits about "the last online transaction" come from the state when this transaction began
(``Session.prior``); bits about now (PIN tries, blocked) from the current state.
"""

from __future__ import annotations

from applets.bank.codec import int_to_bcd
from applets.bank.session import Cid, Session
from applets.bank.state import CardState

__all__ = ["build_cvr", "build_iad", "cvr_block"]

_AC_BITS = {Cid.AAC: 0b00, Cid.TC: 0b01, Cid.ARQC: 0b10}
_NOT_REQUESTED = 0b10


def build_cvr(
    s: Session,
    now: CardState,
    *,
    first: Cid,
    second: Cid | None = None,
    lower_exceeded: bool = False,
    upper_exceeded: bool = False,
    unable_online: bool = False,
) -> bytes:
    """The three CVR bytes for the cryptogram being generated now.

    Args:
        now: the persistent state before this command's own updates.
        first: AC type returned (or being returned) in the first GENERATE AC.
        second: AC type of the second GENERATE AC, ``None`` when it was not requested.
    """
    before = s.prior if s.prior is not None else now
    b1 = (_NOT_REQUESTED if second is None else _AC_BITS[second]) << 6 | _AC_BITS[first] << 4
    b1 |= 0x08 if s.issuer_auth_performed and s.issuer_auth_failed else 0
    b1 |= (0x04 if s.pin_performed else 0) | (0x02 if s.pin_failed else 0) | (0x01 if unable_online else 0)
    b2 = min(before.script_count, 15) << 4
    b2 |= (0x08 if before.script_failed else 0) | (0x04 if s.oda_performed else 0)
    b2 |= 0x02 if now.pin_block is not None and now.pin_tries == 0 else 0
    b2 |= 0x01 if before.online_pending else 0
    b3 = (0x80 if before.last_online_atc == 0 else 0) | (0x40 if before.issuer_auth_failed else 0)
    b3 |= (0x20 if lower_exceeded else 0) | (0x10 if upper_exceeded else 0)
    b3 |= 0x08 if now.blocked_by_script else 0
    return bytes((b1, b2, b3))


def cvr_block(cvr: bytes) -> bytes:
    """IAD bytes 4-7 (``03 || CVR``): what enters the AC data."""
    return b"\x03" + cvr


def build_iad(prefix: bytes, cvr: bytes, ec_balance: int) -> bytes:
    """IAD 9F10, PBOC layout, 18 bytes: ``07 DKI CVN 03 CVR | 0A 01 00 EC-balance(6) 00 00``."""
    return prefix + cvr_block(cvr) + b"\x0a\x01\x00" + int_to_bcd(ec_balance) + b"\x00\x00"
