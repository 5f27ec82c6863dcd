"""Answers to reset: the contact ATR (ISO/IEC 7816-3 §8), the ISO 14443 identity and PC/SC ATR.

The contact ATR offers T=0 first and T=1 second, as EMV Book 1 §8.3 expects of a dual-protocol
card: ``TD1 = 80`` (T=0, TD2 follows) and ``TD2 = 31`` (T=1, with ``TA3`` IFSC and ``TB3`` BWI/CWI).
A TCK byte closes it because T=1 is offered (ISO 7816-3 §8.2.5): the XOR of T0..TCK is zero.

The historical bytes use category indicator ``80`` with COMPACT-TLV objects (ISO 7816-4 §8.1.1):
card issuer's data ``5x`` naming cardkit and card capabilities ``73`` (selection methods, data
coding byte, logical channels). The same bytes travel in the ATS, so the PC/SC contactless ATR
(PC/SC part 3 §3.1.3.2.3) carries them too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = [
    "HISTORICAL_BYTES",
    "AtrInfo",
    "ContactlessIdentity",
    "build_contact_atr",
    "build_contactless_atr",
    "derive_uid",
    "parse_atr",
]

# ISO 7816-4 §8.1.1.2.7 card capabilities: byte 1 = selection by full DF name (80), partial DF
# name (40), path (20), FID (10), SFI supported (04), record number (02); byte 2 = data coding
# byte 21; byte 3 = extended Lc/Le (40), channel numbers assigned by card and by terminal (18),
# four logical channels (b3-b1 = 011 means "up to 4").
_CARD_CAPABILITIES = bytes((0xF6, 0x21, 0x5B))
HISTORICAL_BYTES: bytes = (
    b"\x80"  # category indicator: COMPACT-TLV objects follow
    + b"\x57" + b"cardkit"  # 5x card issuer's data
    + b"\x73" + _CARD_CAPABILITIES
)

_T1_IFSC = 0xFE  # TA3: the card receives blocks of up to 254 bytes
_T1_BWI_CWI = 0x45  # TB3: BWI 4, CWI 5 — the EMV Book 1 §8.3.3.10 maxima


@dataclass(frozen=True, slots=True)
class AtrInfo:
    """What :func:`parse_atr` found in an ATR."""

    protocols: tuple[int, ...]
    historical_bytes: bytes
    interface_bytes: dict[str, int] = field(default_factory=dict)
    tck: int | None = None
    tck_ok: bool = True


def parse_atr(atr: bytes) -> AtrInfo:
    """Walk an ATR per ISO 7816-3 §8.2: interface bytes, offered protocols, historical bytes, TCK.

    Raises:
        ValueError: a truncated ATR, a bad TS, trailing bytes, or a missing TCK when one is required.
    """
    if len(atr) < 2:
        raise ValueError(f"ATR of {len(atr)} bytes is too short")
    if atr[0] not in (0x3B, 0x3F):
        raise ValueError(f"TS {atr[0]:02X} is neither 3B (direct) nor 3F (inverse)")
    k = atr[1] & 0x0F
    y = atr[1] >> 4
    pos = 2
    i = 1
    protocols: list[int] = []
    iface: dict[str, int] = {}
    while True:
        for bit, name in ((1, "TA"), (2, "TB"), (4, "TC")):
            if y & bit:
                if pos >= len(atr):
                    raise ValueError(f"ATR truncated in {name}{i}")
                iface[f"{name}{i}"] = atr[pos]
                pos += 1
        if not y & 8:
            break
        if pos >= len(atr):
            raise ValueError(f"ATR truncated in TD{i}")
        td = atr[pos]
        iface[f"TD{i}"] = td
        pos += 1
        if td & 0x0F not in protocols:
            protocols.append(td & 0x0F)
        y = td >> 4
        i += 1
    if not protocols:
        protocols.append(0)  # no TD1: T=0 only (ISO 7816-3 §8.2.3)
    if pos + k > len(atr):
        raise ValueError("ATR truncated in the historical bytes")
    hist = atr[pos : pos + k]
    pos += k
    tck_needed = protocols != [0]
    tck: int | None = None
    tck_ok = True
    if tck_needed:
        if pos >= len(atr):
            raise ValueError("ATR lacks the TCK its protocols require")
        tck = atr[pos]
        pos += 1
        x = 0
        for b in atr[1:pos]:
            x ^= b
        tck_ok = x == 0
    if pos != len(atr):
        raise ValueError(f"{len(atr) - pos} unexpected byte(s) after the ATR")
    return AtrInfo(tuple(protocols), bytes(hist), iface, tck, tck_ok)


def _with_tck(body: bytes) -> bytes:
    x = 0
    for b in body[1:]:
        x ^= b
    return body + bytes((x,))


def build_contact_atr(historical: bytes = HISTORICAL_BYTES) -> bytes:
    """``3B 8K 80 31 FE 45 <historical> TCK``: T=0 preferred, T=1 also offered (ISO 7816-3 §8.2)."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes fit in T0")
    return _with_tck(bytes((0x3B, 0x80 | len(historical), 0x80, 0x31, _T1_IFSC, _T1_BWI_CWI)) + historical)


def build_contactless_atr(historical: bytes) -> bytes:
    """PC/SC part 3 §3.1.3.2.3 ATR for an ISO 14443-4 type A card: ``3B 8n 80 01 <ATS hist> TCK``."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes fit in the PC/SC contactless ATR")
    return _with_tck(bytes((0x3B, 0x80 | len(historical), 0x80, 0x01)) + historical)


def derive_uid(seed: bytes) -> bytes:
    """A stable 7-byte UID from a seed (the card serial); never the cascade tag 88 first (ISO 14443-3 §6.5.4)."""
    uid = bytearray(hashlib.sha256(b"cardkit-uid\x00" + seed).digest()[:7])
    if uid[0] == 0x88:
        uid[0] = 0x08
    return bytes(uid)


@dataclass(frozen=True, slots=True)
class ContactlessIdentity:
    """The ISO 14443 type A identity of the card and the ATR PC/SC readers report for it.

    ``atqa`` 0044 = double-size (7-byte) UID, bit-frame anticollision; ``sak`` 20 = ISO 14443-4
    compliant (ISO 14443-3 §6.5.3.4); ``ats`` = TL T0 TA TB TC + historical bytes (ISO 14443-4 §5.2).
    """

    uid: bytes
    atqa: bytes = b"\x00\x44"
    sak: int = 0x20
    ats: bytes = b""
    atr: bytes = b""

    def __post_init__(self) -> None:
        if len(self.uid) != 7:
            raise ValueError(f"UID must be 7 bytes, got {len(self.uid)}")
        if not self.ats:
            # T0 78: TA, TB, TC present, FSCI 8 (256-byte frames); TA 80: 106 kbit/s only, same
            # divisor both ways; TB 70: FWI 7, SFGI 0; TC 02: CID supported, NAD not.
            body = b"\x78\x80\x70\x02" + HISTORICAL_BYTES
            object.__setattr__(self, "ats", bytes((len(body) + 1,)) + body)
        if not self.atr:
            object.__setattr__(self, "atr", build_contactless_atr(ats_historical_bytes(self.ats)))


def ats_historical_bytes(ats: bytes) -> bytes:
    """The historical bytes of an ATS (ISO 14443-4 §5.2): what follows TL, T0 and TA/TB/TC."""
    if len(ats) < 2:
        return b""
    t0 = ats[1]
    pos = 2 + (t0 & 0x70).bit_count()
    return bytes(ats[pos : ats[0]])
