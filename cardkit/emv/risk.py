"""Terminal risk management (EMV 4.4 Book 3 §10.6): exception file, floor limit, random
transaction selection and velocity checking, each a TVR bit for action analysis to weigh.

Random selection is the biased-sampling rule of §10.6.2: below the threshold a flat target
percentage, between the threshold and the floor limit a percentage rising linearly to the maximum.
The random number comes from an injected byte source so tests can fix it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cardkit.apdu import SW, CommandAPDU
from cardkit.emv.config import TerminalConfig
from cardkit.emv.context import Transaction
from cardkit.emv.tvr import Tsi, Tvr
from cardkit.readers.channel import CardChannel

__all__ = ["get_data", "manage_risk", "random_number", "randomly_selected", "target_percent"]

log = logging.getLogger(__name__)


def random_number(rng: Callable[[int], bytes]) -> int:
    """A uniform integer 1-99 from a byte source (rejection sampling keeps it unbiased)."""
    while True:
        b = rng(1)[0]
        if b < 198:
            return b % 99 + 1


def target_percent(amount: int, config: TerminalConfig) -> float | None:
    """The Transaction Target Percent for ``amount`` (Book 3 §10.6.2), or ``None`` when random
    selection does not apply (at or above the floor limit, where the floor limit check rules)."""
    if amount >= config.floor_limit:
        return None
    if amount < config.random_threshold:
        return float(config.random_target_percent)
    span = config.floor_limit - config.random_threshold
    if span <= 0:
        return float(config.random_target_percent)
    rise = config.random_max_target_percent - config.random_target_percent
    return rise * (amount - config.random_threshold) / span + config.random_target_percent


def randomly_selected(amount: int, config: TerminalConfig, rng: Callable[[int], bytes]) -> bool:
    """Is this transaction picked for online processing? ``random <= target percent``."""
    target = target_percent(amount, config)
    if target is None or target <= 0:
        return False
    return random_number(rng) <= target


def get_data(channel: CardChannel, tag: int) -> bytes | None:
    """GET DATA (Book 3 §6.5.7) for a primitive tag; ``None`` when the card does not give it."""
    resp = channel.transmit(CommandAPDU(0x80, 0xCA, tag >> 8, tag & 0xFF, le=256))
    prefix = tag.to_bytes(2, "big")
    if resp.sw != SW.OK or not resp.data.startswith(prefix) or len(resp.data) < 3:
        return None
    value = resp.data[3:]
    return value if len(value) == resp.data[2] else None


def manage_risk(channel: CardChannel, txn: Transaction, config: TerminalConfig,
                rng: Callable[[int], bytes]) -> None:
    """Book 3 §10.6, run when the AIP asks for it (byte 1 b4): sets TVR byte 4 (and 'new card',
    'card on exception file') and TSI 'terminal risk management performed'."""
    if not txn.aip[0] & 0x08:
        log.info("AIP says terminal risk management is not to be performed")
        return
    txn.tsi |= Tsi.TERMINAL_RISK_MANAGEMENT_PERFORMED
    pan = txn.pan.hex().upper().rstrip("F")
    if pan and pan in config.exception_file:
        txn.tvr |= Tvr.CARD_ON_EXCEPTION_FILE
    if txn.amount >= config.floor_limit:
        txn.tvr |= Tvr.EXCEEDS_FLOOR_LIMIT
    elif randomly_selected(txn.amount, config, rng):
        txn.tvr |= Tvr.RANDOMLY_SELECTED_ONLINE
    lower = txn.card.get(b"\x9f\x14")
    upper = txn.card.get(b"\x9f\x23")
    if lower is None or upper is None:
        return
    atc = get_data(channel, 0x9F36)
    last_online = get_data(channel, 0x9F13)
    if atc is None or last_online is None or len(atc) != 2 or len(last_online) != 2:
        txn.tvr |= Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED | Tvr.UPPER_OFFLINE_LIMIT_EXCEEDED
        return
    txn.card[b"\x9f\x36"] = atc
    txn.card[b"\x9f\x13"] = last_online
    consecutive = int.from_bytes(atc, "big") - int.from_bytes(last_online, "big")
    if consecutive > int.from_bytes(lower, "big"):
        txn.tvr |= Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED
    if consecutive > int.from_bytes(upper, "big"):
        txn.tvr |= Tvr.UPPER_OFFLINE_LIMIT_EXCEEDED
    if last_online == b"\x00\x00":
        txn.tvr |= Tvr.NEW_CARD
