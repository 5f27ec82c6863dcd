"""The transit electronic-purse application (docs/transit-card.md): SELECT, files, purse commands.

:class:`TransitApplet` is the runtime glue: its files live in a :class:`FileSystem` rooted at the
ADF (so READ BINARY / READ RECORD by SFI are the runtime's own), and the CLA 80 purse commands
go through one table to the handlers beside it. Every command first takes the pending purse
transaction out of the session: only the handler that legitimately continues it puts one back,
so any other command in between abandons it without writing anything.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from applets.runtime import ALWAYS, NEVER, CommandContext, FileSystemApplet, Structure, fci, register_applet, status
from applets.runtime.fscmd import process_file_command
from applets.transit.env import Env
from applets.transit.inquiry import get_balance, get_transaction_prove
from applets.transit.layout import (
    CAPP_CACHE_SFI,
    HOLDER_INFO_SFI,
    ISSUER_INFO_SFI,
    LOG_RECORDS,
    LOG_SFI,
    InitKind,
    Ins,
    LogRecord,
)
from applets.transit.load import credit_for_load, initialize_for_load
from applets.transit.profile import MAX_CAPP_RECORD, Profile, parse_dgis
from applets.transit.purchase import debit_for_purchase, initialize_for_purchase, update_capp_data_cache
from applets.transit.state import PendingLoad, PendingPurchase, Purse, PurseState, Session
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ProfileError
from cardkit.tlv import build

__all__ = ["ADF_FID", "TRANSIT_AID", "TransitApplet"]

log = logging.getLogger(__name__)

TRANSIT_AID = bytes.fromhex("A000000632010105")  # T-Union (JT/T 978), REFERENCE.md "Identifiers"
ADF_FID = 0x1001  # the purse ADF's file identifier (the root of its files)
_APP_VERSION = b"\x00\x01"  # 9F08 in the FCI
_TAG_LABEL = 0x50
_TAG_APP_VERSION = 0x9F08

Handler = Callable[[Env, Session, CommandAPDU, PendingLoad | PendingPurchase | None], ResponseAPDU]


def _initialize(env: Env, session: Session, cmd: CommandAPDU,
                pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """INITIALIZE FOR LOAD / PURCHASE / CAPP PURCHASE share INS 50; P1 says which."""
    if cmd.p1 == InitKind.LOAD:
        return initialize_for_load(env, session, cmd, pending)
    if cmd.p1 in (InitKind.PURCHASE, InitKind.CAPP_PURCHASE):
        return initialize_for_purchase(env, session, cmd, pending)
    return status(SW.INCORRECT_P1P2)


_COMMANDS: dict[int, Handler] = {
    Ins.INITIALIZE: _initialize,
    Ins.CREDIT_FOR_LOAD: credit_for_load,
    Ins.DEBIT_FOR_PURCHASE: debit_for_purchase,
    Ins.UPDATE_CAPP_DATA_CACHE: update_capp_data_cache,
    Ins.GET_BALANCE: get_balance,
    Ins.GET_TRANSACTION_PROVE: get_transaction_prove,
}
_FILE_ONLY_INS = frozenset({0xA4, 0xB0, 0xB2, 0xD6, 0xE2, 0x20, 0x24, 0x2C})  # interindustry only


@register_applet("transit")
class TransitApplet(FileSystemApplet):
    """The card's electronic purse. Register it, then :meth:`personalize` it with the DGIs of
    docs/transit-card.md (:func:`applets.transit.install_transit` does both).

    ``random`` is the card's random source for INITIALIZE (4 bytes a call); tests pass a fixed one.
    """

    multiselectable = False  # one purse transaction at a time
    handles_file_select = False

    def __init__(self, aid: bytes = TRANSIT_AID, *, label: str | None = None,
                 random: Callable[[int], bytes] | None = None) -> None:
        super().__init__(aid, label=label if label is not None else "TRANSIT", root_fid=ADF_FID)
        self.random: Callable[[int], bytes] = random or secrets.token_bytes
        self._cache: tuple[int, Profile | None] | None = None

    def __repr__(self) -> str:
        return f"TransitApplet(aid={self.aid.hex().upper()}, label={self.label!r})"

    # -- personalization -------------------------------------------------------------------------
    def personalize(self, dgis: Mapping[int, bytes]) -> None:
        """Validate the DGIs, then in one store transaction rebuild files and purse state from them.

        Raises:
            ProfileError: naming the DGI that is missing or wrong (never quoting a key).
        """
        profile = parse_dgis(dgis)
        serial = int(self.store.get("perso-serial") or 0) + 1
        with self.store.transaction():
            for key in self.store.keys():
                self.store.delete(key)
            self._create_files(profile)
            for dgi, value in sorted(dgis.items()):
                self.store.set(f"dgi/{dgi:04X}", bytes(value))
            p = profile.purse
            self._purse().reset(PurseState(p.balance, p.online_counter, p.offline_counter))
            self.store.set("perso-serial", serial)
        self._cache = (serial, profile)

    def _create_files(self, profile: Profile) -> None:
        fs = self.fs
        fs.format(name=self.aid)
        root = fs.root
        fs.create_ef(root, ISSUER_INFO_SFI, Structure.TRANSPARENT, data=profile.issuer_info, sfi=ISSUER_INFO_SFI,
                     read=ALWAYS, update=NEVER)
        fs.create_ef(root, HOLDER_INFO_SFI, Structure.TRANSPARENT, data=profile.holder_info, sfi=HOLDER_INFO_SFI,
                     read=ALWAYS, update=NEVER)
        fs.create_ef(root, CAPP_CACHE_SFI, Structure.LINEAR_VARIABLE, record_size=MAX_CAPP_RECORD,
                     max_records=len(profile.capp_records), sfi=CAPP_CACHE_SFI, read=ALWAYS, update=NEVER,
                     records=profile.capp_records)
        fs.create_ef(root, LOG_SFI, Structure.CYCLIC, record_size=LogRecord.LENGTH, max_records=LOG_RECORDS,
                     sfi=LOG_SFI, read=ALWAYS, update=NEVER)

    def _purse(self) -> Purse:
        root = self.fs.root
        return Purse(self.store, self.fs, root + (CAPP_CACHE_SFI,), root + (LOG_SFI,))

    def profile(self) -> Profile | None:
        """The validated personalization, parsed once per personalization (``None`` if none)."""
        serial = self.store.get("perso-serial")
        if serial is None:
            return None
        if self._cache is None or self._cache[0] != serial:
            self._cache = (int(serial), self._parse_stored())
        return self._cache[1]

    def _parse_stored(self) -> Profile | None:
        try:
            return parse_dgis({int(k.removeprefix("dgi/"), 16): self.store.get(k) for k in self.store.keys("dgi/")})
        except ProfileError as exc:  # the image checksum passed, so only a changed parser gets here
            log.error("transit application %s: stored personalization invalid: %s", self.aid.hex().upper(), exc)
            return None

    # -- for tools and tests ---------------------------------------------------------------------
    def state(self) -> PurseState:
        """The committed purse state."""
        return self._purse().load()

    def log_records(self) -> tuple[LogRecord, ...]:
        """The transaction log, newest first."""
        return tuple(LogRecord.parse(r) for r in self._purse().log())

    def capp_records(self) -> tuple[bytes, ...]:
        """The CAPP data cache records, record 1 first."""
        return self._purse().capp_records()

    # -- life on a channel -----------------------------------------------------------------------
    def new_session(self) -> Session:
        return Session(current_df=self.fs.root)

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """9000 + ``6F { 84 AID, A5 { 50 label, 9F08 0001 } }``, personalized or not."""
        proprietary = build(_TAG_LABEL, self.label.encode("ascii", "replace")) + build(_TAG_APP_VERSION, _APP_VERSION)
        return status(SW.OK, fci(self.aid, proprietary))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        session = ctx.session
        if not isinstance(session, Session):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        pending, session.pending = session.pending, None
        handler = _COMMANDS.get(cmd.ins)
        if ctx.secure_messaging:
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        if not ctx.proprietary:
            answer = process_file_command(self.fs, cmd, session)
            if answer is not None:
                return answer
            return status(SW.CLA_NOT_SUPPORTED if handler is not None else SW.INS_NOT_SUPPORTED)
        if handler is None:
            return status(SW.CLA_NOT_SUPPORTED if cmd.ins in _FILE_ONLY_INS else SW.INS_NOT_SUPPORTED)
        profile = self.profile()
        if profile is None:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        return handler(Env(profile, self._purse(), self.random), session, cmd, pending)

    # -- card image ------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {"aid": self.aid.hex().upper(), "label": self.label}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TransitApplet:
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"))
