"""The EMV terminal kernel (EMV 4.4 Books 1-4; qPBOC / EMV contactless single tap).

A POS embeds it like this::

    from cardkit.emv import Kernel, TerminalConfig, OnlineResponse

    kernel = Kernel(channel, TerminalConfig(capk=capk_store),
                    pin_entry=pin_pad, online=host.authorise)
    outcome = kernel.run(Decimal("12.50"))          # or 1250 minor units; contactless=True for a tap
    if outcome.approved:
        print_receipt(outcome.masked_pan(), outcome.icc_data())

The kernel talks to the card only through a :class:`cardkit.readers.CardChannel`. Each Book 3
step is a :class:`Kernel` method over a :class:`Transaction`, and each module does one job:
``selection`` (PSE/PPSE/AID list), ``processing`` (GPO, records), ``authentication`` (ODA),
``restrictions``, ``cvm``, ``risk``, ``actions`` (action analysis, GENERATE AC), ``online``
(host, issuer authentication, scripts), ``contactless``, ``tvr`` (TVR/TSI/CVM results/CID) and
``outcome``. See docs/emv.md.
"""

from cardkit.emv.actions import AcResponse, default_action, terminal_action_analysis
from cardkit.emv.config import UNIONPAY_AIDS, SupportedAid, TerminalConfig
from cardkit.emv.context import Amount, Transaction, to_minor_units
from cardkit.emv.cvm import CvMethod, CvmList, CvRule, PinEntry, PinKind, PinRequest, parse_cvm_list
from cardkit.emv.kernel import Kernel
from cardkit.emv.online import APPROVAL_CODES, OnlineCallback, OnlineRequest, OnlineResponse
from cardkit.emv.outcome import (
    FIELD55_TAGS,
    CardDataError,
    OutcomeKind,
    TransactionEnded,
    TransactionOutcome,
    mask_pan,
)
from cardkit.emv.selection import Candidate, ChooseApplication
from cardkit.emv.tvr import Cid, CryptogramType, CvmResult, CvmResults, Tsi, Tvr

__all__ = [
    "APPROVAL_CODES",
    "FIELD55_TAGS",
    "UNIONPAY_AIDS",
    "AcResponse",
    "Amount",
    "Candidate",
    "CardDataError",
    "ChooseApplication",
    "Cid",
    "CryptogramType",
    "CvMethod",
    "CvRule",
    "CvmList",
    "CvmResult",
    "CvmResults",
    "Kernel",
    "OnlineCallback",
    "OnlineRequest",
    "OnlineResponse",
    "OutcomeKind",
    "PinEntry",
    "PinKind",
    "PinRequest",
    "SupportedAid",
    "TerminalConfig",
    "Transaction",
    "TransactionEnded",
    "TransactionOutcome",
    "Tsi",
    "Tvr",
    "default_action",
    "mask_pan",
    "parse_cvm_list",
    "terminal_action_analysis",
    "to_minor_units",
]
