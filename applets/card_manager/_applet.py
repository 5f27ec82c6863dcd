"""CardManager: the issuer security domain (GP Card Spec 2.3) of the simulated card.

The applet glue: per-selection session (handshake, secure channel, STORE DATA target), the command
table with the security level each command needs, the card-wide gate, key sets and sequence
counters. Content management (INSTALL, DELETE, GET STATUS, SET STATUS, STORE DATA) is in
:mod:`applets.card_manager._content`.

Persistent state (this applet's store view): ``lc`` card life cycle; ``ks/<KVN>`` key sets and
``kvns`` their order (INITIALIZE UPDATE with KVN 00 takes the first complete one); ``seq/<KVN>``
sequence counters; ``reg/<AID>`` registry entries; ``perso`` the STORE DATA buffer; ``iin``/``cin``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from applets.card_manager import _content
from applets.card_manager._codes import APPLET_SELECT_FAILED, AppLifeCycle, CardLifeCycle, Refusal
from applets.card_manager._cplc import Cplc, card_recognition_data
from applets.card_manager._keys import KeySet, default_key_sets, key_information, parse_put_key
from applets.card_manager._registry import RegistryEntry
from applets.card_manager._scp import (
    SCP02_I,
    SCP03_I,
    SL_C_MAC,
    ChannelError,
    Handshake,
    SecureChannel,
    scp02_initialize,
    scp03_initialize,
)
from applets.runtime import Applet, CommandContext, SimulatedCard, fci, register_applet, status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.cardaids import ISD_AID
from cardkit.tlv import build

__all__ = ["CardManager", "Session"]

log = logging.getLogger(__name__)

INS_INITIALIZE_UPDATE = 0x50
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_GET_DATA = 0xCA
INS_PUT_KEY = 0xD8
_MAX_KEY_SETS = 8
_SCP03_COUNTER_MAX = 0xFFFFFF
_SCP02_COUNTER_MAX = 0xFFFF
_ANY_SESSION = 0x00  # "needs an authenticated session" at any security level
_TERMINATED = int(CardLifeCycle.TERMINATED)
_CARD_LOCKED = int(CardLifeCycle.CARD_LOCKED)


@dataclass(slots=True)
class Session:
    """One selection's RAM: the handshake between INITIALIZE UPDATE and EXTERNAL AUTHENTICATE, the
    secure channel after it, the STORE DATA target and a GET STATUS continuation."""

    handshake: Handshake | None = field(default=None, repr=False)
    channel: SecureChannel | None = field(default=None, repr=False)
    perso_target: bytes | None = None
    status_more: tuple[int, bytes, int] | None = None

    def close(self) -> None:
        self.handshake = self.channel = self.perso_target = self.status_more = None


Handler = Callable[["CardManager", CommandAPDU, Session], ResponseAPDU]


@register_applet("card-manager")
class CardManager(Applet):
    """The GlobalPlatform issuer security domain: secure channels, keys, life cycle, content management.

    Args:
        aid: the security domain's AID (the GP ISD AID by default; SCP03's pseudo-random card
            challenge depends on it).
        cplc: the chip's production data; its IC fields give the key diversification data.
        key_sets: the initial key sets, written at installation; the two default test key sets if
            omitted (KVN 30 AES, KVN 20 DES, keys 40..4F).
        iin, cin: issuer and card identification numbers (GET DATA 0042 / 0045), if any.
        random: the card's random source (SCP02 card challenges); ``secrets.token_bytes`` otherwise.
    """

    supports_chaining = False

    def __init__(self, aid: bytes = ISD_AID, *, label: str | None = None, cplc: Cplc | None = None,
                 key_sets: Sequence[KeySet] | None = None, iin: bytes | None = None, cin: bytes | None = None,
                 random: Callable[[int], bytes] | None = None) -> None:
        super().__init__(aid, label=label if label is not None else "ISD")
        self.cplc = cplc if cplc is not None else Cplc()
        initial = tuple(key_sets) if key_sets is not None else default_key_sets()
        if len({ks.kvn for ks in initial}) != len(initial):
            raise ValueError("initial key sets must have distinct key version numbers")
        self._initial = initial
        self._iin, self._cin = iin, cin
        self.random: Callable[[int], bytes] = random or secrets.token_bytes
        self._card: SimulatedCard | None = None
        # the gate's view of the committed state, valid for one store generation (every commit that
        # changes anything bumps it; a tear rolls back only uncommitted writes): life cycle, entries
        self._facts_generation = -1
        self._facts_lc = int(CardLifeCycle.OP_READY)
        self._facts: dict[bytes, RegistryEntry | None] = {}

    def __repr__(self) -> str:
        return f"CardManager(aid={self.aid.hex().upper()})"

    @classmethod
    def for_blank_card(cls, serial: str, *, cin: bytes | None = None) -> CardManager:
        """The card manager :func:`applets.runtime.new_blank_card` registers: CPLC from the serial."""
        return cls(cplc=Cplc.from_serial(serial), cin=cin)

    # -- wiring ------------------------------------------------------------------------------------
    def attached(self, card: SimulatedCard) -> None:
        if card.gate is not None and card.gate is not self:
            raise ValueError("this card already has a card manager")
        card.gate = self
        self._card = card

    @property
    def card(self) -> SimulatedCard:
        if self._card is None:
            raise RuntimeError("the card manager is not on a card")
        return self._card

    def install(self) -> None:
        self.store.set("lc", int(CardLifeCycle.OP_READY))
        for ks in self._initial:
            self.store.set(f"ks/{ks.kvn:02X}", ks.to_store())
        self.store.set("kvns", [ks.kvn for ks in self._initial])
        if self._iin is not None:
            self.store.set("iin", self._iin)
        if self._cin is not None:
            self.store.set("cin", self._cin)

    # -- state for tools and tests ---------------------------------------------------------------
    @property
    def life_cycle(self) -> int:
        """The card life cycle state (a :class:`CardLifeCycle` value)."""
        return int(self.store.get("lc", CardLifeCycle.OP_READY))

    def key_sets(self) -> tuple[KeySet, ...]:
        """The key sets in their order (repr shows KCVs only)."""
        order = self.store.get("kvns") or ()
        return tuple(KeySet.from_store(kvn, self.store.get(f"ks/{kvn:02X}")) for kvn in order)

    def key_set(self, kvn: int) -> KeySet | None:
        raw = self.store.get(f"ks/{kvn:02X}")
        return KeySet.from_store(kvn, raw) if raw is not None else None

    def sequence_counter(self, kvn: int) -> int:
        return int(self.store.get(f"seq/{kvn:02X}", 0))

    def stored_entry(self, aid: bytes) -> RegistryEntry | None:
        raw = self.store.get(f"reg/{aid.hex().upper()}")
        return RegistryEntry.from_store(aid, raw) if raw is not None else None

    def entry(self, applet: Applet) -> RegistryEntry:
        """The registry entry of an application on the card (an implicit one if it has none)."""
        stored = self.stored_entry(applet.aid)
        if stored is not None:
            return stored
        personalized = getattr(applet, "personalized", False) is True
        return RegistryEntry(applet.aid, AppLifeCycle.PERSONALIZED if personalized else AppLifeCycle.SELECTABLE)

    def registry(self) -> tuple[RegistryEntry, ...]:
        """Every application on the card but this one, in card order."""
        return tuple(self.entry(a) for a in self.card.applets if a is not self)

    def save_entry(self, entry: RegistryEntry) -> None:
        """Write a registry entry; call inside a transaction."""
        self.store.set(f"reg/{entry.aid.hex().upper()}", entry.to_store())

    # -- the gate (applets.runtime.CardGate) ----------------------------------------------------
    def _fresh_facts(self) -> None:
        store = self.store.store
        if store.generation != self._facts_generation or store.in_transaction:
            self._facts_lc = self.life_cycle
            self._facts = {}
            self._facts_generation = -1 if store.in_transaction else store.generation

    def _fact(self, aid: bytes) -> RegistryEntry | None:
        try:
            return self._facts[aid]
        except KeyError:
            entry = self._facts[aid] = self.stored_entry(aid)
            return entry

    def admit_command(self, current: Applet | None, cmd: CommandAPDU) -> int | None:
        self._fresh_facts()
        lc = self._facts_lc
        if lc == _TERMINATED:
            return SW.FUNCTION_NOT_SUPPORTED  # GP 2.3 §5.1.1.5: a terminated card answers nothing
        if current is None or current is self:
            return None
        if not cmd.cla & 0x80 and (cmd.ins == 0x70 or (cmd.ins == 0xA4 and cmd.p1 == 0x04)):
            return None  # leaving the application: the selection itself is gated by admit_select
        if lc == _CARD_LOCKED:
            return SW.FUNCTION_NOT_SUPPORTED
        entry = self._fact(current.aid)
        if entry is not None and entry.locked:
            return SW.CONDITIONS_NOT_SATISFIED  # locked while it was selected on another channel
        return None

    def admit_select(self, target: Applet) -> int | None:
        self._fresh_facts()
        lc = self._facts_lc
        if lc == _TERMINATED:
            return SW.FUNCTION_NOT_SUPPORTED
        if target is self:
            return None
        if lc == _CARD_LOCKED:
            return SW.FUNCTION_NOT_SUPPORTED  # GP 2.3 §11.9.3 SELECT: '6A81' card is locked
        entry = self._fact(target.aid)
        if entry is None:
            return None
        if entry.locked:
            return APPLET_SELECT_FAILED
        if entry.by_card_manager and entry.life_cycle != AppLifeCycle.PERSONALIZED:
            return SW.CONDITIONS_NOT_SATISFIED  # installed, waiting for its STORE DATA
        return None

    # -- life on a channel -------------------------------------------------------------------------
    def new_session(self) -> Session:
        return Session()

    def deselect(self) -> None:
        pass  # the session (and its secure channel) is dropped with the selection

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """``6F { 84 AID, A5 { 73 security domain management data, 9F65 FF } }`` (GP 2.3 §11.9.3.1)."""
        recognition = card_recognition_data(((3, SCP03_I), (2, SCP02_I)))[2:]  # the 73 template of 66
        return status(SW.OK, fci(self.aid, recognition + build(0x9F65, b"\xff")))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        session = ctx.session
        if not isinstance(session, Session):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if not ctx.proprietary and not (cmd.ins == INS_GET_DATA and cmd.cla & 0xFC == 0x00):
            return status(SW.CLA_NOT_SUPPORTED)
        if ctx.secure_messaging > 1:
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)  # GP uses CLA 84 only
        try:
            if cmd.ins == INS_INITIALIZE_UPDATE:
                return self._initialize_update(cmd, ctx, session)
            if cmd.ins == INS_EXTERNAL_AUTHENTICATE:
                return self._external_authenticate(cmd, session)
            session.handshake = None  # anything else between the two ends the handshake
            return self._secured(cmd, ctx, session)
        except Refusal as refusal:
            log.debug("card manager refused %02X: %s", cmd.ins, refusal)
            return status(refusal.sw)

    def _secured(self, cmd: CommandAPDU, ctx: CommandContext, session: Session) -> ResponseAPDU:
        entry = _COMMANDS.get(cmd.ins)
        channel = session.channel
        if channel is not None:
            try:
                cmd = channel.unwrap(cmd)
            except ChannelError as exc:
                log.info("card manager: secure channel closed (%s)", exc)
                session.close()
                return status(exc.sw)
        elif ctx.secure_messaging:
            return status(SW.SECURITY_STATUS_NOT_SATISFIED)  # no secure channel is open
        if entry is None:
            return status(SW.INS_NOT_SUPPORTED)
        handler, needs = entry
        if needs is not None and (channel is None or needs & ~channel.level):
            return status(SW.SECURITY_STATUS_NOT_SATISFIED)
        try:
            resp = handler(self, cmd, session)
        except Refusal as refusal:
            log.debug("card manager refused %02X: %s", cmd.ins, refusal)
            resp = status(refusal.sw)
        return session.channel.wrap(resp) if session.channel is not None else resp

    # -- INITIALIZE UPDATE / EXTERNAL AUTHENTICATE ---------------------------------------------------
    def first_key_set(self) -> KeySet | None:
        return next((ks for ks in self.key_sets() if ks.complete), None)

    def _initialize_update(self, cmd: CommandAPDU, ctx: CommandContext, session: Session) -> ResponseAPDU:
        """``80 50 KVN 00 08 host-challenge`` (Amendment D §7.1.1, GP 2.3 Annex E.5.1); KVN 00: the first set.

        The key set's type picks the protocol. SCP03 increments the sequence counter here, SCP02
        when EXTERNAL AUTHENTICATE succeeds (it counts opened sessions).
        """
        session.close()  # a new handshake ends whatever session this selection had
        if ctx.secure_messaging:
            return status(SW.CLA_NOT_SUPPORTED)
        if cmd.p2:
            return status(SW.INCORRECT_P1P2)
        if len(cmd.data) != 8:
            return status(SW.WRONG_LENGTH)
        ks = self.first_key_set() if cmd.p1 == 0 else self.key_set(cmd.p1)
        if ks is None or not ks.complete:
            return status(SW.REFERENCED_DATA_NOT_FOUND)
        div = self.cplc.diversification_data
        counter = self.sequence_counter(ks.kvn)
        handshake: Handshake
        if ks.scp == 3:
            if counter >= _SCP03_COUNTER_MAX:
                return status(SW.CONDITIONS_NOT_SATISFIED)  # Amendment D: the key set is used up
            counter += 1  # §6.2.2.1: incremented before the challenge is derived from it
            with self.store.transaction():
                self.store.set(f"seq/{ks.kvn:02X}", counter)
            answer, handshake = scp03_initialize(ks, cmd.data, counter, self.aid, div)
        else:
            if counter > _SCP02_COUNTER_MAX:
                return status(SW.CONDITIONS_NOT_SATISFIED)
            card_challenge = bytes(self.random(6))
            answer, handshake = scp02_initialize(ks, cmd.data, counter, card_challenge, div)
        session.handshake = handshake
        return status(SW.OK, answer)

    def _external_authenticate(self, cmd: CommandAPDU, session: Session) -> ResponseAPDU:
        handshake, session.handshake = session.handshake, None
        session.close()
        if handshake is None:
            return status(SW.CONDITIONS_NOT_SATISFIED)  # no INITIALIZE UPDATE before it
        channel = handshake.authenticate(cmd)  # Refusal: 6300 wrong cryptogram, 6982 wrong MAC
        if channel.scp == 2:  # SCP02 counts opened sessions
            with self.store.transaction():
                self.store.set(f"seq/{channel.kvn:02X}", self.sequence_counter(channel.kvn) + 1)
        session.channel = channel
        log.info("card manager: SCP0%d session open, KVN %02X, level %02X", channel.scp, channel.kvn, channel.level)
        return status(SW.OK)

    # -- GET DATA ----------------------------------------------------------------------------------
    def get_data(self, cmd: CommandAPDU, session: Session) -> ResponseAPDU:
        """GET DATA (GP 2.3 §11.3): CPLC, card data, key information, IIN, CIN, diversification data."""
        if cmd.data:
            return status(SW.WRONG_LENGTH)
        tag = cmd.p1 << 8 | cmd.p2
        if tag == 0x9F7F:
            return status(SW.OK, build(0x9F7F, self.cplc.to_bytes()))
        if tag == 0x0066:
            return status(SW.OK, card_recognition_data(((3, SCP03_I), (2, SCP02_I))))
        if tag == 0x00E0:
            return status(SW.OK, key_information(list(self.key_sets())))
        if tag == 0x00CF:
            return status(SW.OK, build(0xCF, self.cplc.diversification_data))
        if tag in (0x0042, 0x0045):
            value = self.store.get("iin" if tag == 0x0042 else "cin")
            if value is not None:
                return status(SW.OK, build(tag & 0xFF, value))
        return status(SW.REFERENCED_DATA_NOT_FOUND)

    # -- PUT KEY -----------------------------------------------------------------------------------
    def put_key(self, cmd: CommandAPDU, session: Session) -> ResponseAPDU:
        """PUT KEY (GP 2.3 §11.8): add a key set (P1 00) or replace keys of set P1; answer KVN || KCVs."""
        channel = session.channel
        if channel is None:  # the command table asks for C-MAC, so this is only a second guard
            return status(SW.SECURITY_STATUS_NOT_SATISFIED)
        first, multiple = cmd.p2 & 0x7F, bool(cmd.p2 & 0x80)
        if not 1 <= first <= 3 or cmd.p1 > 0x7F:
            return status(SW.INCORRECT_P1P2)
        kvn, keys = parse_put_key(cmd.data, first, multiple, channel.decrypt_key, channel.dek_block)
        if not 0x01 <= kvn <= 0x7F:
            raise Refusal(SW.WRONG_DATA, "new key version number out of range")
        key_type = keys[0].key_type
        values = {k.key_id: k.value for k in keys}
        order = list(self.store.get("kvns") or ())
        if cmd.p1 == 0:
            if kvn in order:
                raise Refusal(SW.WRONG_DATA, f"key version {kvn:02X} already exists")
            if len(keys) != 3:
                raise Refusal(SW.WRONG_DATA, "a new key set needs ENC, MAC and DEK")
            if len(order) >= _MAX_KEY_SETS:
                raise Refusal(SW.NOT_ENOUGH_MEMORY, "no room for another key set")
            new = KeySet(kvn, key_type, values[1], values[2], values[3])
            order.append(kvn)
        else:
            old = self.key_set(cmd.p1)
            if old is None:
                raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, f"no key version {cmd.p1:02X}")
            if kvn != cmd.p1 and kvn in order:
                raise Refusal(SW.WRONG_DATA, f"key version {kvn:02X} already exists")
            if len(keys) == 3:
                new = KeySet(kvn, key_type, values[1], values[2], values[3])
            elif key_type == old.key_type:
                new = old.with_keys(kvn, values)
            else:
                raise Refusal(SW.WRONG_DATA, "the keys of one set must be of one type")
            order[order.index(cmd.p1)] = kvn
        with self.store.transaction():
            if cmd.p1 and kvn != cmd.p1:
                self.store.delete(f"ks/{cmd.p1:02X}")
                counter = self.store.get(f"seq/{cmd.p1:02X}")
                if counter is not None:  # the counter never goes back, even under a new number
                    self.store.delete(f"seq/{cmd.p1:02X}")
                    self.store.set(f"seq/{kvn:02X}", counter)
            self.store.set(f"ks/{kvn:02X}", new.to_store())
            self.store.set("kvns", order)
        log.info("card manager: key set %02X written (%s)", kvn, "added" if cmd.p1 == 0 else f"replaced {cmd.p1:02X}")
        return status(SW.OK, bytes((kvn,)) + b"".join(k.kcv for k in keys))

    # -- card image ----------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "cplc": self.cplc.to_bytes().hex().upper()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CardManager:
        cplc = config.get("cplc")
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"),
                   cplc=Cplc.parse(bytes.fromhex(cplc)) if cplc else None, key_sets=())


def _get_data(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    return cm.get_data(cmd, s)


def _put_key(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    return cm.put_key(cmd, s)


#: INS -> (handler, security level it needs: None = no session, 00 = any authenticated session)
_COMMANDS: dict[int, tuple[Handler, int | None]] = {
    INS_GET_DATA: (_get_data, None),
    INS_PUT_KEY: (_put_key, SL_C_MAC),
    _content.INS_GET_STATUS: (_content.get_status, _ANY_SESSION),
    _content.INS_SET_STATUS: (_content.set_status, _ANY_SESSION),
    _content.INS_INSTALL: (_content.install, _ANY_SESSION),
    _content.INS_DELETE: (_content.delete, _ANY_SESSION),
    _content.INS_STORE_DATA: (_content.store_data, SL_C_MAC),
}
