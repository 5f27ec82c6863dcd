"""The transit application's personalization: a DGI map in, a validated :class:`Profile` out.

The DGIs (docs/transit-card.md "Personalization") follow the EMV CPS habit of the bank
application: ``SSRR`` for record RR of SFI SS, ``SS00`` for a transparent EF, 8xxx for secret keys
and 9xxx for their check values and the purse parameters. Everything is validated before the card
is touched; a :class:`ProfileError` names the DGI and never quotes key bytes.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from applets.runtime import fixed_dgi
from applets.transit.layout import (
    ALGORITHM_BYTES,
    CAPP_CACHE_SFI,
    HOLDER_INFO_LENGTH,
    HOLDER_INFO_SFI,
    ISSUER_INFO_LENGTH,
    ISSUER_INFO_SFI,
)
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.purse import PurseAlgorithm
from cardkit.errors import ProfileError

__all__ = [
    "DGI_CAPP_RECORD_FIRST",
    "DGI_HOLDER_INFO",
    "DGI_ISSUER_INFO",
    "DGI_KCVS",
    "DGI_KEYS",
    "DGI_PURSE",
    "MAX_CAPP_RECORD",
    "Profile",
    "PurseParameters",
    "parse_dgis",
]

DGI_ISSUER_INFO = ISSUER_INFO_SFI << 8  # 1500: SFI 15, 30 bytes
DGI_HOLDER_INFO = HOLDER_INFO_SFI << 8  # 1600: SFI 16, 55 bytes
DGI_CAPP_RECORD_FIRST = CAPP_CACHE_SFI << 8 | 1  # 1701, 1702 ...: CAPP data cache records
DGI_KEYS = 0x8000  # DLK || DPK || DTK, 16 bytes each
DGI_KCVS = 0x9000  # their 3-byte check values, same order
DGI_PURSE = 0x9201  # purse parameters (PurseParameters.LENGTH bytes)

MAX_CAPP_RECORD = 128  # longest CAPP data cache record the card keeps
_KEY = 16
_KCV = 3
_MAX_BALANCE_LIMIT = 0x7FFFFFFF  # balances are signed 4-byte fields once an overdraft is used
_KNOWN_SINGLE = (DGI_ISSUER_INFO, DGI_HOLDER_INFO, DGI_KEYS, DGI_KCVS, DGI_PURSE)
_ALGORITHMS = {byte: PurseAlgorithm(name) for name, byte in ALGORITHM_BYTES.items()}


@dataclass(frozen=True, slots=True)
class PurseParameters:
    """DGI 9201: algorithm(1) key version(1) balance(4) max balance(4) overdraft limit(3)
    online counter(2) offline counter(2) MAC failure limit(1)."""

    LENGTH = 18

    algorithm: PurseAlgorithm = PurseAlgorithm.TDES
    key_version: int = 0x01
    balance: int = 0
    max_balance: int = 100_000
    overdraft_limit: int = 0
    online_counter: int = 0
    offline_counter: int = 0
    mac_failure_limit: int = 3

    @classmethod
    def parse(cls, data: bytes) -> PurseParameters:
        where = f"DGI {DGI_PURSE:04X}"
        if len(data) != cls.LENGTH:
            raise ProfileError(f"{where}: purse parameters are {cls.LENGTH} bytes, got {len(data)}")
        algorithm = _ALGORITHMS.get(data[0])
        if algorithm is None:
            raise ProfileError(f"{where}: unknown algorithm byte {data[0]:02X} (00 3DES, 04 SM4)")
        p = cls(algorithm, data[1], int.from_bytes(data[2:6], "big"), int.from_bytes(data[6:10], "big"),
                int.from_bytes(data[10:13], "big"), int.from_bytes(data[13:15], "big"),
                int.from_bytes(data[15:17], "big"), data[17])
        if p.max_balance > _MAX_BALANCE_LIMIT:
            raise ProfileError(f"{where}: maximum balance above {_MAX_BALANCE_LIMIT}")
        if p.balance > p.max_balance:
            raise ProfileError(f"{where}: initial balance {p.balance} above the maximum {p.max_balance}")
        if p.mac_failure_limit == 0:
            raise ProfileError(f"{where}: the MAC failure limit must be at least 1")
        return p


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated personalization. The keys never appear in its repr."""

    issuer_info: bytes
    holder_info: bytes
    capp_records: tuple[bytes, ...]
    purse: PurseParameters
    dlk: bytes = field(repr=False)
    dpk: bytes = field(repr=False)
    dtk: bytes = field(repr=False)


def _capp_records(dgis: Mapping[int, bytes]) -> tuple[bytes, ...]:
    numbers = sorted(d for d in dgis if d >> 8 == CAPP_CACHE_SFI)
    if not numbers or numbers != list(range(DGI_CAPP_RECORD_FIRST, DGI_CAPP_RECORD_FIRST + len(numbers))):
        raise ProfileError(f"DGI {DGI_CAPP_RECORD_FIRST:04X}..: CAPP data cache records must be numbered "
                           "1, 2, ... without gaps (at least record 1)")
    records = tuple(bytes(dgis[d]) for d in numbers)
    seen: set[int] = set()
    for dgi, record in zip(numbers, records, strict=True):
        if not 1 <= len(record) <= MAX_CAPP_RECORD:
            raise ProfileError(f"DGI {dgi:04X}: a CAPP record is 1..{MAX_CAPP_RECORD} bytes, got {len(record)}")
        if record[0] in seen:
            raise ProfileError(f"DGI {dgi:04X}: record identifier {record[0]:02X} is used twice")
        seen.add(record[0])
    return records


def parse_dgis(dgis: Mapping[int, bytes]) -> Profile:
    """Validate a transit personalization map.

    Raises:
        ProfileError: naming the first DGI that is missing, unknown or wrong (no key bytes quoted).
    """
    for dgi in dgis:
        if dgi not in _KNOWN_SINGLE and dgi >> 8 != CAPP_CACHE_SFI:
            raise ProfileError(f"DGI {dgi:04X} is not a transit application DGI")
    purse = PurseParameters.parse(fixed_dgi(dgis, DGI_PURSE, PurseParameters.LENGTH, "purse parameters"))
    keys = fixed_dgi(dgis, DGI_KEYS, 3 * _KEY, "DLK, DPK, DTK")
    kcvs = fixed_dgi(dgis, DGI_KCVS, 3 * _KCV, "key check values")
    algorithm = "SM4" if purse.algorithm is PurseAlgorithm.SM4 else "3DES"
    names = ("DLK", "DPK", "DTK")
    for i, name in enumerate(names):
        key = keys[i * _KEY:(i + 1) * _KEY]
        if not hmac.compare_digest(kcv(key, _KCV, algorithm=algorithm), kcvs[i * _KCV:(i + 1) * _KCV]):
            raise ProfileError(f"DGI {DGI_KCVS:04X}: the check value of {name} does not match DGI {DGI_KEYS:04X}")
    return Profile(
        issuer_info=fixed_dgi(dgis, DGI_ISSUER_INFO, ISSUER_INFO_LENGTH, "public issuer information"),
        holder_info=fixed_dgi(dgis, DGI_HOLDER_INFO, HOLDER_INFO_LENGTH, "holder information"),
        capp_records=_capp_records(dgis),
        purse=purse,
        dlk=keys[:_KEY],
        dpk=keys[_KEY:2 * _KEY],
        dtk=keys[2 * _KEY:],
    )

