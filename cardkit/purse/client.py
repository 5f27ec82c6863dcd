"""PurseClient: the terminal side of the transit electronic purse (PBOC ED/EP, JT/T 978 usage).

Each flow is a short, fixed sequence of APDUs (docs/purse.md has them byte by byte):

* load: INITIALIZE FOR LOAD → the host checks MAC1 and answers MAC2 → CREDIT FOR LOAD → TAC;
* purchase: INITIALIZE FOR PURCHASE → PSAM MAC1 → DEBIT FOR PURCHASE → PSAM checks MAC2 and TAC;
* compound (CAPP) purchase: READ RECORD of the CAPP data cache, INITIALIZE FOR CAPP PURCHASE,
  UPDATE CAPP DATA CACHE with the new record, DEBIT — the record and the debit commit together.

A lost answer to CREDIT or DEBIT (a tear, a card pulled away) raises
:class:`~cardkit.purse.errors.TransactionInterrupted`: the card may or may not have committed, so
the transaction must not be retried blindly. :meth:`PurseClient.recover` asks the card with GET
TRANSACTION PROVE whether the transaction with that counter completed and returns its result, or
``None`` when it did not happen (then a retry is safe). Nothing is ever charged twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU
from cardkit.crypto.purse import PurseAlgorithm
from cardkit.errors import TlvError, TransportError
from cardkit.purse import commands as cmd
from cardkit.purse.errors import (
    BalanceLimitExceeded,
    MacInvalid,
    PurseDataError,
    PurseError,
    TransactionInterrupted,
    error_for_sw,
)
from cardkit.purse.psam import Psam
from cardkit.purse.records import (
    ALGORITHM_BYTES,
    DEBIT_ANSWER,
    HOLDER_FILE,
    ISSUER_FILE,
    LOAD_INIT,
    PROVE_ANSWER,
    PURCHASE_INIT,
    LoadInit,
    LogEntry,
    PurchaseInit,
    PurseInfo,
    PurseResult,
    TransactionKind,
    bcd_date,
    bcd_time,
    parse_date,
    parse_fixed,
)
from cardkit.readers.channel import CardChannel

__all__ = ["Authorize", "PurseClient"]

log = logging.getLogger(__name__)

#: The host's part of a load: check MAC1 of ``LoadInit`` and return MAC2 (or raise to refuse).
Authorize = Callable[[PurseInfo, LoadInit, datetime], bytes]

#: GET TRANSACTION PROVE status words that mean "no completed transaction with that counter".
_NOT_COMPLETED = frozenset({SW.CONDITIONS_NOT_SATISFIED, SW.MAC_REQUIRED, SW.RECORD_NOT_FOUND,
                            SW.REFERENCED_DATA_NOT_FOUND})
#: Holder file answers that mean "not readable here" rather than a broken card.
_HOLDER_UNREADABLE = frozenset({SW.SECURITY_STATUS_NOT_SATISFIED, SW.FILE_NOT_FOUND})
_MAX_LOG_RECORDS = 50
_REMEMBERED = 32  # CREDIT / DEBIT attempts kept for recover() (the unanswered ones are never dropped)


@dataclass(frozen=True, slots=True)
class _Pending:
    """What recovery needs of a CREDIT / DEBIT whose answer never came."""

    init: LoadInit | PurchaseInit
    serial: str | None
    terminal_txn_no: int | None
    when: datetime


def _text(raw: bytes, encoding: str) -> str:
    return raw.rstrip(b"\x00\xff").decode(encoding, "replace").strip()


class PurseClient:
    """The transit purse on a card, as a terminal sees it.

    Args:
        channel: the channel to the card.
        aid: the purse application to select (the T-Union transit AID by default).
        key_index: the key index every INITIALIZE asks for.
    """

    def __init__(self, channel: CardChannel, *, aid: bytes = cmd.TRANSIT_AID, key_index: int = cmd.KEY_INDEX) -> None:
        self.channel = channel
        self.aid = bytes(aid)
        self.key_index = key_index
        self.info: PurseInfo | None = None
        self._sent: dict[tuple[TransactionKind, int], _Pending] = {}  # the last CREDITs / DEBITs sent
        self._unknown: set[tuple[TransactionKind, int]] = set()  # ... of those, the ones without an answer

    def __repr__(self) -> str:
        serial = self.info.serial if self.info else None
        return f"PurseClient(aid={self.aid.hex().upper()!r}, card={serial!r}, pending={len(self._unknown)})"

    # ------------------------------------------------------------------------------ plumbing
    def _call(self, command: CommandAPDU, name: str) -> bytes:
        response = self.channel.transmit(command)
        if response.sw != SW.OK:
            raise error_for_sw(response.sw, name)
        return response.data

    def _card(self) -> PurseInfo:
        return self.info if self.info is not None else self.select()

    # ------------------------------------------------------------------------------ reading
    def select(self) -> PurseInfo:
        """SELECT the purse, READ BINARY SFI 15 (issuer) and 16 (holder), GET BALANCE.

        Returns:
            The card's :class:`PurseInfo` (also kept as :attr:`info`).

        Raises:
            PurseError: the card has no such application (6A82) or refused a read.
            PurseDataError: the FCI or a file does not have the documented layout.
        """
        fci = self._call(cmd.select_aid(self.aid), "SELECT transit")
        self._check_fci(fci)
        issuer = parse_fixed(ISSUER_FILE, self._call(cmd.read_binary_sfi(cmd.ISSUER_SFI), "READ BINARY SFI 15"),
                             "issuer file (SFI 15)")
        response = self.channel.transmit(cmd.read_binary_sfi(cmd.HOLDER_SFI))
        if response.sw in _HOLDER_UNREADABLE:
            holder_name, id_number, card_type, staff, id_type = "", "", 0, 0, 0
        elif response.sw != SW.OK:
            raise error_for_sw(response.sw, "READ BINARY SFI 16")
        else:
            holder = parse_fixed(HOLDER_FILE, response.data, "holder file (SFI 16)")
            holder_name, id_number = _text(holder.name, "gb18030"), _text(holder.id_number, "ascii")
            card_type, staff, id_type = holder.card_type, holder.staff, holder.id_type
        serial = bytes(issuer.serial)
        self.info = PurseInfo(
            serial=serial.hex().upper(), diversifier=serial[-8:], issuer_id=bytes(issuer.issuer_id),
            start=parse_date(issuer.start, "start date"), expiry=parse_date(issuer.expiry, "expiry date"),
            app_type=issuer.app_type, version=issuer.version, holder_name=holder_name, id_number=id_number,
            balance=self.balance(), card_type=card_type, staff=staff, id_type=id_type)
        log.info("purse %s selected, balance %d fen", self.info.serial, self.info.balance)
        return self.info

    def _check_fci(self, fci: bytes) -> None:
        try:
            top = tlv.decode(fci)
        except TlvError as exc:
            raise PurseDataError(f"the FCI is not BER-TLV ({exc})", context="SELECT transit") from None
        if len(top) != 1 or top[0].tag != b"\x6f":
            raise PurseDataError("the FCI is not one '6F' template", context="SELECT transit")
        name = tlv.flatten(top).get(b"\x84")
        if name is not None and name != self.aid:
            raise PurseDataError(f"the card selected {name.hex().upper()}", context="SELECT transit")

    def balance(self) -> int:
        """GET BALANCE: the purse balance in fen.

        Raises:
            PurseError: the card refused.
            PurseDataError: the answer is not 4 bytes.
        """
        data = self._call(cmd.get_balance(), "GET BALANCE")
        if len(data) != 4:
            raise PurseDataError(f"GET BALANCE answered {len(data)} bytes instead of 4", context="GET BALANCE")
        return int.from_bytes(data, "big", signed=True)

    def log(self) -> list[LogEntry]:
        """READ RECORD the transaction log (SFI 18) from record 1 (the newest) until the card has no more.

        Blank records (all 00 or all FF) are skipped.

        Raises:
            PurseError: a read refused with anything but 6A83 (record not found).
            PurseDataError: a record that is not 23 bytes or has a bad date.
        """
        entries: list[LogEntry] = []
        for number in range(1, _MAX_LOG_RECORDS + 1):
            response = self.channel.transmit(cmd.read_record_sfi(cmd.LOG_SFI, number))
            if response.sw == SW.RECORD_NOT_FOUND:
                break
            if response.sw != SW.OK:
                raise error_for_sw(response.sw, f"READ RECORD SFI 18 record {number}")
            if response.data.strip(b"\x00") == b"" or response.data.strip(b"\xff") == b"":
                continue
            entries.append(LogEntry.parse(response.data))
        return entries

    def read_capp_record(self, record_id: int = 1) -> bytes:
        """READ RECORD ``record_id`` of the CAPP data cache (SFI 17): the transit record.

        Raises:
            PurseError: the card refused (6A83: no such record).
        """
        return self._call(cmd.read_record_sfi(cmd.CAPP_CACHE_SFI, record_id), f"READ RECORD SFI 17 record {record_id}")

    def prove(self, counter: int, type: int) -> tuple[bytes, bytes]:
        """GET TRANSACTION PROVE for the transaction of ``type`` (02, 06, 09) that used ``counter``.

        Returns:
            ``(MAC2, TAC)`` of that transaction.

        Raises:
            PurseError: the card has no completed transaction with that counter (or refused).
        """
        data = self._call(cmd.get_transaction_prove(type, counter), "GET TRANSACTION PROVE")
        answer = parse_fixed(PROVE_ANSWER, data, "GET TRANSACTION PROVE")
        return bytes(answer.mac2), bytes(answer.tac)

    # ------------------------------------------------------------------------------ load
    def initialize_load(self, amount: int, terminal_id: bytes) -> LoadInit:
        """INITIALIZE FOR LOAD of ``amount`` fen at ``terminal_id``.

        Raises:
            PurseUsageError: amount or terminal id out of range.
            BalanceLimitExceeded: 6985, the balance would exceed the card's maximum (docs/transit-card.md).
            PurseError: any other refusal (9403 key index, 9303 locked, 9402 counter at its limit ...).
        """
        name = "INITIALIZE FOR LOAD"
        response = self.channel.transmit(cmd.initialize_for_load(amount, terminal_id, self.key_index))
        if response.sw == SW.CONDITIONS_NOT_SATISFIED:  # the transit card's "over the maximum balance"
            raise BalanceLimitExceeded(f"a load of {amount} fen would exceed the card's maximum balance",
                                       sw=response.sw, context=name)
        if response.sw != SW.OK:
            raise error_for_sw(response.sw, name)
        data = response.data
        r = parse_fixed(LOAD_INIT, data, "INITIALIZE FOR LOAD")
        return LoadInit(r.old_balance, r.online_counter, r.key_version, self._algorithm(r.algorithm),
                        bytes(r.random), bytes(r.mac1), amount, bytes(terminal_id), self.key_index)

    def credit_for_load(self, init: LoadInit, mac2: bytes, when: datetime) -> PurseResult:
        """CREDIT FOR LOAD with the host's MAC2: the card adds ``init.amount`` and answers its TAC.

        Raises:
            MacInvalid: the card rejected MAC2 (9302); nothing was credited.
            TransactionInterrupted: the answer was lost; see :meth:`recover`.
            PurseError: any other refusal.
        """
        command = cmd.credit_for_load(bcd_date(when), bcd_time(when), mac2)
        data = self._value_command(command, "CREDIT FOR LOAD", init, None, when)
        if len(data) != 4:
            raise PurseDataError(f"CREDIT FOR LOAD answered {len(data)} bytes instead of the TAC",
                                 context="CREDIT FOR LOAD")
        result = self._result(init, None, when, tac=data, mac2=bytes(mac2), recovered=False)
        self._remember(result)
        return result

    def load(self, amount: int, terminal_id: bytes, authorize: Authorize, when: datetime) -> PurseResult:
        """A whole top-up: INITIALIZE FOR LOAD, ``authorize`` (the host: MAC1 in, MAC2 out), CREDIT.

        Args:
            amount: fen to add.
            terminal_id: the 6-byte terminal id (goes into MAC1, MAC2 and TAC).
            authorize: the host; it raises to refuse, and then nothing is sent to the card.
            when: the transaction date and time.

        Raises:
            everything :meth:`initialize_load` and :meth:`credit_for_load` raise, and whatever
            ``authorize`` raises.
        """
        info = self._card()
        init = self.initialize_load(amount, terminal_id)
        return self.credit_for_load(init, authorize(info, init, when), when)

    # ------------------------------------------------------------------------------ purchase
    def initialize_purchase(self, amount: int, terminal_id: bytes, *, compound: bool = False) -> PurchaseInit:
        """INITIALIZE FOR PURCHASE (or FOR CAPP PURCHASE when ``compound``).

        Raises:
            InsufficientBalance: 9401.
            PurseError: any other refusal.
        """
        name = "INITIALIZE FOR CAPP PURCHASE" if compound else "INITIALIZE FOR PURCHASE"
        data = self._call(cmd.initialize_for_purchase(amount, terminal_id, compound=compound,
                                                      key_index=self.key_index), name)
        r = parse_fixed(PURCHASE_INIT, data, name)
        return PurchaseInit(r.old_balance, r.offline_counter, r.overdraft_limit, r.key_version,
                            self._algorithm(r.algorithm), bytes(r.random), amount, bytes(terminal_id), compound,
                            self.key_index)

    def update_capp_record(self, identifier: int, record: bytes) -> None:
        """UPDATE CAPP DATA CACHE: ``record`` replaces the record whose identifier (first byte) is
        ``identifier``; only between an INITIALIZE FOR CAPP PURCHASE and its DEBIT, which writes it.

        Raises:
            PurseError: the card refused (6985 out of sequence, ...).
        """
        self._call(cmd.update_capp_data_cache(identifier, record), "UPDATE CAPP DATA CACHE")

    def debit_for_purchase(self, init: PurchaseInit, psam: Psam, when: datetime) -> PurseResult:
        """MAC1 from the PSAM, DEBIT FOR (CAPP) PURCHASE, then the PSAM checks MAC2 and TAC.

        Raises:
            MacInvalid: the card rejected MAC1 (9302, nothing debited), or MAC2/TAC did not verify.
            InsufficientBalance: 9401.
            TransactionInterrupted: the answer was lost; see :meth:`recover`.
        """
        info = self.info
        if info is None:  # selecting now would end the transaction the INITIALIZE opened
            raise cmd.PurseUsageError("select the card before its INITIALIZE", context="DEBIT FOR PURCHASE")
        txn_no, mac1 = psam.mac1(info, init, when)
        command = cmd.debit_for_purchase(txn_no, bcd_date(when), bcd_time(when), mac1)
        name = "DEBIT FOR CAPP PURCHASE" if init.compound else "DEBIT FOR PURCHASE"
        data = self._value_command(command, name, init, txn_no, when)
        answer = parse_fixed(DEBIT_ANSWER, data, name)
        result = self._result(init, txn_no, when, tac=bytes(answer.tac), mac2=bytes(answer.mac2), recovered=False)
        self._verify(psam, info, init, result)
        self._remember(result)
        return result

    def purchase(self, amount: int, psam: Psam, when: datetime) -> PurseResult:
        """A whole purchase of ``amount`` fen at the PSAM's terminal (type 06).

        Raises:
            InsufficientBalance, MacInvalid, TransactionInterrupted, PurseError: see
            :meth:`initialize_purchase` and :meth:`debit_for_purchase`.
        """
        self._card()
        init = self.initialize_purchase(amount, psam.terminal_id)
        return self.debit_for_purchase(init, psam, when)

    def compound_purchase(self, amount: int, psam: Psam, when: datetime, *, record_id: int = 1,
                          update: Callable[[bytes], bytes]) -> PurseResult:
        """A compound (CAPP, type 09) purchase that rewrites one transit record with the debit.

        Record ``record_id`` of the CAPP data cache (SFI 17) is read first and ``update(old)`` must
        return the new record: same length, same first byte (the record identifier, which UPDATE
        CAPP DATA CACHE names in P1). An ``update`` that raises stops before the INITIALIZE.

        Raises:
            PurseUsageError: the new record has another length or identifier.
            InsufficientBalance, MacInvalid, TransactionInterrupted, PurseError: as :meth:`purchase`.
        """
        self._card()
        old = self.read_capp_record(record_id)
        new = bytes(update(old))
        if len(new) != len(old) or not old or new[0] != old[0]:
            raise cmd.PurseUsageError(f"the new CAPP record ({len(new)} bytes) must keep the length ({len(old)}) "
                                      "and identifier (first byte) of the card's", context="compound purchase")
        init = self.initialize_purchase(amount, psam.terminal_id, compound=True)
        self.update_capp_record(new[0], new)
        return self.debit_for_purchase(init, psam, when)

    # ------------------------------------------------------------------------------ recovery
    @property
    def pending(self) -> list[LoadInit | PurchaseInit]:
        """The INITIALIZE answers of transactions whose outcome this client does not know."""
        return [self._sent[key].init for key in self._unknown]

    def recover(self, init: PurchaseInit | LoadInit, psam: Psam | None = None, *,
                terminal_txn_no: int | None = None, when: datetime | None = None) -> PurseResult | None:
        """After a lost CREDIT / DEBIT answer: did the card commit? Ask it with GET TRANSACTION PROVE.

        Re-selects the purse first (a torn card was reset) and refuses another card than the one
        the transaction started on.

        Args:
            init: the INITIALIZE answer of the interrupted transaction
                (:attr:`TransactionInterrupted.init`).
            psam: verifies MAC2 and TAC of a recovered purchase (without it they are returned unchecked).
            terminal_txn_no: the purchase's terminal transaction number, when this client did not
                run it (after a restart, from the journal); otherwise remembered.
            when: the transaction's date and time, likewise.

        Returns:
            The completed result with ``recovered=True``, or ``None`` when the card did not
            complete the transaction (nothing moved: retrying is safe).

        Raises:
            PurseError: another card was presented, or the card's answer says neither
                "completed" nor "not completed" (do not retry: check the card's log).
            MacInvalid: the card says it completed but the PSAM cannot verify its proofs.
            PurseUsageError: ``when`` / ``terminal_txn_no`` unknown to this client and not given.
        """
        key = (init.kind, init.counter)
        pending = self._sent.get(key)
        when = when or (pending.when if pending else None)
        txn_no = terminal_txn_no if terminal_txn_no is not None else (pending.terminal_txn_no if pending else None)
        if when is None or (isinstance(init, PurchaseInit) and txn_no is None):
            raise cmd.PurseUsageError("recovery needs the transaction's date and time and, for a purchase, its "
                                      "terminal transaction number", context="recover")
        info = self.select()
        if pending is not None and pending.serial is not None and info.serial != pending.serial:
            raise PurseError(f"card {info.serial} was presented; the transaction was on card {pending.serial}",
                             context="recover")
        response = self.channel.transmit(cmd.get_transaction_prove(init.kind.type, init.counter))
        if response.sw in _NOT_COMPLETED:
            log.info("recover: the card did not complete %s with counter %d", init.kind.value, init.counter)
            self._unknown.discard(key)
            return None
        if response.sw != SW.OK:
            raise error_for_sw(response.sw, "GET TRANSACTION PROVE")
        answer = parse_fixed(PROVE_ANSWER, response.data, "GET TRANSACTION PROVE")
        result = self._result(init, txn_no, when, tac=bytes(answer.tac), mac2=bytes(answer.mac2), recovered=True)
        if isinstance(init, PurchaseInit):
            if psam is not None:
                self._verify(psam, info, init, result)
            else:
                log.warning("recover: purchase proofs returned unchecked (no PSAM given)")
        self._unknown.discard(key)
        log.info("recover: the card completed %s with counter %d", init.kind.value, init.counter)
        return result

    # ------------------------------------------------------------------------------ internals
    @staticmethod
    def _algorithm(byte: int) -> PurseAlgorithm:
        try:
            return ALGORITHM_BYTES[byte]
        except KeyError:
            raise PurseDataError(f"unknown purse algorithm byte {byte:02X}", context="INITIALIZE") from None

    def _value_command(self, command: CommandAPDU, name: str, init: LoadInit | PurchaseInit,
                       txn_no: int | None, when: datetime) -> bytes:
        """Send a command that moves value; its outcome is pending until an answer arrives."""
        key = (init.kind, init.counter)
        if len(self._sent) >= _REMEMBERED and key not in self._sent:
            self._sent.pop(next((k for k in self._sent if k not in self._unknown), key), None)
        self._sent[key] = _Pending(init, self.info.serial if self.info else None, txn_no, when)
        self._unknown.add(key)
        try:
            response = self.channel.transmit(command)
        except TransportError as exc:
            log.warning("%s: the answer was lost (%s); recover before retrying", name, exc)
            raise TransactionInterrupted(f"the answer was lost ({exc}); the card may have committed: recover",
                                         init=init, terminal_txn_no=txn_no, when=when, context=name) from exc
        if response.sw != SW.OK:
            self._unknown.discard(key)  # a refusal: the card did not commit
            raise error_for_sw(response.sw, name)
        self._unknown.discard(key)
        return response.data

    @staticmethod
    def _result(init: LoadInit | PurchaseInit, txn_no: int | None, when: datetime, *, tac: bytes, mac2: bytes,
                recovered: bool) -> PurseResult:
        delta = init.amount if isinstance(init, LoadInit) else -init.amount
        return PurseResult(kind=init.kind, amount=init.amount, balance_before=init.old_balance,
                           balance_after=init.old_balance + delta, counter=init.counter, terminal_id=init.terminal_id,
                           terminal_txn_no=txn_no, when=when, tac=tac, mac2=mac2, recovered=recovered)

    @staticmethod
    def _verify(psam: Psam, info: PurseInfo, init: PurchaseInit, result: PurseResult) -> None:
        assert result.terminal_txn_no is not None
        try:
            psam.verify_mac2(info, init, result.terminal_txn_no, result.mac2)
            psam.verify_tac(info, init, result.terminal_txn_no, result.when, result.tac)
        except MacInvalid as exc:
            raise MacInvalid(f"the card reports the debit of {init.amount} fen as done, but its proof does not "
                             "verify", context=exc.context) from None

    def _remember(self, result: PurseResult) -> None:
        if self.info is not None:
            self.info = replace(self.info, balance=result.balance_after)
        log.info("%s of %d fen done: balance %d -> %d (counter %d)", result.kind.value, result.amount,
                 result.balance_before, result.balance_after, result.counter)
