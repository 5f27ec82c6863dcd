"""Terminal configuration: what the terminal is, what it accepts, and its risk parameters.

One frozen value per terminal (EMV 4.4 Book 4 §2 and Annex A; Book 3 §10.6-§10.7). The defaults
describe an attended UnionPay POS in China: country and currency 156, terminal type 22 (attended,
offline with online capability), offline plaintext/online PIN, signature and no-CVM, SDA/DDA/CDA,
the UnionPay debit, credit and quasi-credit AIDs, and the TACs commonly configured on UnionPay
terminals. Amounts are integers in minor units (fen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit.crypto.oda import CapkStore

__all__ = ["SupportedAid", "TerminalConfig", "UNIONPAY_AIDS"]


@dataclass(frozen=True, slots=True)
class SupportedAid:
    """One AID in the terminal's list (Book 1 §12.3.1).

    Args:
        aid: 5-16 bytes.
        partial_match: the terminal accepts card AIDs that start with ``aid`` (Application
            Selection Indicator), and selects further occurrences with SELECT next.
        label: for display when the card gives none.
    """

    aid: bytes
    partial_match: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        if not 5 <= len(self.aid) <= 16:
            raise ValueError(f"AID {self.aid.hex().upper()} is not 5-16 bytes")

    def matches(self, card_aid: bytes) -> bool:
        """Does the card's AID (4F or DF name 84) match this entry (Book 1 §12.3.1)?"""
        if card_aid == self.aid:
            return True
        return self.partial_match and card_aid.startswith(self.aid)


UNIONPAY_AIDS = (
    SupportedAid(bytes.fromhex("A000000333010101"), label="UnionPay Debit"),
    SupportedAid(bytes.fromhex("A000000333010102"), label="UnionPay Credit"),
    SupportedAid(bytes.fromhex("A000000333010103"), label="UnionPay Quasi-credit"),
)


def _n(value: int, nbytes: int) -> bytes:
    """Format n (BCD, right-justified)."""
    digits = f"{value:0{nbytes * 2}d}"
    if len(digits) > nbytes * 2:
        raise ValueError(f"{value} does not fit in {nbytes} BCD bytes")
    return bytes.fromhex(digits)


