"""Transaction log records: the values of the log format DOL 9F4F (docs/bank.md "Transaction log").

The terminal's data of the transaction (PDOL and CDOL values) fills the DOL; the card adds its own
ATC. Tags the terminal never sent are zero-filled, as EMV Book 3 §5.4 does for a DOL.
"""

from __future__ import annotations

from collections.abc import Mapping

from applets.bank.codec import T
from cardkit import tlv

__all__ = ["log_record"]


def log_record(log_format: bytes, fields: Mapping[bytes, bytes], atc: int) -> bytes:
    values = {**fields, T.ATC: atc.to_bytes(2, "big")}
    return tlv.build_dol_data(log_format, values)
