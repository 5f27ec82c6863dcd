"""Data preparation for the transit purse: one account in, the personalization DGIs out.

The output is the DGI map of docs/transit-card.md "Personalization", which
:meth:`applets.transit.TransitApplet.personalize` validates and stores. The card's DLK, DPK and
DTK are diversified here from the issuer's master keys by the application serial's last 8 bytes
(:func:`cardkit.crypto.purse.diversify_card_key`); the card never sees a master key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cardkit.crypto.hazmat.keys import MasterKey, kcv, key_length
from cardkit.crypto.purse import PurseAlgorithm, diversify_card_key
from cardkit.errors import ProfileError

__all__ = ["TRANSIT_RECORD_ID", "TRANSIT_RECORD_LENGTH", "TransitAccount", "prepare_transit"]

# DGIs of docs/transit-card.md (the card's parser is applets.transit.profile)
_DGI_ISSUER_INFO = 0x1500
_DGI_HOLDER_INFO = 0x1600
_DGI_CAPP_RECORD_1 = 0x1701
_DGI_KEYS = 0x8000
_DGI_KCVS = 0x9000
_DGI_PURSE = 0x9201
_ALGORITHM_BYTE = {PurseAlgorithm.TDES: 0x00, PurseAlgorithm.SM4: 0x04}
_KCV_NAME = {PurseAlgorithm.TDES: "3DES", PurseAlgorithm.SM4: "SM4"}

APP_TYPE_PURSE = 0x03
TRANSIT_RECORD_ID = 0x01  # CAPP record 1: the transit record the fare validator owns
TRANSIT_RECORD_LENGTH = 48
_SERIAL_DIGITS = 20
_NAME_BYTES = 20
_ID_BYTES = 32
_MAX_BALANCE = 0x7FFFFFFF
_MAX_OVERDRAFT = 0xFFFFFF


@dataclass(frozen=True, slots=True)
class TransitAccount:
    """One card's purse. Amounts are integers in fen; dates are the application's validity.

    Raises (at construction):
        ProfileError: naming the field that is wrong.
    """

    serial: str  # 20 digits; its last 16 (8 BCD bytes) are the key diversifier X
    holder_name: str
    id_number: str = field(repr=False)
    start: date
    expiry: date
    initial_balance: int = 0
    max_balance: int = 100_000
    overdraft: int = 0
    algorithm: PurseAlgorithm = PurseAlgorithm.TDES
    issuer_id: bytes = bytes.fromhex("3100000000000000")
    app_version: int = 0x01
    key_version: int = 0x01
    card_type: int = 0x00
    staff: int = 0x00
    id_type: int = 0x00
    mac_failure_limit: int = 3

    def __post_init__(self) -> None:
        if not (len(self.serial) == _SERIAL_DIGITS and self.serial.isdigit()):
            raise ProfileError(f"serial: must be {_SERIAL_DIGITS} digits")
        try:
            name = self.holder_name.encode("gb18030")
        except UnicodeEncodeError:
            raise ProfileError("holder_name: not encodable in GB18030") from None
        if len(name) > _NAME_BYTES:
            raise ProfileError(f"holder_name: {len(name)} bytes in GB18030, at most {_NAME_BYTES}")
        if not (self.id_number.isascii() and len(self.id_number) <= _ID_BYTES):
            raise ProfileError(f"id_number: at most {_ID_BYTES} ASCII characters")
        if self.expiry < self.start:
            raise ProfileError("expiry: before the start date")
        if not 0 < self.max_balance <= _MAX_BALANCE:
            raise ProfileError(f"max_balance: 1..{_MAX_BALANCE} fen")
        if not 0 <= self.initial_balance <= self.max_balance:
            raise ProfileError("initial_balance: 0..max_balance fen")
        if not 0 <= self.overdraft <= _MAX_OVERDRAFT:
            raise ProfileError(f"overdraft: 0..{_MAX_OVERDRAFT} fen")
        if len(self.issuer_id) != 8:
            raise ProfileError("issuer_id: must be 8 bytes")
        for name_, value in (("app_version", self.app_version), ("key_version", self.key_version),
                             ("card_type", self.card_type), ("staff", self.staff), ("id_type", self.id_type)):
            if not 0 <= value <= 0xFF:
                raise ProfileError(f"{name_}: one byte (0..255)")
        if not 1 <= self.mac_failure_limit <= 0xFF:
            raise ProfileError("mac_failure_limit: 1..255")

    @property
    def diversifier(self) -> bytes:
        """X: the last 8 bytes of the 10-byte BCD application serial."""
        return bytes.fromhex(self.serial)[2:]


def _bcd_date(d: date) -> bytes:
    return bytes.fromhex(f"{d.year:04d}{d.month:02d}{d.day:02d}")


def issuer_information(account: TransitAccount) -> bytes:
    """SFI 15 (30 bytes): issuer id 8 | app type 1 | app version 1 | serial 10 | start 4 | expiry 4 | 00 00."""
    return (account.issuer_id + bytes((APP_TYPE_PURSE, account.app_version)) + bytes.fromhex(account.serial)
            + _bcd_date(account.start) + _bcd_date(account.expiry) + bytes(2))


def holder_information(account: TransitAccount) -> bytes:
    """SFI 16 (55 bytes): card type 1 | staff 1 | name 20 (GB18030) | ID number 32 | ID type 1, 00-padded."""
    return (bytes((account.card_type, account.staff)) + account.holder_name.encode("gb18030").ljust(_NAME_BYTES, b"\0")
            + account.id_number.encode("ascii").ljust(_ID_BYTES, b"\0") + bytes((account.id_type,)))


def _purse_parameters(account: TransitAccount) -> bytes:
    """DGI 9201: algorithm | key version | balance 4 | max 4 | overdraft 3 | online 2 | offline 2 | MAC limit."""
    return (bytes((_ALGORITHM_BYTE[account.algorithm], account.key_version))
            + account.initial_balance.to_bytes(4, "big") + account.max_balance.to_bytes(4, "big")
            + account.overdraft.to_bytes(3, "big") + bytes(4) + bytes((account.mac_failure_limit,)))


def prepare_transit(account: TransitAccount, *, mlk: MasterKey, mpk: MasterKey, mtk: MasterKey) -> dict[int, bytes]:
    """The personalization DGIs of one transit purse (docs/transit-card.md "Personalization").

    Args:
        account: the card's purse.
        mlk, mpk, mtk: the issuer's load, purchase and TAC master keys (16 bytes each), by value or
            held by a keystore (they never leave it; only the card's diversified keys come out).

    Returns:
        DGI → bytes: files 1500/1600/1701, keys 8000 (DLK ‖ DPK ‖ DTK), their KCVs 9000, purse 9201.

    Raises:
        ProfileError: a master key is not 16 bytes (the key itself is never quoted).
    """
    for name, key in (("mlk", mlk), ("mpk", mpk), ("mtk", mtk)):
        if key_length(key) != 16:
            raise ProfileError(f"{name}: a purse master key is 16 bytes, got {key_length(key)}")
    x = account.diversifier
    keys = [diversify_card_key(mk, x, account.algorithm) for mk in (mlk, mpk, mtk)]
    check = b"".join(kcv(k, 3, algorithm=_KCV_NAME[account.algorithm]) for k in keys)
    transit_record = bytes((TRANSIT_RECORD_ID,)) + bytes(TRANSIT_RECORD_LENGTH - 1)
    return {
        _DGI_ISSUER_INFO: issuer_information(account),
        _DGI_HOLDER_INFO: holder_information(account),
        _DGI_CAPP_RECORD_1: transit_record,
        _DGI_KEYS: b"".join(keys),
        _DGI_KCVS: check,
        _DGI_PURSE: _purse_parameters(account),
    }
