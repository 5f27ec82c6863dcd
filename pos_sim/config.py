"""The merchant / terminal configuration file of the POS simulator (TOML).

One file says who the merchant is (names in Chinese and English, MID), which terminal this is
(TID, type, capabilities), its money (currency 156 CNY, country 0156), its limits and action codes,
the CA public keys it trusts, where its host and journal are. Every key is optional: the defaults
are the demo merchant on the embedded host. ``PosConfig.load`` reports a bad file in one line that
names the key (a ``ProfileError``), never a traceback::

    [merchant]
    name_zh = "卡包测试商户"
    name_en = "CARDKIT TEST MERCHANT"
    mid = "898310048990001"          # ISO 8583 field 42, 15 characters
    category_code = 5999

    [terminal]
    tid = "CK000001"                 # field 41, 8 characters
    type = "22"                      # 9F35, hex
    capabilities = "E0F8C8"          # 9F33, hex
    additional_capabilities = "F000F0A001"
    country = 156
    currency = 156
    host = "embedded"                # or "tcp://127.0.0.1:8583"
    host_timeout = 5.0               # seconds before a reversal
    journal = "pos-journal.sqlite"

    [limits]                         # decimal amounts in the currency
    floor = "0.00"
    contactless_floor = "500.00"
    contactless_cvm = "1000.00"
    contactless_transaction = "5000.00"

    [tac]                            # hex, 5 bytes each
    default = "DC4000A800"
    denial = "0010000000"
    online = "DC4004F800"

    [capk]
    demo = true                      # the published demo CAPK (never on a real terminal)
    files = ["capk.json"]            # CapkStore JSON files, relative to this file
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cardkit.crypto.oda import CapkStore
from cardkit.emv import TerminalConfig
from cardkit.errors import CardkitError, ProfileError

__all__ = ["PosConfig"]

_SECTIONS = {
    "merchant": {"name_zh", "name_en", "mid", "category_code"},
    "terminal": {"tid", "type", "capabilities", "additional_capabilities", "country", "currency", "host",
                 "host_timeout", "journal"},
    "limits": {"floor", "contactless_floor", "contactless_cvm", "contactless_transaction"},
    "tac": {"default", "denial", "online"},
    "capk": {"demo", "files"},
}


@dataclass(frozen=True)
class PosConfig:
    """Everything the terminal needs besides a card: the merchant, the EMV terminal, the host."""

    merchant_name_zh: str = "卡包测试商户"
    merchant_name_en: str = "CARDKIT TEST MERCHANT"
    mid: str = "898310048990001"
    tid: str = "CK000001"
    host: str = "embedded"
    host_timeout: float = 5.0
    journal: Path = Path("pos-journal.sqlite")
    emv: TerminalConfig = field(default_factory=TerminalConfig)

    def __post_init__(self) -> None:
        if len(self.mid) != 15 or not self.mid.isascii() or not self.mid.isalnum():
            raise ProfileError(f"merchant.mid must be 15 letters or digits (ISO 8583 field 42), not {self.mid!r}")
        if len(self.tid) != 8 or not self.tid.isascii() or not self.tid.isalnum():
            raise ProfileError(f"terminal.tid must be 8 letters or digits (ISO 8583 field 41), not {self.tid!r}")
        if not self.host == "embedded" and not self.host.startswith("tcp://"):
            raise ProfileError(f"terminal.host must be 'embedded' or tcp://HOST:PORT, not {self.host!r}")
        if not 0 < self.host_timeout <= 120:
            raise ProfileError("terminal.host_timeout must be between 0 and 120 seconds")

    @property
    def currency(self) -> str:
        """ISO 4217 numeric code as three digits (field 49)."""
        return f"{self.emv.currency_code:03d}"

    @classmethod
    def demo(cls, *, journal: Path | None = None, host: str = "embedded") -> PosConfig:
        """The demo merchant with the published demo CAPK (for the demo card)."""
        from cardkit.issuer.demo_keys import demo_capk

        store = CapkStore()
        store.add(demo_capk())
        base = cls()
        emv = replace(base.emv, capk=store, merchant_name=base.merchant_name_en[:20], merchant_id=base.mid,
                      terminal_id=base.tid)
        return replace(base, emv=emv, host=host, journal=journal or base.journal)

    @classmethod
    def load(cls, path: Path) -> PosConfig:
        """Read a TOML configuration file.

        Raises:
            ProfileError: unreadable file, bad TOML, an unknown key, or a bad value (named).
        """
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read the terminal configuration ({exc.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: not valid TOML ({exc})") from None
        try:
            return cls.from_mapping(raw, base_dir=path.parent)
        except ProfileError as exc:
            raise ProfileError(f"{path}: {exc}") from None

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], *, base_dir: Path = Path(".")) -> PosConfig:
        for section, keys in raw.items():
            if section not in _SECTIONS or not isinstance(keys, dict):
                raise ProfileError(f"unknown section [{section}] (known: {', '.join(_SECTIONS)})")
            unknown = set(keys) - _SECTIONS[section]
            if unknown:
                raise ProfileError(f"unknown key {section}.{sorted(unknown)[0]}")
        m, t = raw.get("merchant", {}), raw.get("terminal", {})
        limits, tac, capk = raw.get("limits", {}), raw.get("tac", {}), raw.get("capk", {})
        base = cls.demo() if capk.get("demo", True) else cls()
        store = CapkStore()
        for capk_key in base.emv.capk:
            store.add(capk_key)
        for name in _typed(capk, "capk.files", list, []):
            try:
                for key in CapkStore.load(base_dir / str(name)):
                    store.add(key)
            except OSError as exc:
                raise ProfileError(f"capk.files: {name}: {exc.strerror}") from None
            except (CardkitError, ValueError) as exc:
                raise ProfileError(f"capk.files: {name}: {exc}") from None
        mid = _typed(m, "merchant.mid", str, base.mid)
        tid = _typed(t, "terminal.tid", str, base.tid)
        name_en = _typed(m, "merchant.name_en", str, base.merchant_name_en)
        emv = replace(
            base.emv, capk=store, merchant_id=mid, terminal_id=tid, merchant_name=name_en[:20],
            merchant_category_code=_typed(m, "merchant.category_code", int, base.emv.merchant_category_code),
            terminal_type=_hex(t, "terminal.type", 1, bytes((base.emv.terminal_type,)))[0],
            capabilities=_hex(t, "terminal.capabilities", 3, base.emv.capabilities),
            additional_capabilities=_hex(t, "terminal.additional_capabilities", 5, base.emv.additional_capabilities),
            country_code=_typed(t, "terminal.country", int, base.emv.country_code),
            currency_code=_typed(t, "terminal.currency", int, base.emv.currency_code),
            floor_limit=_amount(limits, "limits.floor", base.emv.floor_limit),
            contactless_floor_limit=_amount(limits, "limits.contactless_floor", base.emv.contactless_floor_limit),
            contactless_cvm_limit=_amount(limits, "limits.contactless_cvm", base.emv.contactless_cvm_limit),
            contactless_transaction_limit=_amount(limits, "limits.contactless_transaction",
                                                  base.emv.contactless_transaction_limit),
            tac_default=_hex(tac, "tac.default", 5, base.emv.tac_default),
            tac_denial=_hex(tac, "tac.denial", 5, base.emv.tac_denial),
            tac_online=_hex(tac, "tac.online", 5, base.emv.tac_online),
        )
        journal = Path(_typed(t, "terminal.journal", str, str(base.journal)))
        return cls(
            merchant_name_zh=_typed(m, "merchant.name_zh", str, base.merchant_name_zh), merchant_name_en=name_en,
            mid=mid, tid=tid, host=_typed(t, "terminal.host", str, base.host),
            host_timeout=float(_typed(t, "terminal.host_timeout", (int, float), base.host_timeout)),
            journal=journal if journal.is_absolute() else base_dir / journal, emv=emv,
        )


def _typed(section: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = section.get(name.split(".", 1)[1], default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProfileError(f"{name} must be a {expected}, not {value!r}")
    return value


def _hex(section: dict[str, Any], name: str, length: int, default: bytes) -> bytes:
    text = _typed(section, name, str, default.hex().upper())
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise ProfileError(f"{name} must be hexadecimal, not {text!r}") from None
    if len(value) != length:
        raise ProfileError(f"{name} must be {length} bytes ({2 * length} hex digits), not {len(value)}")
    return value


def _amount(section: dict[str, Any], name: str, default_minor: int) -> int:
    text = _typed(section, name, str, f"{Decimal(default_minor).scaleb(-2):.2f}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ProfileError(f"{name} must be an amount like \"500.00\", not {text!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ProfileError(f"{name} must be a non-negative amount with at most two decimals, not {text!r}")
    return int(amount.scaleb(2))
