"""The transit electronic purse, terminal side (PBOC ED/EP; transit cards per JT/T 978).

A validator or POS embeds it like this::

    from cardkit.purse import PurseClient, Psam

    client = PurseClient(channel)                  # a cardkit.readers.CardChannel
    info = client.select()                         # serial, dates, holder, balance
    psam = Psam(mpk, mtk, terminal_id=bytes.fromhex("112233445566"))
    result = client.purchase(200, psam, datetime.now())   # MAC2 and TAC checked by the PSAM

Modules: ``client`` (:class:`PurseClient`: the flows and recovery), ``psam`` (:class:`Psam`),
``issuer`` (the host's MAC1 check / MAC2 / load TAC), ``records`` (values and file layouts),
``commands`` (APDU builders), ``errors``. See docs/purse.md.
"""

from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from cardkit.purse.client import Authorize, PurseClient
from cardkit.purse.commands import TRANSIT_AID, PurseUsageError
from cardkit.purse.errors import (
    BalanceLimitExceeded,
    ConditionsNotSatisfied,
    CounterAtLimit,
    InsufficientBalance,
    KeyIndexNotSupported,
    MacInvalid,
    PurseDataError,
    PurseError,
    PurseLocked,
    TransactionInterrupted,
)
from cardkit.purse.psam import Psam
from cardkit.purse.records import LoadInit, LogEntry, PurchaseInit, PurseInfo, PurseResult, TransactionKind

__all__ = [
    "TRANSIT_AID",
    "Authorize",
    "BalanceLimitExceeded",
    "ConditionsNotSatisfied",
    "CounterAtLimit",
    "InsufficientBalance",
    "KeyIndexNotSupported",
    "LoadInit",
    "LogEntry",
    "MacInvalid",
    "Psam",
    "PurchaseInit",
    "PurseAlgorithm",
    "PurseClient",
    "PurseDataError",
    "PurseError",
    "PurseInfo",
    "PurseLocked",
    "PurseResult",
    "PurseUsageError",
    "TransactionInterrupted",
    "TransactionKind",
    "TransactionType",
]
