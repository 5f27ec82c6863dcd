"""The social insurance application's personalization: a DGI map in, a validated :class:`Profile` out.

The DGIs (docs/social.md "Personalization") follow the transit application's habit: ``SSRR`` for
record RR of SFI SS, 8xxx for secrets (keys, the PIN) and 9xxx for check values and the account
parameters. Everything is validated before the card is touched; a :class:`ProfileError` names the
DGI and never quotes a key or the PIN.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from applets.runtime import fixed_dgi
from applets.social.layout import CARD_INFO_SFI, HOLDER_SFI, INSURANCE_SFI, MAX_RECORD
from cardkit.crypto.hazmat.keys import kcv
from cardkit.errors import ProfileError, TlvError
from cardkit.tlv import decode

__all__ = ["DGI_ACCOUNT", "DGI_KCVS", "DGI_KEYS", "DGI_PIN", "KEY_NAMES", "RECORD_SFIS", "Profile", "parse_dgis"]

RECORD_SFIS = (CARD_INFO_SFI, HOLDER_SFI, INSURANCE_SFI)
DGI_KEYS = 0x8000  # DAK (terminal authentication) | DPK (purchase) | DTK (TAC) | DUK (PIN unblock)
DGI_PIN = 0x8010  # the holder's PIN, 6 ASCII digits
DGI_KCVS = 0x9000  # the keys' 3-byte check values, same order
DGI_ACCOUNT = 0x9201  # key version 1 | medical balance 4 | transaction counter 2
KEY_NAMES = ("DAK", "DPK", "DTK", "DUK")
_KEY = 16
_KCV = 3
_ACCOUNT_LENGTH = 7
_PIN_DIGITS = 6
_MAX_BALANCE = 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated personalization. Keys and the PIN never appear in its repr."""

    records: Mapping[int, tuple[bytes, ...]]  # SFI -> records, record 1 first
    key_version: int
    balance: int
    counter: int
    pin: bytes = field(repr=False)
    dak: bytes = field(repr=False)
    dpk: bytes = field(repr=False)
    dtk: bytes = field(repr=False)
    duk: bytes = field(repr=False)


def _records(dgis: Mapping[int, bytes], sfi: int) -> tuple[bytes, ...]:
    numbers = sorted(d for d in dgis if d >> 8 == sfi)
    first = sfi << 8 | 1
    if not numbers or numbers != list(range(first, first + len(numbers))):
        raise ProfileError(f"DGI {first:04X}..: the records of SFI {sfi:02X} must be numbered 1, 2, ... "
                           "without gaps (at least record 1)")
    for dgi in numbers:
        record = bytes(dgis[dgi])
        if not 1 <= len(record) <= MAX_RECORD:
            raise ProfileError(f"DGI {dgi:04X}: a record is 1..{MAX_RECORD} bytes, got {len(record)}")
        try:
            objs = decode(record)
        except TlvError:
            raise ProfileError(f"DGI {dgi:04X}: the record is not one BER-TLV object") from None
        if len(objs) != 1 or objs[0].tag != bytes((dgi & 0xFF,)):
            raise ProfileError(f"DGI {dgi:04X}: the record must be one TLV tagged {dgi & 0xFF:02X}")
    return tuple(bytes(dgis[d]) for d in numbers)


def parse_dgis(dgis: Mapping[int, bytes]) -> Profile:
    """Validate a social insurance personalization map.

    Raises:
        ProfileError: naming the first DGI that is missing, unknown or wrong (no secret quoted).
    """
    known = (DGI_KEYS, DGI_PIN, DGI_KCVS, DGI_ACCOUNT)
    for dgi in dgis:
        if dgi not in known and dgi >> 8 not in RECORD_SFIS:
            raise ProfileError(f"DGI {dgi:04X} is not a social insurance application DGI")
    records = {sfi: _records(dgis, sfi) for sfi in RECORD_SFIS}
    keys = fixed_dgi(dgis, DGI_KEYS, len(KEY_NAMES) * _KEY, " | ".join(KEY_NAMES))
    kcvs = fixed_dgi(dgis, DGI_KCVS, len(KEY_NAMES) * _KCV, "key check values")
    split = [keys[i * _KEY:(i + 1) * _KEY] for i in range(len(KEY_NAMES))]
    for i, (name, key) in enumerate(zip(KEY_NAMES, split, strict=True)):
        if not hmac.compare_digest(kcv(key, _KCV), kcvs[i * _KCV:(i + 1) * _KCV]):
            raise ProfileError(f"DGI {DGI_KCVS:04X}: the check value of {name} does not match DGI {DGI_KEYS:04X}")
    pin = fixed_dgi(dgis, DGI_PIN, _PIN_DIGITS, "PIN")
    if not all(0x30 <= b <= 0x39 for b in pin):
        raise ProfileError(f"DGI {DGI_PIN:04X}: the PIN must be {_PIN_DIGITS} ASCII digits")
    account = fixed_dgi(dgis, DGI_ACCOUNT, _ACCOUNT_LENGTH, "account parameters")
    balance = int.from_bytes(account[1:5], "big")
    if balance > _MAX_BALANCE:
        raise ProfileError(f"DGI {DGI_ACCOUNT:04X}: the balance is above {_MAX_BALANCE}")
    return Profile(records=records, key_version=account[0], balance=balance,
                   counter=int.from_bytes(account[5:7], "big"), pin=pin,
                   dak=split[0], dpk=split[1], dtk=split[2], duk=split[3])
