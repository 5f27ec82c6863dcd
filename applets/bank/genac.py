"""GENERATE AC (first and second), EXTERNAL AUTHENTICATE and INTERNAL AUTHENTICATE.

EMV Book 3 §6.5.5 / §6.5.4 / §6.5.9 with the card risk management of :mod:`applets.bank.risk`,
CVN 01 cryptograms (:mod:`applets.bank.cryptogram`) and CDA / DDA signatures from
:mod:`cardkit.crypto.oda`. Every persistent change of one command is one ``Memory.commit``.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from applets.bank import risk
from applets.bank.codec import T, dol_fields, dol_length
from applets.bank.cryptogram import arpc_ok, compute_ac
from applets.bank.cvr import build_cvr, build_iad
from applets.bank.profile import Profile
from applets.bank.session import Cid, Session, Stage
from applets.bank.state import CardState, Memory
from applets.bank.txlog import log_record
from applets.runtime import status
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.oda import build_cda_response, dda_dynamic_data, sign_dynamic_data

__all__ = ["external_authenticate", "generate_ac", "internal_authenticate"]

_P1_CDA = 0x10
_P1_RFU = 0x2F
_IDN_LENGTH = 8  # ICC dynamic number 9F4C (Book 2 Table 18 allows 2-8)


def generate_ac(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``80 AE P1 00``: P1 b8-b7 the cryptogram asked for, b5 CDA."""
    if cmd.p2 or cmd.p1 & _P1_RFU or cmd.p1 & 0xC0 == 0xC0:
        return status(SW.INCORRECT_P1P2)
    requested, cda = Cid(cmd.p1 & 0xC0), bool(cmd.p1 & _P1_CDA)
    if cda and p.icc_key is None:
        return status(SW.INCORRECT_P1P2)
    if s.stage is Stage.INITIATED:
        return _first(p, mem, s, cmd.data, requested, cda)
    if s.stage is Stage.FIRST_AC and s.online:
        if requested is Cid.ARQC:
            return status(SW.INCORRECT_P1P2)  # Book 3 §6.5.5.2: the second asks TC or AAC
        return _second(p, mem, s, cmd.data, requested, cda)
    return status(SW.CONDITIONS_NOT_SATISFIED)


def _first(p: Profile, mem: Memory, s: Session, data: bytes, requested: Cid, cda: bool) -> ResponseAPDU:
    if len(data) != dol_length(p.cdol1):
        return status(SW.WRONG_LENGTH)
    s.fields.update(dol_fields(p.cdol1, data))
    state = mem.load()
    d = risk.first_ac(requested, state, p.risk)
    signs = cda and d.cid is not Cid.AAC  # Book 2 §6.6: no CDA signature on an AAC
    s.oda_performed = s.oda_performed or signs
    cvr = build_cvr(s, state, first=d.cid, lower_exceeded=d.lower_exceeded, upper_exceeded=d.upper_exceeded)
    ac = compute_ac(p.keys, s.fields, p.gpo_contact.aip, s.atc, cvr)
    iad = build_iad(p.risk.iad_prefix, cvr, state.ec_balance)
    new = state
    if d.cid is Cid.TC:
        new = replace(new, offline_count=state.offline_count + 1)
        new = new.with_log(log_record(p.risk.log_format, s.fields, s.atc), p.risk.log_records)
    elif d.cid is Cid.ARQC:  # a new online transaction: its scripts are counted from zero
        new = replace(new, online_pending=True, script_count=0, script_failed=False)
    s.cdol1_data = data
    answer = _answer(p, s, d.cid, ac, iad, signs)
    mem.commit(state, new)
    s.first_cid, s.first_ac = d.cid, ac
    s.stage = Stage.FIRST_AC if d.cid is Cid.ARQC else Stage.DONE
    return answer


