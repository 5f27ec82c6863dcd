"""The social insurance application, terminal side (社会保障卡 style; docs/social.md).

A clinic's terminal embeds it like this::

    from cardkit.social import SocialClient, SocialSam

    client = SocialClient(channel)                       # a cardkit.readers.CardChannel
    card = client.select()                               # public: card number, region, dates
    sam = SocialSam(mak, mpk, mtk, terminal_id=bytes.fromhex("010203040506"))
    client.authenticate_terminal(sam)                    # opens holder, insurance, balance, log
    record = client.read()
    client.verify_pin(pin)                               # needed to pay
    result = client.pay(1250, sam, datetime.now())       # MAC2 and TAC checked by the SAM

Modules: ``client`` (:class:`SocialClient`), ``sam`` (:class:`SocialSam`), ``issuer`` (the PIN
unblock MAC), ``records`` (values and record layouts), ``errors``.
"""

from cardkit.social.client import SOCIAL_AID, SocialClient
from cardkit.social.errors import (
    ConditionsNotSatisfied,
    InsufficientBalance,
    MacInvalid,
    NotAuthenticated,
    PinBlocked,
    SocialDataError,
    SocialError,
    SocialUsageError,
    TerminalAuthFailed,
    WrongPin,
)
from cardkit.social.records import (
    CardInfo,
    Holder,
    InsuranceState,
    InsuranceStatus,
    LogEntry,
    PaymentResult,
    Scheme,
    SocialRecord,
)
from cardkit.social.sam import SocialSam

__all__ = [
    "SOCIAL_AID",
    "CardInfo",
    "ConditionsNotSatisfied",
    "Holder",
    "InsufficientBalance",
    "InsuranceState",
    "InsuranceStatus",
    "LogEntry",
    "MacInvalid",
    "NotAuthenticated",
    "PaymentResult",
    "PinBlocked",
    "Scheme",
    "SocialClient",
    "SocialDataError",
    "SocialError",
    "SocialRecord",
    "SocialSam",
    "SocialUsageError",
    "TerminalAuthFailed",
    "WrongPin",
]
