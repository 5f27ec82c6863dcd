"""Personalization: a prepared card (:class:`~cardkit.issuer.prepare.CardPlan`) onto a blank card,
through the card manager and an SCP03 secure channel — the same APDUs whichever reader holds the card.

The script, on a blank card (card manager OP_READY, default test keys):

1. SCP03 with the default key set (KVN 30), C-MAC + C-DECRYPTION: every command below is MACed and
   its data enciphered, so the DGIs (card keys, PINs) cross the interface encrypted.
2. Per application: INSTALL [for install and make selectable], INSTALL [for personalization],
   STORE DATA of its DGIs (chained blocks; the card applies them atomically on the last block).
   An application an interrupted earlier attempt left on the card is deleted first.
3. PUT KEY: the card's own key set (KVN 01), diversified from the issuer's card manager master key
   and the card's diversification data, replacing the default set; DELETE the default SCP02 set.
4. SET STATUS INITIALIZED, then SECURED — which the card refuses while any default key is left.
5. A new secure channel with the card's own keys proves them, and reads back the registry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from cardkit.gp import (
    CardLifeCycle,
    GpSession,
    Scope,
    SecurityLevel,
    StaticKeys,
    delete,
    delete_key,
    diversify_emv,
    get_status,
    install_for_install,
    install_for_personalization,
    open_secure_channel,
    put_key,
    set_status,
    store_data,
)
from cardkit.issuer.keystore import SecretKey
from cardkit.issuer.prepare import CardPlan
from cardkit.readers.channel import CardChannel

__all__ = ["CARD_KVN", "DEFAULT_KEYS_SCP02", "DEFAULT_KEYS_SCP03", "PersonalizationReport", "card_keys",
           "personalize"]

log = logging.getLogger(__name__)

DEFAULT_KEYS_SCP03 = StaticKeys.default(kvn=0x30)
DEFAULT_KEYS_SCP02 = StaticKeys.default(kvn=0x20)
CARD_KVN = 0x01
LEVEL = SecurityLevel.C_MAC | SecurityLevel.C_DEC


@dataclass(frozen=True, slots=True)
class PersonalizationReport:
    """What personalizing one card took: commands, time per phase, and what the card lists after."""

    card_serial: str
    applications: tuple[str, ...]
    store_data_commands: int
    seconds: dict[str, float] = field(default_factory=dict)
    registry: tuple[tuple[str, str], ...] = ()  # (AID hex, life cycle name) read back


def card_keys(master: SecretKey | bytes, diversification_data: bytes) -> StaticKeys:
    """The card manager keys of one card: EMV-CPS diversification of the issuer's master key."""
    return diversify_emv(master, diversification_data, algorithm="aes", kvn=CARD_KVN)


def personalize(channel: CardChannel, plan: CardPlan, card_manager_master: SecretKey | bytes, *,
                initial_keys: StaticKeys = DEFAULT_KEYS_SCP03) -> PersonalizationReport:
    """Personalize the blank card on ``channel`` with ``plan``.

    Raises:
        GpError: the card does not hold ``initial_keys`` (not blank, or another issuer's), or
            refused a step (the message names the command and the status word).
        CardError, TransportError: the card answered an error, or went away.
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    session = open_secure_channel(channel, initial_keys, level=LEVEL)
    seconds["secure channel"] = time.perf_counter() - t0
    _clear_earlier_attempt(session, plan)
    blocks = 0
    for app in plan.applications:
        t = time.perf_counter()
        install_for_install(session, app.load_file, app.module, app.instance)
        install_for_personalization(session, app.instance)
        blocks += store_data(session, app.dgis)
        seconds[app.name] = time.perf_counter() - t
        log.debug("personalized %s (%s)", app.name, app.instance.hex().upper())
    t = time.perf_counter()
    keys = card_keys(card_manager_master, session.diversification_data)
    put_key(session, keys, replace_kvn=initial_keys.kvn)
    delete_key(session, DEFAULT_KEYS_SCP02.kvn)
    set_status(session, Scope.ISD, CardLifeCycle.INITIALIZED)
    set_status(session, Scope.ISD, CardLifeCycle.SECURED)
    seconds["keys and life cycle"] = time.perf_counter() - t
    t = time.perf_counter()
    check = open_secure_channel(channel, keys, level=SecurityLevel.C_MAC)
    registry = _registry(check)
    seconds["check"] = time.perf_counter() - t
    return PersonalizationReport(plan.card_serial, tuple(a.name for a in plan.applications), blocks, seconds,
                                 registry)


def _clear_earlier_attempt(session: GpSession, plan: CardPlan) -> None:
    """Delete what an interrupted personalization of this card left (it still has the default
    keys, so it was never handed out): the script then runs again from the start."""
    wanted = {app.instance for app in plan.applications}
    for entry in get_status(session, Scope.APPLICATIONS):
        if entry.aid in wanted:
            log.info("deleting %s left by an earlier, interrupted personalization", entry.aid.hex().upper())
            delete(session, entry.aid)


def _registry(session: GpSession) -> tuple[tuple[str, str], ...]:
    entries = get_status(session, Scope.ISD) + get_status(session, Scope.APPLICATIONS)
    return tuple((e.aid.hex().upper(), e.state) for e in entries)
