"""The issuer's side of a transit purse top-up (0200, processing code 60): check MAC1, answer MAC2.

The purse has no bank account behind it here: the customer pays the top-up at the POS (cash or
otherwise), so the host posts it for settlement (a debit the merchant collected) and touches no
balance; the money's record is the card's own balance, its online counter and the TAC. The host
holds the load master key MLK (never the card's DLK) and diversifies by the purse serial X that
field 2 carries as 16 digits. A reversal (0400) takes the posting back like any other.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cardkit import tlv
from cardkit.crypto.purse import PurseAlgorithm
from cardkit.errors import CardkitError
from cardkit.purse import LoadInit
from cardkit.purse.issuer import load_mac2
from pos_sim.host._errors import HostMessageError
from pos_sim.host.iso8583 import Fields, PurseLoadData

__all__ = ["authorize_purse_load"]

log = logging.getLogger(__name__)

_ALGORITHMS = {0x00: PurseAlgorithm.TDES, 0x04: PurseAlgorithm.SM4}


def authorize_purse_load(mlk: bytes, msg: Fields, serial_digits: str, amount: int) -> tuple[str, bytes]:
    """(response code, reply field 55): 00 with DF69 MAC2, 05 when MAC1 does not verify, 30 for
    a malformed request.

    Raises:
        HostMessageError: field 55 is not the purse load layout (the caller answers 30).
    """
    raw = msg.get("55")
    if not isinstance(raw, bytes):
        raise HostMessageError("a purse load needs field 55 (PurseLoadData)")
    data = PurseLoadData.parse(raw)
    if len(serial_digits) != 16 or not serial_digits.isdigit():
        raise HostMessageError("field 2 of a purse load is the 16-digit purse serial")
    algorithm = _ALGORITHMS.get(data.algorithm)
    if algorithm is None:
        raise HostMessageError(f"purse algorithm {data.algorithm:02X} is not supported")
    init = LoadInit(old_balance=data.old_balance, online_counter=data.online_counter, key_version=data.key_version,
                    algorithm=algorithm, random=data.random, mac1=data.mac1, amount=amount,
                    terminal_id=data.terminal_id)
    try:
        when = datetime.strptime(data.when, "%Y%m%d%H%M%S")
        mac2 = load_mac2(mlk, bytes.fromhex(serial_digits), init, when)
    except ValueError:
        raise HostMessageError("DF66 of a purse load is not a date and time") from None
    except CardkitError as exc:  # MAC1 does not verify: not this card, balance, amount or terminal
        log.info("purse load refused: %s", exc)
        return "05", b""
    return "00", tlv.build(PurseLoadData.MAC2_TAG, mac2)
