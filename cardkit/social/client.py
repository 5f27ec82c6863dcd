"""The terminal side of the social insurance application: read the card, verify the PIN, pay.

:class:`SocialClient` talks to the card only through a :class:`cardkit.readers.CardChannel`, so the
same code runs on the in-process demo card, through pcscd or on a real reader. It holds nothing
secret: the SAM authenticates the terminal and MACs payments; the PIN goes to the card once and is
never kept, logged or put in an exception.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cardkit.apdu import SW, CommandAPDU
from cardkit.crypto.purse import PurseAlgorithm
from cardkit.purse import PurchaseInit, PurseError
from cardkit.purse.records import DEBIT_ANSWER, PURCHASE_INIT, bcd_date, bcd_time, parse_datetime, parse_fixed
from cardkit.social.errors import SocialDataError, SocialError, SocialUsageError, error_for_sw
from cardkit.social.records import (
    CardInfo,
    LogEntry,
    PaymentResult,
    SocialRecord,
    parse_card_info,
    parse_holder,
    parse_insurance,
)

if TYPE_CHECKING:
    from cardkit.readers import CardChannel
    from cardkit.social.sam import SocialSam

__all__ = ["SOCIAL_AID", "SocialClient"]

log = logging.getLogger(__name__)

#: cardkit's social insurance AID: D15600000501 + 0100 (docs/social.md "Application").
SOCIAL_AID = bytes.fromhex("D156000005010100")
CARD_INFO_SFI, HOLDER_SFI, INSURANCE_SFI, LOG_SFI = 0x05, 0x06, 0x07, 0x08
_PIN_REF = 0x01
_KEY_TERMINAL = 0x01
_MAX_RECORDS = 254
_LOG_LENGTH = 28


def _read_record(sfi: int, number: int) -> CommandAPDU:
    return CommandAPDU(0x00, 0xB2, number, sfi << 3 | 0x04, le=256)


class SocialClient:
    """The social insurance application's flows (docs/social.md "Client").

    Args:
        channel: an open :class:`cardkit.readers.CardChannel`.
        aid: the application's AID.
    """

    def __init__(self, channel: CardChannel, *, aid: bytes = SOCIAL_AID) -> None:
        self.channel = channel
        self.aid = bytes(aid)
        self.info: CardInfo | None = None

    def __repr__(self) -> str:
        return f"SocialClient(aid={self.aid.hex().upper()}, card={self.info.card_number if self.info else None})"

    # ------------------------------------------------------------------------------- plumbing
    def _call(self, command: CommandAPDU, name: str) -> bytes:
        response = self.channel.transmit(command)
        if response.sw != SW.OK:
            raise error_for_sw(response.sw, name)
        return bytes(response.data)

    def _records(self, sfi: int) -> list[bytes]:
        out: list[bytes] = []
        for number in range(1, _MAX_RECORDS + 1):
            response = self.channel.transmit(_read_record(sfi, number))
            if response.sw == SW.RECORD_NOT_FOUND:
                break
            if response.sw != SW.OK:
                raise error_for_sw(response.sw, f"READ RECORD SFI {sfi:02X} record {number}")
            out.append(bytes(response.data))
        return out

    def _card(self) -> CardInfo:
        return self.info if self.info is not None else self.select()

    # ------------------------------------------------------------------------------- reading
    def select(self) -> CardInfo:
        """SELECT the application and read its public card information (SFI 05).

        Raises:
            SocialError: the card has no social insurance application, or refused.
            SocialDataError: the records do not have the documented layout.
        """
        self._call(CommandAPDU(0x00, 0xA4, 0x04, 0x00, self.aid, le=256), "SELECT social insurance")
        self.info = parse_card_info(self._records(CARD_INFO_SFI))
        log.debug("social insurance card %s selected", self.info.card_number)
        return self.info

    def get_challenge(self) -> bytes:
        """GET CHALLENGE: 8 card random bytes, good for the next command only."""
        data = self._call(CommandAPDU(0x00, 0x84, 0, 0, le=8), "GET CHALLENGE")
        if len(data) != 8:
            raise SocialDataError(f"the challenge is {len(data)} bytes instead of 8", context="GET CHALLENGE")
        return data

    def authenticate_terminal(self, sam: SocialSam) -> None:
        """GET CHALLENGE + EXTERNAL AUTHENTICATE with the SAM's cryptogram: opens the protected records.

        Raises:
            TerminalAuthFailed: 6300, the SAM's key is not this card's issuer's.
        """
        card = self._card()
        cryptogram = sam.authenticate(card, self.get_challenge())
        self._call(CommandAPDU(0x00, 0x82, 0x00, _KEY_TERMINAL, cryptogram), "EXTERNAL AUTHENTICATE")

    def verify_pin(self, pin: str) -> None:
        """VERIFY the holder's 6-digit PIN on this channel (needed to pay).

        Raises:
            SocialUsageError: not 6 digits (nothing sent). WrongPin: ``tries_left`` says how many
            remain. PinBlocked: no tries left.
        """
        if not (len(pin) == 6 and pin.isascii() and pin.isdigit()):
            raise SocialUsageError("the PIN must be 6 digits", context="VERIFY")
        self._call(CommandAPDU(0x00, 0x20, 0x00, _PIN_REF, pin.encode("ascii")), "VERIFY")

    def pin_tries_left(self) -> int:
        """VERIFY without data: the tries left (3 when verified on this channel, 0 when blocked)."""
        response = self.channel.transmit(CommandAPDU(0x00, 0x20, 0x00, _PIN_REF))
        if response.sw == SW.OK:
            return 3
        if response.sw == SW.AUTH_METHOD_BLOCKED:
            return 0
        error = error_for_sw(response.sw, "VERIFY")
        left = getattr(error, "tries_left", None)
        if left is None:
            raise error
        return int(left)

    def reset_retry_counter(self, mac: bytes) -> None:
        """The issuer's unblock ``84 2C 00 01`` MAC, right after :meth:`get_challenge` (see
        :func:`cardkit.social.issuer.unblock_pin`)."""
        self._call(CommandAPDU(0x84, 0x2C, 0x00, _PIN_REF, bytes(mac)), "PIN UNBLOCK")

    def balance(self) -> int:
        """GET BALANCE (after terminal authentication), in fen."""
        data = self._call(CommandAPDU(0x80, 0x5C, 0x00, 0x02, le=4), "GET BALANCE")
        if len(data) != 4:
            raise SocialDataError(f"the balance is {len(data)} bytes instead of 4", context="GET BALANCE")
        return int.from_bytes(data, "big")

    def read(self) -> SocialRecord:
        """Holder, insurance statuses and balance (needs :meth:`authenticate_terminal` first).

        Raises:
            NotAuthenticated: 6982, the terminal is not authenticated on this channel.
        """
        card = self._card()
        holder = parse_holder(self._records(HOLDER_SFI))
        insurance = parse_insurance(self._records(INSURANCE_SFI))
        return SocialRecord(card, holder, insurance, self.balance())

    def log(self) -> list[LogEntry]:
        """The medical account's log, newest first (needs terminal authentication)."""
        entries = []
        for raw in self._records(LOG_SFI):
            if len(raw) != _LOG_LENGTH:
                raise SocialDataError(f"a log record is {len(raw)} bytes instead of {_LOG_LENGTH}", context="log")
            try:
                when: datetime | None = parse_datetime(raw[17:21], raw[21:24], "log record")
            except PurseError:
                when = None
            entries.append(LogEntry(int.from_bytes(raw[0:2], "big"), int.from_bytes(raw[2:6], "big"), raw[6],
                                    raw[7:13], int.from_bytes(raw[13:17], "big"), when,
                                    int.from_bytes(raw[24:28], "big")))
        return entries

    # ------------------------------------------------------------------------------- paying
    def pay(self, amount: int, sam: SocialSam, when: datetime) -> PaymentResult:
        """A medical payment: INITIALIZE → MAC1 from the SAM → DEBIT → MAC2 and TAC checked by the SAM.

        Needs :meth:`verify_pin` on this channel first. Nothing may be sent between the INITIALIZE
        and the DEBIT (the card abandons the payment).

        Raises:
            SocialUsageError: amount outside 1..FFFFFFFF. NotAuthenticated (6982): PIN not verified.
            PinBlocked (6983). InsufficientBalance (9401). MacInvalid: the card refused MAC1 (9302)
            or the SAM rejected MAC2/TAC.
        """
        if isinstance(amount, bool) or not 1 <= amount <= 0xFFFFFFFF:
            raise SocialUsageError(f"amount {amount} is outside 1..4294967295 fen", context="payment")
        card = self._card()
        terminal = sam.terminal_id
        data = self._call(CommandAPDU(0x80, 0x50, 0x01, 0x02, b"\x01" + amount.to_bytes(4, "big") + terminal,
                                      le=15), "INITIALIZE")
        init = self._init(data, amount, terminal)
        txn_no, mac1 = sam.mac1(card, init, when)
        answer = self._call(CommandAPDU(0x80, 0x54, 0x01, 0x00, txn_no.to_bytes(4, "big") + bcd_date(when)
                                        + bcd_time(when) + mac1, le=8), "DEBIT")
        debited = self._parse(DEBIT_ANSWER, answer, "DEBIT")
        tac, mac2 = bytes(debited.tac), bytes(debited.mac2)
        sam.verify(card, init, txn_no, when, tac, mac2)
        log.info("medical payment of %d fen, card counter %d", amount, init.offline_counter)
        return PaymentResult(amount, init.old_balance, init.old_balance - amount, init.offline_counter, terminal,
                             txn_no, when, tac, mac2)

    @staticmethod
    def _parse(layout: Any, data: bytes, what: str) -> Any:
        try:
            return parse_fixed(layout, data, what)
        except PurseError as exc:
            raise SocialDataError(str(exc), context=what) from None

    def _init(self, data: bytes, amount: int, terminal: bytes) -> PurchaseInit:
        r = self._parse(PURCHASE_INIT, data, "INITIALIZE")
        if r.algorithm != 0x00:
            raise SocialError("the card's medical account does not use 3DES", context="INITIALIZE")
        return PurchaseInit(r.old_balance, r.offline_counter, r.overdraft_limit, r.key_version,
                            PurseAlgorithm.TDES, bytes(r.random), amount, terminal, False)
