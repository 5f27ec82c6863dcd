"""Data preparation for the social insurance application: one account in, the personalization DGIs out.

The output is the DGI map of docs/social.md "Personalization", which
:meth:`applets.social.SocialApplet.personalize` validates and stores. The card keys DAK (terminal
authentication), DPK (purchase), DTK (TAC) and DUK (PIN unblock) are diversified here from the
issuer's master keys by the card number (8 BCD bytes, :func:`cardkit.crypto.purse.diversify_card_key`);
the card never sees a master key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cardkit.crypto.hazmat.keys import MasterKey, kcv, key_length
from cardkit.crypto.purse import diversify_card_key
from cardkit.errors import ProfileError
from cardkit.social.records import (
    CardInfo,
    Holder,
    InsuranceState,
    InsuranceStatus,
    Scheme,
    card_info_records,
    holder_records,
    insurance_records,
)

__all__ = ["SocialAccount", "gb11643_check_digit", "prepare_social"]

_DGI_KEYS = 0x8000
_DGI_PIN = 0x8010
_DGI_KCVS = 0x9000
_DGI_ACCOUNT = 0x9201
_SFI_CARD, _SFI_HOLDER, _SFI_INSURANCE = 0x05, 0x06, 0x07
_MAX_BALANCE = 0x7FFFFFFF
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))


def gb11643_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of an 18-character citizen ID number (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def _all_enrolled(since: date) -> tuple[InsuranceStatus, ...]:
    return tuple(InsuranceStatus(s, InsuranceState.ENROLLED, since) for s in Scheme)


@dataclass(frozen=True, slots=True)
class SocialAccount:
    """One card's social insurance data. The PIN and the ID number never appear in ``repr``.

    Raises (at construction):
        ProfileError: naming the field that is wrong (never quoting the PIN).
    """

    card_number: str  # 16 digits; as 8 BCD bytes it diversifies the card keys
    region: str  # 6-digit issuing region code (GB/T 2260)
    issued: date
    expiry: date
    name: str  # as printed, e.g. 张三 (GB18030 on the card)
    latin_name: str  # e.g. ZHANG/SAN
    sex: str  # GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 not stated
    ethnicity: str  # GB 3304, 01 Han
    birth_date: date
    id_number: str = field(repr=False)
    pin: str = field(repr=False, default="")
    insurance: tuple[InsuranceStatus, ...] = ()  # default: every scheme enrolled since ``issued``
    initial_balance: int = 0  # medical account, fen
    version: str = "3.00"
    key_version: int = 0x01

    def __post_init__(self) -> None:
        if not (len(self.card_number) == 16 and self.card_number.isdigit()):
            raise ProfileError("card_number: must be 16 digits")
        if not (len(self.region) == 6 and self.region.isdigit()):
            raise ProfileError("region: must be 6 digits")
        if self.expiry < self.issued:
            raise ProfileError("expiry: before the issue date")
        if not (len(self.pin) == 6 and self.pin.isascii() and self.pin.isdigit()):
            raise ProfileError("pin: must be 6 digits")
        idn = self.id_number
        if not (len(idn) == 18 and idn[:17].isdigit() and idn.isascii()):
            raise ProfileError("id_number: must be 18 characters, 17 digits and a check character")
        if gb11643_check_digit(idn[:17]) != idn[17]:
            raise ProfileError("id_number: the GB 11643 check character is wrong")
        if idn[6:14] != f"{self.birth_date:%Y%m%d}":
            raise ProfileError("id_number: its birth date is not birth_date")
        try:
            name = self.name.encode("gb18030")
        except UnicodeEncodeError:
            raise ProfileError("name: not encodable in GB18030") from None
        if not 1 <= len(name) <= 30:
            raise ProfileError("name: 1..30 bytes in GB18030")
        if not (self.latin_name.isascii() and 1 <= len(self.latin_name) <= 40):
            raise ProfileError("latin_name: 1..40 ASCII characters")
        if self.sex not in ("0", "1", "2", "9"):
            raise ProfileError("sex: one of 0, 1, 2, 9 (GB/T 2261.1)")
        if not (len(self.ethnicity) == 2 and self.ethnicity.isdigit()):
            raise ProfileError("ethnicity: a 2-digit GB 3304 code")
        if not 0 <= self.initial_balance <= _MAX_BALANCE:
            raise ProfileError(f"initial_balance: 0..{_MAX_BALANCE} fen")
        if not (self.version.isascii() and 1 <= len(self.version) <= 8):
            raise ProfileError("version: 1..8 ASCII characters")
        if not 0 <= self.key_version <= 0xFF:
            raise ProfileError("key_version: one byte")
        if len({s.scheme for s in self.insurance}) != len(self.insurance):
            raise ProfileError("insurance: a scheme listed twice")

    @property
    def card_info(self) -> CardInfo:
        return CardInfo(self.card_number, self.region, self.issued, self.expiry, self.version)

    @property
    def holder(self) -> Holder:
        return Holder(self.name, self.latin_name, self.sex, self.ethnicity, self.birth_date, self.id_number)

    @property
    def statuses(self) -> tuple[InsuranceStatus, ...]:
        return self.insurance or _all_enrolled(self.issued)


def prepare_social(account: SocialAccount, *, terminal_auth_master: MasterKey, purchase_master: MasterKey,
                   tac_master: MasterKey, unblock_master: MasterKey) -> dict[int, bytes]:
    """The personalization DGIs of one social insurance application (docs/social.md "Personalization").

    Returns:
        DGI → bytes: records 05RR / 06RR / 07RR, keys 8000 (DAK ‖ DPK ‖ DTK ‖ DUK), PIN 8010, their
        KCVs 9000, account 9201 (key version ‖ balance ‖ counter 0).

    Raises:
        ProfileError: a master key is not 16 bytes (the key itself is never quoted).
    """
    masters = (("terminal_auth_master", terminal_auth_master), ("purchase_master", purchase_master),
               ("tac_master", tac_master), ("unblock_master", unblock_master))
    for name, key in masters:
        if key_length(key) != 16:
            raise ProfileError(f"{name}: a social insurance master key is 16 bytes, got {key_length(key)}")
    x = account.card_info.diversifier
    keys = [diversify_card_key(mk, x) for _, mk in masters]
    dgis: dict[int, bytes] = {}
    for sfi, records in ((_SFI_CARD, card_info_records(account.card_info)),
                         (_SFI_HOLDER, holder_records(account.holder)),
                         (_SFI_INSURANCE, insurance_records(account.statuses))):
        for number, record in enumerate(records, start=1):
            dgis[sfi << 8 | number] = record
    dgis[_DGI_KEYS] = b"".join(keys)
    dgis[_DGI_KCVS] = b"".join(kcv(k, 3) for k in keys)
    dgis[_DGI_PIN] = account.pin.encode("ascii")
    dgis[_DGI_ACCOUNT] = bytes((account.key_version,)) + account.initial_balance.to_bytes(4, "big") + bytes(2)
    return dgis