@dataclass(frozen=True, slots=True)
class TerminalConfig:
    """The terminal's EMV parameters.

    Byte-string fields are the raw EMV values (``capabilities`` is 9F33 as 3 bytes); amounts and
    limits are integers in minor units of ``currency_code``.
    """

    country_code: int = 156  # 9F1A
    currency_code: int = 156  # 5F2A
    currency_exponent: int = 2  # 5F36
    terminal_type: int = 0x22  # 9F35: attended, offline with online capability, merchant
    capabilities: bytes = bytes.fromhex("E0F8C8")  # 9F33
    additional_capabilities: bytes = bytes.fromhex("F000F0A001")  # 9F40
    ttq: bytes = bytes.fromhex("26000080")  # 9F66: qPBOC, online PIN, signature; fDDA v01
    app_version: bytes = bytes.fromhex("0030")  # 9F09 (PBOC 3.0)
    floor_limit: int = 0  # 9F1B; 0 = every contact transaction above zero goes online
    random_threshold: int = 0
    random_target_percent: int = 0
    random_max_target_percent: int = 0
    contactless_floor_limit: int = 50_000  # above it the reader asks the card for an online cryptogram
    contactless_cvm_limit: int = 100_000  # at or above it a CVM is required (1000.00 CNY)
    contactless_transaction_limit: int = 500_000  # at or above it: try another interface
    tac_default: bytes = bytes.fromhex("DC4000A800")
    tac_denial: bytes = bytes.fromhex("0010000000")
    tac_online: bytes = bytes.fromhex("DC4004F800")
    aids: tuple[SupportedAid, ...] = UNIONPAY_AIDS
    capk: CapkStore = field(default_factory=CapkStore, compare=False)
    revoked_certificates: frozenset[bytes] = frozenset()  # RID || CA index || serial
    exception_file: frozenset[str] = frozenset()  # PANs (digits) on the terminal exception file
    default_ddol: bytes = bytes.fromhex("9F3704")
    default_tdol: bytes | None = None
    merchant_name: str = "CARDKIT TEST MERCHANT"  # 9F4E
    merchant_id: str = "123456789012345"  # 9F16
    merchant_category_code: int = 5999  # 9F15
    terminal_id: str = "CK000001"  # 9F1C
    ifd_serial: str = "CARDKIT1"  # 9F1E
    acquirer_id: int = 0  # 9F01
    pin_attempts: int = 3  # offline PIN prompts per transaction before giving up
    use_pse: bool = True  # try 1PAY.SYS.DDF01 before the list of AIDs

    def __post_init__(self) -> None:
        for name, n in (("capabilities", 3), ("additional_capabilities", 5), ("ttq", 4), ("app_version", 2),
                        ("tac_default", 5), ("tac_denial", 5), ("tac_online", 5)):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must be {n} bytes")
        if not 0 <= self.random_target_percent <= self.random_max_target_percent <= 99:
            raise ValueError("random selection needs 0 <= target <= max target <= 99")
        if len(self.terminal_id) > 8 or len(self.ifd_serial) > 8:
            raise ValueError("terminal id (9F1C) and IFD serial (9F1E) are at most 8 characters")

    # ------------------------------------------------------------------ derived facts
    @property
    def online_capable(self) -> bool:
        """Terminal type x1, x2, x4, x5: it can go online (Book 4 Annex A1)."""
        return self.terminal_type & 0x0F in (1, 2, 4, 5)

    @property
    def offline_capable(self) -> bool:
        return self.terminal_type & 0x0F in (2, 3, 5, 6)

    @property
    def is_atm(self) -> bool:
        """An unattended terminal (types 14-16) that dispenses cash (9F40 byte 1 b8) — Book 3 §10.4.2."""
        return self.terminal_type in (0x14, 0x15, 0x16) and bool(self.additional_capabilities[0] & 0x80)

    def supports_cvm(self, method: int) -> bool:
        """Does 9F33 byte 2 support CVM ``method`` (b6-b1 of a CV rule, Book 4 Annex A2)?"""
        b2 = self.capabilities[1]
        return {
            0x00: True,  # fail CVM processing
            0x01: bool(b2 & 0x80),
            0x02: bool(b2 & 0x40),
            0x03: bool(b2 & 0x80) and bool(b2 & 0x20),
            0x04: bool(b2 & 0x10),
            0x05: bool(b2 & 0x10) and bool(b2 & 0x20),
            0x1E: bool(b2 & 0x20),
            0x1F: bool(b2 & 0x08),
        }.get(method, False)

    @property
    def supports_sda(self) -> bool:
        return bool(self.capabilities[2] & 0x80)

    @property
    def supports_dda(self) -> bool:
        return bool(self.capabilities[2] & 0x40)

    @property
    def supports_cda(self) -> bool:
        return bool(self.capabilities[2] & 0x08)

    def terminal_data(self) -> dict[bytes, bytes]:
        """The terminal-resident data elements, by tag, for DOLs and field 55."""
        return {
            b"\x9f\x1a": _n(self.country_code, 2),
            b"\x5f\x2a": _n(self.currency_code, 2),
            b"\x5f\x36": _n(self.currency_exponent, 1),
            b"\x9f\x35": bytes((self.terminal_type,)),
            b"\x9f\x33": self.capabilities,
            b"\x9f\x40": self.additional_capabilities,
            b"\x9f\x09": self.app_version,
            b"\x9f\x1b": self.floor_limit.to_bytes(4, "big"),
            b"\x9f\x4e": self.merchant_name.encode("ascii")[:20],
            b"\x9f\x16": self.merchant_id.encode("ascii")[:15].ljust(15),
            b"\x9f\x15": _n(self.merchant_category_code, 2),
            b"\x9f\x1c": self.terminal_id.encode("ascii").ljust(8),
            b"\x9f\x1e": self.ifd_serial.encode("ascii").ljust(8),
            b"\x9f\x01": _n(self.acquirer_id, 6),
        }


def bcd(value: int, nbytes: int) -> bytes:
    """Format n of ``nbytes`` bytes (used for amounts 9F02/9F03, dates)."""
    return _n(value, nbytes)
