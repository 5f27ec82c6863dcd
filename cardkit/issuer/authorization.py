"""The issuer's side of a CVN 01 transaction: check the ARQC, answer with an ARPC, write scripts.

The card profile is docs/bank.md ("Application cryptograms"): the AC covers a fixed list of data
elements, so an issuer (the in-process stand-in today, the ISO 8583 host later) rebuilds it from
the ICC data of field 55 alone, with no card-specific configuration.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from cardkit.crypto.emv import (
    derive_icc_master_key,
    derive_session_key,
    derive_sm_session_key,
    generate_arpc_method1,
    script_encrypt,
    script_mac,
    verify_ac,
)
from cardkit.crypto.pin import encode_pin_block
from cardkit.errors import CryptoError
from cardkit.issuer.keys import IssuerKeys
from cardkit.tlv import build

__all__ = [
    "AC_DATA_TAGS",
    "IssuerScript",
    "ScriptCommand",
    "ac_input",
    "card_session_key",
    "issuer_script",
    "make_arpc",
    "verify_arqc",
]

# The elements the AC covers, in order (docs/bank.md); the CVR from 9F10 follows them.
_AC_DATA = ((0x9F02, 6), (0x9F03, 6), (0x9F1A, 2), (0x95, 5), (0x5F2A, 2), (0x9A, 3), (0x9C, 1), (0x9F37, 4),
            (0x82, 2), (0x9F36, 2))  # (tag, length)
AC_DATA_TAGS = tuple(tag for tag, _ in _AC_DATA)


def ac_input(data: Mapping[int, bytes]) -> bytes:
    """The bytes a CVN 01 AC is computed over, from ICC data keyed by tag.

    Raises:
        CryptoError: an element is missing or has the wrong length, or 9F10 is not the PBOC layout.
    """
    parts = []
    for tag, length in _AC_DATA:
        value = data.get(tag)
        if value is None or len(value) != length:
            raise CryptoError(f"ICC data element {tag:X} is missing or not {length} bytes")
        parts.append(value)
    iad = data.get(0x9F10, b"")
    if len(iad) < 7 or iad[0] != 0x07 or iad[3] != 0x03:
        raise CryptoError("issuer application data (9F10) is not the PBOC layout 07 DKI CVN 03 CVR")
    return b"".join(parts) + iad[3:7]


def _pan(data: Mapping[int, bytes]) -> tuple[str, int]:
    pan = data.get(0x5A)
    if not pan:
        raise CryptoError("the PAN (5A) is needed to derive the card's keys")
    psn = data.get(0x5F34, b"\x00")
    return pan.hex().upper().rstrip("F"), int(psn.hex() or "0")


def card_session_key(issuer: IssuerKeys, data: Mapping[int, bytes]) -> bytes:
    """The card's AC session key for this transaction (option A master key, then ATC)."""
    pan, psn = _pan(data)
    atc = data.get(0x9F36)
    if atc is None or len(atc) != 2:
        raise CryptoError("the ATC (9F36) is needed to derive the session key")
    return derive_session_key(derive_icc_master_key(issuer.imk_ac, pan, psn), atc)


def verify_arqc(issuer: IssuerKeys, data: Mapping[int, bytes]) -> bytes:
    """Check the cryptogram (9F26) of ``data``; :class:`InvalidMac` (a CryptoError) if it is wrong.

    Returns:
        The AC session key it was checked under, for :func:`make_arpc` (a host derives it once).
    """
    if data.get(0x9F10, b"\x00\x00\x00")[2:3] != b"\x01":
        raise CryptoError("only cryptogram version 01 (3DES) is supported")
    ac = data.get(0x9F26)
    if ac is None:
        raise CryptoError("the application cryptogram (9F26) is missing")
    session_key = card_session_key(issuer, data)
    verify_ac(session_key, ac_input(data), ac)
    return session_key


def make_arpc(issuer: IssuerKeys, data: Mapping[int, bytes], arc: bytes, *, session_key: bytes | None = None) -> bytes:
    """Issuer authentication data (91): ARPC method 1 under the AC session key ‖ ARC.

    ``session_key``: the one :func:`verify_arqc` returned for this transaction (else derived here).
    """
    key = session_key if session_key is not None else card_session_key(issuer, data)
    return generate_arpc_method1(key, data[0x9F26], arc) + arc


class ScriptCommand(enum.Enum):
    """Issuer script commands the bank application accepts (docs/bank.md), as (INS, P1, P2)."""

    APPLICATION_BLOCK = (0x1E, 0x00, 0x00)
    APPLICATION_UNBLOCK = (0x18, 0x00, 0x00)
    CARD_BLOCK = (0x16, 0x00, 0x00)
    PIN_UNBLOCK = (0x24, 0x00, 0x00)
    PIN_CHANGE = (0x24, 0x00, 0x02)
    PUT_DATA = (0xDA, 0x00, 0x00)  # P1 P2 = the tag, given separately


@dataclass(frozen=True, slots=True)
class IssuerScript:
    """One issuer script command ready for tag 86, and the template (71 / 72) it goes in."""

    command: bytes
    template: int = 0x72

    def tlv(self) -> bytes:
        return build(self.template, build(0x86, self.command))


def issuer_script(
    issuer: IssuerKeys,
    data: Mapping[int, bytes],
    command: ScriptCommand,
    *,
    tag: int = 0,
    value: bytes = b"",
    new_pin: str | None = None,
) -> bytes:
    """A secure-messaging script command for this card and transaction (Book 2 §9).

    The MAC covers ``84 INS P1 P2 Lc ‖ ATC ‖ ARQC ‖ data`` under the SMI session key derived from
    the ARQC; PIN CHANGE enciphers the new PIN (format 2 block) under the SMC session key.
    ``tag``/``value`` are for PUT DATA (e.g. 9F79 and a 6-byte BCD balance).
    """
    pan, psn = _pan(data)
    arqc, atc = data.get(0x9F26), data.get(0x9F36)
    if arqc is None or atc is None:
        raise CryptoError("a script needs the ARQC (9F26) and ATC (9F36) of the transaction")
    ins, p1, p2 = command.value
    body = b""
    if command is ScriptCommand.PUT_DATA:
        if not 0x100 <= tag <= 0xFFFF:
            raise CryptoError("PUT DATA needs a two-byte tag")
        p1, p2 = tag >> 8, tag & 0xFF
        body = value
    elif command is ScriptCommand.PIN_CHANGE:
        if new_pin is None:
            raise CryptoError("PIN CHANGE needs the new PIN")
        smc = derive_sm_session_key(derive_icc_master_key(issuer.imk_smc, pan, psn), arqc)
        body = script_encrypt(smc, encode_pin_block(new_pin, format=2).reveal())
    smi = derive_sm_session_key(derive_icc_master_key(issuer.imk_smi, pan, psn), arqc)
    header = bytes((0x84, ins, p1, p2, len(body) + 8))
    mac = script_mac(smi, header, body, transaction_data=atc + arqc)
    return header + body + mac
