"""Offline data authentication as a kernel step (EMV 4.4 Book 3 §10.3, Book 2 §5-§6).

The cryptography lives in :mod:`cardkit.crypto.oda`; this module decides which method to run
(CDA over DDA over SDA, when both the AIP and the terminal capabilities allow it), gathers the
card data it needs, sends INTERNAL AUTHENTICATE for DDA, and turns the result into TVR/TSI bits.
A failure is never an exception here: it is a TVR bit, and action analysis decides what it means.
"""

from __future__ import annotations

import logging
from datetime import date

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.crypto import oda
from cardkit.crypto.oda import OdaError, OdaMethod, OdaReason, RecoveredIccKey, RecoveredIssuerKey
from cardkit.emv.config import TerminalConfig
from cardkit.emv.context import Transaction
from cardkit.emv.tvr import Tsi, Tvr
from cardkit.errors import TlvError
from cardkit.readers.channel import CardChannel

__all__ = [
    "AIP_CDA",
    "AIP_DDA",
    "AIP_SDA",
    "authenticate",
    "internal_authenticate",
    "recover_keys",
    "record_failure",
    "select_method",
]

log = logging.getLogger(__name__)

# AIP byte 1 (Book 3 Annex C1)
AIP_SDA = 0x40
AIP_DDA = 0x20
AIP_CARDHOLDER_VERIFICATION = 0x10
AIP_TERMINAL_RISK_MANAGEMENT = 0x08
AIP_ISSUER_AUTHENTICATION = 0x04
AIP_CDA = 0x01


def select_method(aip: bytes, config: TerminalConfig) -> OdaMethod | None:
    """Book 3 §10.3: CDA if both support it, else DDA, else SDA, else none."""
    b1 = aip[0] if aip else 0
    if b1 & AIP_CDA and config.supports_cda:
        return OdaMethod.CDA
    if b1 & AIP_DDA and config.supports_dda:
        return OdaMethod.DDA
    if b1 & AIP_SDA and config.supports_sda:
        return OdaMethod.SDA
    return None


def record_failure(txn: Transaction, method: OdaMethod, reason: OdaReason) -> None:
    """Set the TVR bits for ``method`` failing with ``reason`` (docs/oda.md, the mapping table)."""
    txn.oda_failure = reason
    txn.tvr |= Tvr(oda.tvr_byte1(method, reason) << 32)
    log.info("%s failed: %s", method.value, reason.value)


def _static_data(txn: Transaction) -> bytes:
    return oda.static_data_to_authenticate(
        txn.records, aip=txn.aip, sda_tag_list=txn.card.get(b"\x9f\x4a")
    )


def _issuer_key(txn: Transaction, config: TerminalConfig, today: date) -> RecoveredIssuerKey:
    index = txn.card.get(b"\x8f")
    if not index or len(index) != 1:
        raise OdaError(OdaReason.ICC_DATA_MISSING, "§6.2", "CA public key index (8F) is absent")
    capk = config.capk.get(txn.aid[:5], index[0], today=today)
    return oda.recover_issuer_key(
        capk, txn.card.get(b"\x90"), txn.card.get(b"\x92"), txn.card.get(b"\x9f\x32"),
        pan=txn.pan, today=today, revoked=config.revoked_certificates,
    )


def recover_keys(txn: Transaction, config: TerminalConfig) -> RecoveredIccKey:
    """The CAPK -> issuer -> ICC key chain (Book 2 §6.2-§6.4), over the static data of the records.

    Raises:
        OdaError: whichever check failed.
    """
    today = txn.when.date()
    issuer = _issuer_key(txn, config, today)
    icc = oda.recover_icc_key(
        issuer, txn.card.get(b"\x9f\x46"), txn.card.get(b"\x9f\x48"), txn.card.get(b"\x9f\x47"),
        pan=txn.pan, static_data=_static_data(txn), today=today,
    )
    txn.icc_key = icc
    return icc


def internal_authenticate(channel: CardChannel, txn: Transaction, config: TerminalConfig) -> tuple[bytes, bytes]:
    """INTERNAL AUTHENTICATE with the card's DDOL (9F49) or the terminal default DDOL (Book 3 §6.5.9).

    Returns:
        ``(ddol_data, sdad)``: what was sent and the Signed Dynamic Application Data received
        (format 1 ``80`` or format 2 ``77``/``9F4B``).

    Raises:
        CardError: the card refused the command.
        OdaError: ICC_DATA_MISSING when the response carries no SDAD, or the DDOL lacks 9F37.
    """
    ddol = txn.card.get(b"\x9f\x49") or config.default_ddol
    if not any(tag == b"\x9f\x37" for tag, _ in tlv.parse_dol(ddol)):
        raise OdaError(OdaReason.ICC_DATA_MISSING, "§6.5.1", "the DDOL does not contain 9F37")
    ddol_data = tlv.build_dol_data(ddol, txn.values())
    resp = channel.transmit_ok(CommandAPDU(0x00, 0x88, 0x00, 0x00, ddol_data, le=256))
    try:
        objs = tlv.decode(resp.data)
    except TlvError:
        objs = []
    sdad: bytes | None = None
    if len(objs) == 1 and objs[0].tag == b"\x80":
        sdad = objs[0].value
    elif len(objs) == 1 and objs[0].tag == b"\x77":
        found = tlv.find(objs[0].children, 0x9F4B)
        sdad = found.value if found is not None else None
    if not sdad:
        raise OdaError(OdaReason.ICC_DATA_MISSING, "§6.5.1", "INTERNAL AUTHENTICATE returned no SDAD")
    return ddol_data, sdad


def authenticate(channel: CardChannel, txn: Transaction, config: TerminalConfig) -> OdaMethod | None:
    """Run offline data authentication, setting TVR byte 1 and TSI 'ODA performed' (Book 3 §10.3).

    SDA and DDA complete here. For CDA only the keys are recovered now; the signature is
    checked on the GENERATE AC response (:mod:`cardkit.emv.actions`). ``txn.cda_requested``
    tells action analysis whether to ask for it.

    Raises:
        CardError: INTERNAL AUTHENTICATE was refused (Book 3: terminate the transaction).
    """
    method = select_method(txn.aip, config)
    txn.oda_method = method
    if method is None:
        txn.tvr |= Tvr.ODA_NOT_PERFORMED
        log.info("no common ODA method (AIP %s)", txn.aip.hex().upper())
        return None
    txn.tsi |= Tsi.ODA_PERFORMED
    if method is OdaMethod.SDA:
        txn.tvr |= Tvr.SDA_SELECTED
    try:
        if method is OdaMethod.SDA:
            issuer = _issuer_key(txn, config, txn.when.date())
            dac = oda.verify_static_data(issuer, txn.card.get(b"\x93"), _static_data(txn))
            txn.card[b"\x9f\x45"] = dac
        elif method is OdaMethod.DDA:
            icc = recover_keys(txn, config)
            ddol_data, sdad = internal_authenticate(channel, txn, config)
            dynamic = oda.verify_dynamic_data(icc, sdad, ddol_data)
            txn.card[b"\x9f\x4c"] = dynamic.icc_dynamic_number
        else:
            recover_keys(txn, config)
            txn.cda_requested = True
    except OdaError as exc:
        record_failure(txn, method, exc.reason)
    return method
