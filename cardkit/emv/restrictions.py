"""Processing restrictions (EMV 4.4 Book 3 §10.4): may this card be used here, today, for this?

Three checks, each a TVR bit and never a decline by itself (action analysis decides): application
version (9F08 vs 9F09), application usage control (9F07: domestic/international, ATM or not,
goods/services/cash/cashback), and effective/expiration dates (5F25, 5F24).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from cardkit.emv.config import TerminalConfig
from cardkit.emv.tvr import Tvr

__all__ = ["check_restrictions", "emv_date", "usage_allowed"]

# transaction types (9C, ISO 8583 processing code positions 1-2)
PURCHASE = 0x00
CASH = 0x01
CASHBACK = 0x09
CASH_DISBURSEMENT = 0x17

# AUC byte 1 (Book 3 Annex C2)
_DOM_CASH, _INT_CASH, _DOM_GOODS, _INT_GOODS = 0x80, 0x40, 0x20, 0x10
_DOM_SERVICES, _INT_SERVICES, _ATM, _NOT_ATM = 0x08, 0x04, 0x02, 0x01
# AUC byte 2
_DOM_CASHBACK, _INT_CASHBACK = 0x80, 0x40


def emv_date(raw: bytes) -> date:
    """YYMMDD (format n6) to a date; YY 00-49 is 20YY, 50-99 is 19YY (Book 4 §6.7.3).

    Raises:
        ValueError: not a valid date.
    """
    text = raw.hex()
    if len(raw) != 3 or not text.isdigit():
        raise ValueError(f"{text.upper()} is not a YYMMDD date")
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    return date(2000 + yy if yy < 50 else 1900 + yy, mm, dd)


def usage_allowed(auc: bytes, *, domestic: bool | None, transaction_type: int, config: TerminalConfig) -> bool:
    """Book 3 §10.4.2: does the Application Usage Control allow this transaction here?

    Args:
        domestic: issuer country (5F28) equals the terminal country (9F1A); ``None`` when the card
            has no 5F28, in which case only the ATM / non-ATM check applies.
    """
    if len(auc) < 2:
        return True
    b1, b2 = auc[0], auc[1]
    if not b1 & (_ATM if config.is_atm else _NOT_ATM):
        return False
    if domestic is None:
        return True
    cash = _DOM_CASH if domestic else _INT_CASH
    goods = _DOM_GOODS if domestic else _INT_GOODS
    services = _DOM_SERVICES if domestic else _INT_SERVICES
    if transaction_type in (CASH, CASH_DISBURSEMENT):
        return bool(b1 & cash)
    if transaction_type == PURCHASE:
        # a purchase is of goods or of services; the terminal's 9F40 byte 1 says which it sells
        sells = config.additional_capabilities[0]
        allowed = (b1 & goods and sells & 0x40) or (b1 & services and sells & 0x20)
        return bool(allowed or (b1 & (goods | services) and not sells & 0x60))
    if transaction_type == CASHBACK:
        return bool(b2 & (_DOM_CASHBACK if domestic else _INT_CASHBACK))
    return True


def check_restrictions(
    card: Mapping[bytes, bytes], config: TerminalConfig, *, today: date, transaction_type: int
) -> Tvr:
    """The TVR bits processing restrictions set (Book 3 §10.4).

    Args:
        card: the card's data by tag (9F08, 9F07, 5F28, 5F25, 5F24).
        today: the transaction date (9A).

    Returns:
        Some of DIFFERENT_APP_VERSIONS, SERVICE_NOT_ALLOWED, APP_NOT_YET_EFFECTIVE,
        EXPIRED_APPLICATION.
    """
    bits = Tvr(0)
    version = card.get(b"\x9f\x08")
    if version is not None and version != config.app_version:
        bits |= Tvr.DIFFERENT_APP_VERSIONS
    auc = card.get(b"\x9f\x07")
    if auc is not None:
        country = card.get(b"\x5f\x28")
        domestic = None if country is None else int(country.hex() or "0") == config.country_code
        if not usage_allowed(auc, domestic=domestic, transaction_type=transaction_type, config=config):
            bits |= Tvr.SERVICE_NOT_ALLOWED
    effective = card.get(b"\x5f\x25")
    if effective is not None:
        try:
            if emv_date(effective) > today:
                bits |= Tvr.APP_NOT_YET_EFFECTIVE
        except ValueError:
            bits |= Tvr.APP_NOT_YET_EFFECTIVE
    expiry = card.get(b"\x5f\x24")
    if expiry is not None:
        try:
            if emv_date(expiry) < today:
                bits |= Tvr.EXPIRED_APPLICATION
        except ValueError:
            bits |= Tvr.EXPIRED_APPLICATION
    return bits
