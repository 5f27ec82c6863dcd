"""Terminal and card action analysis (EMV 4.4 Book 3 §10.7-§10.8, §6.5.5; Book 4 §6.3.6-6.3.7).

Terminal action analysis weighs the TVR against the issuer's action codes (IAC, from the card)
and the acquirer's (TAC, from the configuration) to pick the cryptogram to ask for. Card action
analysis is the GENERATE AC command itself: the card may answer with a weaker cryptogram, never a
stronger one; with CDA the answer is signed and checked here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.crypto import oda
from cardkit.crypto.oda import OdaError, OdaMethod
from cardkit.emv.authentication import record_failure
from cardkit.emv.config import TerminalConfig
from cardkit.emv.context import Transaction
from cardkit.emv.outcome import CardDataError
from cardkit.emv.tvr import Cid, CryptogramType, Tsi, Tvr
from cardkit.errors import TlvError
from cardkit.readers.channel import CardChannel

__all__ = [
    "AcResponse",
    "default_action",
    "generate_ac",
    "generate_ac_command",
    "parse_ac_response",
    "tc_hash",
    "terminal_action_analysis",
]

log = logging.getLogger(__name__)

_ZERO = bytes(5)
_ONES = b"\xff" * 5


def _hits(tvr: Tvr, *codes: bytes) -> bool:
    value = tvr.value
    return any(value & int.from_bytes(code, "big") for code in codes)


def terminal_action_analysis(
    tvr: Tvr, card: Mapping[bytes, bytes], config: TerminalConfig, *, can_go_online: bool | None = None
) -> CryptogramType:
    """Book 3 §10.7: AAC, ARQC or TC for the first GENERATE AC.

    An absent IAC-Denial counts as all zeros; absent IAC-Online and IAC-Default as all ones.

    Args:
        card: the card data (9F0E IAC-Denial, 9F0F IAC-Online, 9F0D IAC-Default).
        can_go_online: override of the terminal type's online capability.
    """
    iac_denial = card.get(b"\x9f\x0e", _ZERO)
    iac_online = card.get(b"\x9f\x0f", _ONES)
    iac_default = card.get(b"\x9f\x0d", _ONES)
    if _hits(tvr, iac_denial, config.tac_denial):
        return CryptogramType.AAC
    online = config.online_capable if can_go_online is None else can_go_online
    if online:
        if not config.offline_capable:  # online-only terminal: every transaction goes online
            return CryptogramType.ARQC
        return CryptogramType.ARQC if _hits(tvr, iac_online, config.tac_online) else CryptogramType.TC
    return CryptogramType.AAC if _hits(tvr, iac_default, config.tac_default) else CryptogramType.TC


def default_action(tvr: Tvr, card: Mapping[bytes, bytes], config: TerminalConfig) -> CryptogramType:
    """Book 3 §10.7, when an online-capable terminal could not go online: the default codes
    decide between AAC (ARC Z3) and TC (ARC Y3)."""
    iac_default = card.get(b"\x9f\x0d", _ONES)
    return CryptogramType.AAC if _hits(tvr, iac_default, config.tac_default) else CryptogramType.TC


@dataclass(frozen=True, slots=True)
class AcResponse:
    """A GENERATE AC response: CID, ATC, AC, IAD, and every data object of a format 2 answer."""

    cid: Cid
    atc: bytes
    ac: bytes
    iad: bytes
    data: dict[bytes, bytes]
    raw: bytes


def generate_ac_command(requested: CryptogramType, data: bytes, *, cda: bool = False) -> CommandAPDU:
    """GENERATE AC (Book 3 §6.5.5): P1 = cryptogram type | 10 when CDA signature is requested."""
    return CommandAPDU(0x80, 0xAE, int(requested) | (0x10 if cda else 0), 0x00, data, le=256)


def parse_ac_response(raw: bytes) -> AcResponse:
    """Decode format 1 (``80`` CID ‖ ATC ‖ AC ‖ IAD) or format 2 (``77``) (Book 3 §6.5.5.4).

    Raises:
        CardDataError: neither format, or CID/ATC (and, without CDA, AC) missing.
    """
    try:
        objs = tlv.decode(raw)
    except TlvError as exc:
        raise CardDataError(f"GENERATE AC response is not BER-TLV ({exc})") from None
    if len(objs) != 1:
        raise CardDataError("GENERATE AC response is not one template")
    top = objs[0]
    if top.tag == b"\x80":
        v = top.value
        if len(v) < 11:
            raise CardDataError(f"GENERATE AC format 1 response of {len(v)} bytes")
        return AcResponse(Cid(v[0]), v[1:3], v[3:11], v[11:], {}, raw)
    if top.tag == b"\x77":
        data = tlv.flatten(top.children)
        cid, atc = data.get(b"\x9f\x27"), data.get(b"\x9f\x36")
        if cid is None or len(cid) != 1 or atc is None:
            raise CardDataError("GENERATE AC format 2 response lacks 9F27 or 9F36")
        return AcResponse(Cid(cid[0]), atc, data.get(b"\x9f\x26", b""), data.get(b"\x9f\x10", b""), data, raw)
    raise CardDataError(f"GENERATE AC response template {top.tag.hex().upper()} is neither 80 nor 77")


def tc_hash(txn: Transaction, config: TerminalConfig) -> bytes:
    """TC Hash Value (98): SHA-1 of the TDOL data (Book 3 §5.4); the card's TDOL (97), else the
    terminal default (then TVR 'default TDOL used')."""
    tdol = txn.card.get(b"\x97")
    if tdol is None:
        tdol = config.default_tdol or b""
        if config.default_tdol:
            txn.tvr |= Tvr.DEFAULT_TDOL_USED
    return hashlib.sha1(tlv.build_dol_data(tdol, txn.values())).digest()


def generate_ac(
    channel: CardChannel,
    txn: Transaction,
    config: TerminalConfig,
    requested: CryptogramType,
    *,
    second: bool = False,
) -> AcResponse:
    """Send GENERATE AC with the CDOL1 (or CDOL2) data and check the answer.

    CDA is requested when it was selected, its keys were recovered and the cryptogram asked for
    is a TC or an ARQC; ``txn.cda_performed`` then says so. A CDA failure sets TVR 'CDA failed'
    and the caller declines offline (Book 4 §6.3.7; check the exact clause).

    Raises:
        CardError: the card refused the command.
        CardDataError: a malformed answer, or a cryptogram stronger than requested.
    """
    cdol = txn.card.get(b"\x8d" if second else b"\x8c")
    if cdol is None:
        raise CardDataError(f"CDOL{2 if second else 1} ({'8D' if second else '8C'}) is absent")
    entries = tlv.parse_dol(cdol)
    if any(tag == b"\x98" for tag, _ in entries):
        txn.terminal[b"\x98"] = tc_hash(txn, config)
    data = tlv.build_dol_data(entries, txn.values())
    if second:
        txn.cdol2_data = data
    else:
        txn.cdol1_data = data
    cda = (
        txn.oda_method is OdaMethod.CDA
        and txn.icc_key is not None
        and Tvr.CDA_FAILED not in txn.tvr
        and requested in (CryptogramType.TC, CryptogramType.ARQC)
    )
    txn.cda_performed = cda
    name = "second GENERATE AC" if second else "first GENERATE AC"
    resp = channel.transmit_ok(generate_ac_command(requested, data, cda=cda), context=name)
    ac = parse_ac_response(resp.data)
    txn.tsi |= Tsi.CARD_RISK_MANAGEMENT_PERFORMED
    got = ac.cid.type
    if got is CryptogramType.AAR or _strength(got) > _strength(requested):
        raise CardDataError(f"{name}: card returned {got.name} when {requested.name} was requested")
    if cda and got is not CryptogramType.AAC:
        ac = _check_cda(txn, ac, second=second)
    for tag, value in ac.data.items():
        if tag != b"\x9f\x4b":
            txn.card[tag] = value
    txn.card[b"\x9f\x27"] = ac.cid.to_bytes()
    txn.card[b"\x9f\x36"] = ac.atc
    if ac.ac:
        txn.card[b"\x9f\x26"] = ac.ac
    if ac.iad:
        txn.card[b"\x9f\x10"] = ac.iad
    log.info("%s: requested %s, card returned %s", name, requested.name, ac.cid.type.name)
    return ac


def _strength(t: CryptogramType) -> int:
    return {CryptogramType.AAC: 0, CryptogramType.TC: 1, CryptogramType.ARQC: 2}.get(t, 3)


def _check_cda(txn: Transaction, ac: AcResponse, *, second: bool) -> AcResponse:
    assert txn.icc_key is not None
    try:
        recovered = oda.verify_cda(
            txn.icc_key, ac.raw, un=txn.terminal.get(b"\x9f\x37", b""), pdol_data=txn.pdol_data,
            cdol1_data=txn.cdol1_data, cdol2_data=txn.cdol2_data if second else b"",
        )
    except OdaError as exc:
        record_failure(txn, OdaMethod.CDA, exc.reason)
        return ac
    txn.card[b"\x9f\x4c"] = recovered.icc_dynamic_number
    return AcResponse(ac.cid, ac.atc, recovered.ac, ac.iad, ac.data, ac.raw)
