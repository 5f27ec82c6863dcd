"""Cardholder verification (EMV 4.4 Book 3 §10.5, Annex C3; Book 4 §6.3.4).

The card's CVM List (8E) is ``X ‖ Y ‖ CV rules``; the terminal walks the rules in order, skips
those whose condition is not met, performs the first applicable CVM, and on failure moves on only
when the rule says "apply succeeding rule if this fails". PINs come from a callback so a POS can
plug in its PIN pad; they go to the card (offline) or into a format 0 PIN block for the host
(online) and are never logged, kept in exceptions or put into the outcome.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cardkit.apdu import SW, CommandAPDU, pin_tries_left
from cardkit.crypto.oda import OdaError, RecoveredIccKey
from cardkit.crypto.pin import encode_pin_block
from cardkit.emv.config import TerminalConfig
from cardkit.emv.context import Transaction
from cardkit.emv.outcome import CardDataError
from cardkit.emv.tvr import CvmResult, CvmResults, Tsi, Tvr
from cardkit.errors import CryptoError
from cardkit.readers.channel import CardChannel

__all__ = [
    "CvMethod",
    "CvRule",
    "CvmList",
    "PinEntry",
    "PinKind",
    "PinRequest",
    "condition_satisfied",
    "parse_cvm_list",
    "verify_cardholder",
]

log = logging.getLogger(__name__)


class CvMethod(enum.IntEnum):
    """CV rule byte 1, b6-b1 (Book 3 Annex C3)."""

    FAIL = 0x00
    PLAINTEXT_PIN = 0x01
    ONLINE_PIN = 0x02
    PLAINTEXT_PIN_AND_SIGNATURE = 0x03
    ENCIPHERED_PIN = 0x04
    ENCIPHERED_PIN_AND_SIGNATURE = 0x05
    SIGNATURE = 0x1E
    NO_CVM = 0x1F


class PinKind(enum.Enum):
    OFFLINE_PLAINTEXT = "offline-plaintext"
    OFFLINE_ENCIPHERED = "offline-enciphered"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class PinRequest:
    """What the PIN pad is asked for.

    Attributes:
        kind: offline (to the card) or online (to the host).
        amount: the amount to show, minor units.
        tries_left: the card's PIN try counter when known (offline only).
        retry: the previous offline PIN was wrong.
    """

    kind: PinKind
    amount: int
    tries_left: int | None = None
    retry: bool = False


#: ``pin_entry(request) -> PIN digits, or None`` (bypass / cancelled / PIN pad failed).
PinEntry = Callable[[PinRequest], str | None]


@dataclass(frozen=True, slots=True)
class CvRule:
    """One CV rule: the CVM code byte (b7 = apply the next rule if this fails) and the condition."""

    code: int
    condition: int

    @property
    def method(self) -> int:
        return self.code & 0x3F

    @property
    def continue_on_failure(self) -> bool:
        return bool(self.code & 0x40)


@dataclass(frozen=True, slots=True)
class CvmList:
    """A decoded CVM List (8E): amounts X and Y (binary, minor units of the application
    currency) and the rules in order."""

    x: int
    y: int
    rules: tuple[CvRule, ...]


def parse_cvm_list(raw: bytes) -> CvmList:
    """Decode tag 8E.

    Raises:
        CardDataError: shorter than 8 bytes or an odd number of rule bytes.
    """
    if len(raw) < 8 or len(raw) % 2:
        raise CardDataError(f"CVM list of {len(raw)} bytes is malformed")
    rules = tuple(CvRule(raw[i], raw[i + 1]) for i in range(8, len(raw), 2))
    return CvmList(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), rules)


_CASH = (0x01, 0x17)


def condition_satisfied(
    rule: CvRule,
    *,
    cvm_list: CvmList,
    amount: int,
    other_amount: int,
    transaction_type: int,
    in_application_currency: bool,
    config: TerminalConfig,
) -> bool:
    """Book 3 Annex C3 Table 40. Conditions the terminal does not understand (RFU, proprietary)
    are not satisfied, so the rule is skipped (Book 3 §10.5)."""
    c = rule.condition
    unattended = config.terminal_type & 0x0F in (4, 5, 6)
    cash = transaction_type in _CASH
    cashback = transaction_type == 0x09 or other_amount > 0
    if c == 0x00:
        return True
    if c == 0x01:
        return cash and unattended
    if c == 0x02:
        return not cash and not cashback
    if c == 0x03:
        return config.supports_cvm(rule.method)
    if c == 0x04:
        return cash and not unattended
    if c == 0x05:
        return cashback
    if c in (0x06, 0x07, 0x08, 0x09):
        if not in_application_currency:
            return False
        limit = cvm_list.x if c in (0x06, 0x07) else cvm_list.y
        return amount < limit if c in (0x06, 0x08) else amount > limit
    return False


def _tries_left(channel: CardChannel) -> int | None:
    """GET DATA 9F17, the PIN try counter (optional on the card)."""
    resp = channel.transmit(CommandAPDU(0x80, 0xCA, 0x9F, 0x17, le=256))
    if resp.sw != SW.OK or len(resp.data) < 4 or resp.data[:3] != b"\x9f\x17\x01":
        return None
    return resp.data[3]


def _encipher_pin(channel: CardChannel, icc: RecoveredIccKey, block: bytes, random: Callable[[int], bytes]) -> bytes:
    """Book 2 §7.2: RSA under the ICC key of ``7F ‖ PIN block ‖ ICC UN ‖ random padding``."""
    challenge = channel.transmit_ok(CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8)).data
    if len(challenge) != 8:
        raise CardDataError("GET CHALLENGE did not return 8 bytes")
    n = icc.key.length
    message = b"\x7f" + block + challenge + random(n - 17)
    value = pow(int.from_bytes(message, "big"), int.from_bytes(icc.key.exponent, "big"),
                int.from_bytes(icc.key.modulus, "big"))
    return value.to_bytes(n, "big")


class _Cvm:
    """One walk of the CVM list: performs CVMs and records TVR bits on ``txn``."""

    def __init__(self, channel: CardChannel, txn: Transaction, config: TerminalConfig,
                 pin_entry: PinEntry | None, random: Callable[[int], bytes],
                 icc_key: Callable[[], RecoveredIccKey | None]) -> None:
        self.channel, self.txn, self.config = channel, txn, config
        self.pin_entry, self.random, self.icc_key = pin_entry, random, icc_key

    def perform(self, method: int) -> CvmResult:
        """Perform one CVM; ``FAILED`` moves on to the next rule (when the rule allows it)."""
        txn = self.txn
        if method not in CvMethod._value2member_map_:
            txn.tvr |= Tvr.UNRECOGNISED_CVM
            return CvmResult.FAILED
        m = CvMethod(method)
        if m is CvMethod.FAIL:
            return CvmResult.FAILED
        if not self.config.supports_cvm(m):
            if m in (CvMethod.PLAINTEXT_PIN, CvMethod.ONLINE_PIN, CvMethod.PLAINTEXT_PIN_AND_SIGNATURE,
                     CvMethod.ENCIPHERED_PIN, CvMethod.ENCIPHERED_PIN_AND_SIGNATURE):
                txn.tvr |= Tvr.PIN_PAD_NOT_PRESENT
            return CvmResult.FAILED
        if m is CvMethod.NO_CVM:
            return CvmResult.SUCCESSFUL
        if m is CvMethod.SIGNATURE:
            txn.signature_required = True
            return CvmResult.UNKNOWN
        if m is CvMethod.ONLINE_PIN:
            return self.online_pin()
        result = self.offline_pin(enciphered=m in (CvMethod.ENCIPHERED_PIN, CvMethod.ENCIPHERED_PIN_AND_SIGNATURE))
        if result is CvmResult.SUCCESSFUL and m in (CvMethod.PLAINTEXT_PIN_AND_SIGNATURE,
                                                    CvMethod.ENCIPHERED_PIN_AND_SIGNATURE):
            txn.signature_required = True
            return CvmResult.UNKNOWN
        return result

    def online_pin(self) -> CvmResult:
        txn = self.txn
        if self.pin_entry is None:
            txn.tvr |= Tvr.PIN_PAD_NOT_PRESENT
            return CvmResult.FAILED
        pin = self.pin_entry(PinRequest(PinKind.ONLINE, txn.amount))
        if pin is None:
            txn.tvr |= Tvr.PIN_NOT_ENTERED
            return CvmResult.FAILED
        try:
            txn.pin_block = encode_pin_block(pin, txn.pan or None, 0)
        except CryptoError as exc:
            log.info("online PIN not usable: %s", exc)
            txn.tvr |= Tvr.PIN_NOT_ENTERED
            return CvmResult.FAILED
        txn.tvr |= Tvr.ONLINE_PIN_ENTERED
        return CvmResult.UNKNOWN

    def offline_pin(self, *, enciphered: bool) -> CvmResult:
        txn = self.txn
        if self.pin_entry is None:
            txn.tvr |= Tvr.PIN_PAD_NOT_PRESENT
            return CvmResult.FAILED
        icc: RecoveredIccKey | None = None
        if enciphered:
            icc = self.icc_key()
            if icc is None:
                log.info("enciphered offline PIN: no ICC public key")
                return CvmResult.FAILED
        tries = _tries_left(self.channel)
        if tries == 0:
            txn.tvr |= Tvr.PIN_TRY_LIMIT_EXCEEDED
            return CvmResult.FAILED
        kind = PinKind.OFFLINE_ENCIPHERED if enciphered else PinKind.OFFLINE_PLAINTEXT
        retry = False
        for _ in range(max(1, self.config.pin_attempts)):
            pin = self.pin_entry(PinRequest(kind, txn.amount, tries, retry))
            if pin is None:
                txn.tvr |= Tvr.PIN_NOT_ENTERED
                return CvmResult.FAILED
            try:
                block = encode_pin_block(pin, format=2).reveal()
            except CryptoError:
                txn.tvr |= Tvr.PIN_NOT_ENTERED
                return CvmResult.FAILED
            if icc is not None:
                data, p2 = _encipher_pin(self.channel, icc, block, self.random), 0x88
            else:
                data, p2 = block, 0x80
            resp = self.channel.transmit(CommandAPDU(0x00, 0x20, 0x00, p2, data), sensitive=True)
            if resp.sw == SW.OK:
                return CvmResult.SUCCESSFUL
            left = pin_tries_left(resp.sw)
            if left is None or left == 0:
                if left == 0 or resp.sw in (SW.AUTH_METHOD_BLOCKED, SW.REFERENCE_DATA_NOT_USABLE):
                    txn.tvr |= Tvr.PIN_TRY_LIMIT_EXCEEDED
                log.info("offline PIN verification ended with SW %04X", resp.sw)
                return CvmResult.FAILED
            tries, retry = left, True
            log.info("wrong offline PIN, %d tries left", left)
        return CvmResult.FAILED


def verify_cardholder(
    channel: CardChannel,
    txn: Transaction,
    config: TerminalConfig,
    pin_entry: PinEntry | None,
    *,
    random: Callable[[int], bytes],
    icc_key: Callable[[], RecoveredIccKey | None] = lambda: None,
) -> CvmResults:
    """Book 3 §10.5: walk the CVM List, perform the first applicable CVM, set 9F34, TVR and TSI.

    Args:
        pin_entry: the PIN pad; ``None`` means the terminal has none working.
        random: random bytes for the enciphered PIN padding.
        icc_key: gives the ICC public key for enciphered offline PIN (recovering it if needed).

    Returns:
        The CVM results, also stored in ``txn.cvm_results``.
    """
    if not txn.aip[0] & 0x10:  # AIP: cardholder verification not supported
        log.info("AIP says cardholder verification is not supported")
        return txn.cvm_results
    raw = txn.card.get(b"\x8e")
    if not raw or len(raw) <= 8:
        txn.tvr |= Tvr.ICC_DATA_MISSING
        txn.cvm_results = CvmResults(0x3F, 0x00, CvmResult.UNKNOWN)
        return txn.cvm_results
    cvm_list = parse_cvm_list(raw)
    txn.tsi |= Tsi.CARDHOLDER_VERIFICATION_PERFORMED
    app_currency = txn.card.get(b"\x9f\x42")
    in_currency = app_currency is not None and app_currency == txn.get(b"\x5f\x2a")
    walker = _Cvm(channel, txn, config, pin_entry, random, icc_key)
    last: CvmResults | None = None
    for rule in cvm_list.rules:
        if not condition_satisfied(rule, cvm_list=cvm_list, amount=txn.amount, other_amount=txn.other_amount,
                                   transaction_type=txn.transaction_type, in_application_currency=in_currency,
                                   config=config):
            continue
        result = walker.perform(rule.method)
        last = CvmResults(rule.code, rule.condition, result)
        if result is not CvmResult.FAILED:
            txn.cvm_results = last
            return last
        if not rule.continue_on_failure:
            break
    txn.tvr |= Tvr.CARDHOLDER_VERIFICATION_FAILED
    txn.cvm_results = last or CvmResults(0x3F, 0x00, CvmResult.FAILED)
    return txn.cvm_results


def icc_key_or_none(fn: Callable[[], RecoveredIccKey]) -> Callable[[], RecoveredIccKey | None]:
    """Wrap a key recovery so an :class:`OdaError` means "no key" for enciphered PIN."""

    def get() -> RecoveredIccKey | None:
        try:
            return fn()
        except OdaError as exc:
            log.info("no ICC key for enciphered PIN: %s", exc.reason.value)
            return None

    return get
