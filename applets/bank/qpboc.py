"""Contactless (qPBOC) GET PROCESSING OPTIONS: the whole card side in one command.

docs/bank.md "Contactless (qPBOC) GPO", cardkit profile (*check* against JR/T 0025.12): an
electronic-cash offline approval (TC, signed with fDDA 9F4B, 9F79 debited in the same store
transaction as the ATC), else an ARQC for an online-capable reader, else an AAC.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from applets.bank.codec import T, bcd_to_int
from applets.bank.cryptogram import compute_ac
from applets.bank.cvr import build_cvr, build_iad
from applets.bank.profile import Profile
from applets.bank.session import Cid, Session, Stage
from applets.bank.state import CardState, Memory
from applets.bank.txlog import log_record
from applets.runtime import status
from cardkit import tlv
from cardkit.apdu import SW, ResponseAPDU
from cardkit.crypto.oda import dda_dynamic_data, fdda_data, sign_dynamic_data

__all__ = ["qpboc_requested", "qpboc_gpo"]

# Terminal Transaction Qualifiers 9F66 (EMV Book C-3 / VCPS layout, used by qPBOC)
TTQ_QPBOC = 0x20  # byte 1 b6: qPBOC (qVSDC) supported
TTQ_OFFLINE_ONLY = 0x08  # byte 1 b4: offline-only reader
TTQ_ONLINE_REQUIRED = 0x80  # byte 2 b8: online cryptogram required
_IDN_LENGTH = 8


def qpboc_requested(fields: dict[bytes, bytes]) -> bool:
    ttq = fields.get(T.TTQ, b"")
    return len(ttq) == 4 and bool(ttq[0] & TTQ_QPBOC)


def _decide(p: Profile, state: CardState, fields: dict[bytes, bytes], amount: int) -> Cid:
    ttq = fields[T.TTQ]
    ec_offline = (
        not ttq[1] & TTQ_ONLINE_REQUIRED
        and p.icc_key is not None
        and T.UN in fields
        and T.AMOUNT in fields
        and fields.get(T.CURRENCY) == p.risk.currency
        and amount <= state.ec_single_limit
        and amount <= state.ec_balance
    )
    if ec_offline:
        return Cid.TC
    return Cid.AAC if ttq[0] & TTQ_OFFLINE_ONLY else Cid.ARQC


def qpboc_gpo(p: Profile, mem: Memory, s: Session, state: CardState) -> ResponseAPDU:
    """Run the qPBOC transaction on ``s.fields`` (the PDOL data); the caller checked stage and ATC."""
    fields = s.fields
    amount = bcd_to_int(fields.get(T.AMOUNT, bytes(6)))
    if amount is None:
        return status(SW.WRONG_DATA)
    gpo = p.gpo_contactless
    atc = state.atc + 1
    s.atc, s.prior = atc, state
    cid = _decide(p, state, fields, amount)
    balance = state.ec_balance - amount if cid is Cid.TC else state.ec_balance
    cvr = build_cvr(s, state, first=cid)
    ac = compute_ac(p.keys, fields, gpo.aip, atc, cvr)
    iad = build_iad(p.risk.iad_prefix, cvr, balance)
    card_auth = bytes((p.risk.fdda_version,)) + secrets.token_bytes(4) + p.risk.ctq
    body = [tlv.build(0x82, gpo.aip), tlv.build(0x94, gpo.afl), tlv.build(T.ATC, atc.to_bytes(2, "big")),
            tlv.build(0x9F26, ac), tlv.build(0x9F27, bytes((cid,))), tlv.build(0x9F10, iad)]
    new = replace(state, atc=atc)
    if cid is Cid.TC and p.icc_key is not None:
        signed = fdda_data(fields[T.UN], amount=fields[T.AMOUNT], currency=fields[T.CURRENCY],
                           card_auth_data=card_auth)
        sdad = sign_dynamic_data(p.icc_key.private, dda_dynamic_data(secrets.token_bytes(_IDN_LENGTH)), signed)
        body.append(tlv.build(0x9F4B, sdad))
        new = replace(new, ec_balance=balance).with_log(log_record(p.risk.log_format, fields, atc),
                                                         p.risk.log_records)
    body.append(tlv.build(0x9F69, card_auth))
    if p.track2 is not None:
        body.append(tlv.build(T.TRACK2, p.track2))
    if p.psn is not None:
        body.append(tlv.build(T.PSN, p.psn))
    mem.commit(state, new)
    s.first_cid, s.first_ac, s.contactless = cid, ac, True
    s.stage = Stage.DONE
    return status(SW.OK, tlv.build(0x77, b"".join(body)))