def _second(p: Profile, mem: Memory, s: Session, data: bytes, requested: Cid, cda: bool) -> ResponseAPDU:
    if len(data) != dol_length(p.cdol2):
        return status(SW.WRONG_LENGTH)
    second = dol_fields(p.cdol2, data)
    s.fields.update(second)
    state = mem.load()
    new = state
    iad91 = second.get(T.ISSUER_AUTH_DATA, b"")
    if any(iad91) and not s.issuer_auth_performed:  # issuer authentication data in CDOL2
        s.issuer_auth_performed = True
        s.issuer_auth_failed = not arpc_ok(p.keys, s.atc, s.first_ac, iad91)
        if s.issuer_auth_failed:
            new = replace(new, issuer_auth_failed=True)
    d = risk.second_ac(requested, second[T.ARC], s, state, p.risk)
    signs = cda and d.cid is not Cid.AAC
    s.oda_performed = s.oda_performed or signs
    cvr = build_cvr(s, state, first=Cid.ARQC, second=d.cid, upper_exceeded=d.upper_exceeded,
                    unable_online=d.unable_online)
    ac = compute_ac(p.keys, s.fields, p.gpo_contact.aip, s.atc, cvr)
    iad = build_iad(p.risk.iad_prefix, cvr, state.ec_balance)
    new = _after_second(p, s, new, d)
    answer = _answer(p, s, d.cid, ac, iad, signs, cdol2_data=data)
    mem.commit(state, new)
    s.stage = Stage.DONE
    return answer


def _after_second(p: Profile, s: Session, state: CardState, d: risk.Decision) -> CardState:
    """Counters after the second GENERATE AC (docs/bank.md "Card risk management")."""
    online = not d.unable_online
    issuer_ok = s.issuer_auth_performed and not s.issuer_auth_failed
    new = state
    if online:
        new = replace(new, online_pending=False)
    if issuer_ok:
        new = replace(new, issuer_auth_failed=False)
    if d.cid is Cid.TC:
        if online and issuer_ok:
            new = replace(new, offline_count=0, last_online_atc=s.atc)
        elif not online:
            new = replace(new, offline_count=state.offline_count + 1)
        new = new.with_log(log_record(p.risk.log_format, s.fields, s.atc), p.risk.log_records)
    return new


def _answer(
    p: Profile, s: Session, cid: Cid, ac: bytes, iad: bytes, signs: bool, *, cdol2_data: bytes = b""
) -> ResponseAPDU:
    """Format 1 ``80 CID ATC AC IAD``, or format 2 with the CDA signature (Book 3 §6.5.5.4)."""
    atc = s.atc.to_bytes(2, "big")
    if signs and p.icc_key is not None:
        body = build_cda_response(
            p.icc_key.private,
            icc_dynamic_number=secrets.token_bytes(_IDN_LENGTH),
            cid=int(cid),
            atc=atc,
            ac=ac,
            iad=iad,
            un=s.fields.get(T.UN, bytes(4)),
            pdol_data=s.pdol_data,
            cdol1_data=s.cdol1_data,
            cdol2_data=cdol2_data,
        )
        return status(SW.OK, body)
    return status(SW.OK, tlv.build(0x80, bytes((cid,)) + atc + ac + iad))


def external_authenticate(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 82 00 00 0A ARPC||ARC``: issuer authentication, once, after an ARQC."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != 10:
        return status(SW.WRONG_LENGTH)
    if s.stage is not Stage.FIRST_AC or not s.online or s.issuer_auth_performed:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    s.issuer_auth_performed = True
    s.issuer_auth_failed = not arpc_ok(p.keys, s.atc, s.first_ac, cmd.data)
    if not s.issuer_auth_failed:
        return status(SW.OK)
    state = mem.load()
    mem.commit(state, replace(state, issuer_auth_failed=True))
    return status(SW.AUTHENTICATION_FAILED_WARNING)


def internal_authenticate(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 88 00 00 Lc DDOL-data``: DDA signature ``80 SDAD`` (Book 2 §6.5.1)."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    key = p.icc_key
    want = dol_length(p.ddol) if p.ddol is not None else None
    if not cmd.data or (want is not None and len(cmd.data) != want):
        return status(SW.WRONG_LENGTH)
    if key is None or s.stage is not Stage.INITIATED:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    sdad = sign_dynamic_data(key.private, dda_dynamic_data(secrets.token_bytes(_IDN_LENGTH)), bytes(cmd.data))
    s.oda_performed = True
    return status(SW.OK, tlv.build(0x80, sdad))
