"""The social insurance application (docs/social.md): SELECT, files, PIN, terminal auth, payment.

:class:`SocialApplet` is the runtime glue: its records live in a :class:`FileSystem` rooted at the
ADF (READ RECORD by SFI, VERIFY and CHANGE REFERENCE DATA are the runtime's own), the terminal
authentication opens ``KEY(1)`` records, and the CLA 80 medical-account commands go through one
table. Every command first takes the challenge and the pending payment out of the session, so
only the command right after GET CHALLENGE / INITIALIZE can use them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from applets.runtime import (
    ALWAYS,
    KEY,
    NEVER,
    CommandContext,
    FileSystemApplet,
    Structure,
    fci,
    register_applet,
    status,
)
from applets.runtime.fscmd import process_file_command
from applets.social.account import Account, AccountState, Env, PendingPayment, Session
from applets.social.auth import external_authenticate, get_challenge, unblock_pin
from applets.social.layout import (
    ADF_FID,
    CARD_INFO_SFI,
    HOLDER_SFI,
    INSURANCE_SFI,
    KEY_TERMINAL,
    LOG_RECORDS,
    LOG_SFI,
    MAX_RECORD,
    PIN_REF,
    SOCIAL_AID,
    Ins,
    LogRecord,
)
from applets.social.payment import debit, get_balance, initialize
from applets.social.profile import parse_dgis
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.tlv import build

__all__ = ["SocialApplet"]

_APP_VERSION = b"\x00\x01"
_PIN_TRIES = 3
_PIN_DIGITS = 6
_PUK_TRIES = 15
_READ = {CARD_INFO_SFI: ALWAYS, HOLDER_SFI: KEY(KEY_TERMINAL), INSURANCE_SFI: KEY(KEY_TERMINAL)}

Handler = Callable[[Env, Session, CommandAPDU, PendingPayment | None], ResponseAPDU]
_ACCOUNT_COMMANDS: dict[int, Handler] = {
    Ins.INITIALIZE: initialize,
    Ins.DEBIT: debit,
    Ins.GET_BALANCE: get_balance,
}
_ISO_INS = frozenset({0xA4, 0xB0, 0xB2, 0xD6, 0xDC, 0xE2, 0x20, 0x24, 0x2C, 0x82, 0x84})


@register_applet("social")
class SocialApplet(FileSystemApplet):
    """The card's social insurance application. Register it, then :meth:`personalize` it with the
    DGIs of docs/social.md (:func:`applets.social.install_social` does both).

    ``random`` is the card's random source (challenges, INITIALIZE); tests pass a fixed one.
    """

    multiselectable = False  # one payment at a time
    handles_file_select = False

    def __init__(self, aid: bytes = SOCIAL_AID, *, label: str | None = None,
                 random: Callable[[int], bytes] | None = None) -> None:
        super().__init__(aid, label=label if label is not None else "SOCIAL", root_fid=ADF_FID)
        self.random: Callable[[int], bytes] = random or secrets.token_bytes

    def __repr__(self) -> str:
        return f"SocialApplet(aid={self.aid.hex().upper()}, label={self.label!r})"

    # -- personalization -------------------------------------------------------------------------
    def personalize(self, dgis: Mapping[int, bytes]) -> None:
        """Validate the DGIs, then in one store transaction rebuild files, PIN, keys and account.

        Raises:
            ProfileError: naming the DGI that is missing or wrong (never quoting a key or the PIN).
        """
        profile = parse_dgis(dgis)
        puk = secrets.token_bytes(16)  # card-internal: only the MACed unblock presents it
        with self.store.transaction():
            for key in self.store.keys():
                self.store.delete(key)
            fs = self.fs
            fs.format(name=self.aid)
            for sfi, records in profile.records.items():
                fs.create_ef(fs.root, sfi, Structure.LINEAR_VARIABLE, record_size=MAX_RECORD,
                             max_records=len(records), sfi=sfi, read=_READ[sfi], update=NEVER, records=records)
            fs.create_ef(fs.root, LOG_SFI, Structure.CYCLIC, record_size=LogRecord.LENGTH, max_records=LOG_RECORDS,
                         sfi=LOG_SFI, read=KEY(KEY_TERMINAL), update=NEVER)
            fs.pins.create(PIN_REF, profile.pin, tries=_PIN_TRIES, puk=puk, puk_tries=_PUK_TRIES,
                           min_len=_PIN_DIGITS, max_len=_PIN_DIGITS)
            keys = {"DAK": profile.dak, "DPK": profile.dpk, "DTK": profile.dtk, "DUK": profile.duk, "PUK": puk}
            self._account().reset(AccountState(profile.balance, profile.counter), profile.key_version, keys)
            self.store.set("personalized", True)

    def _account(self) -> Account:
        return Account(self.store, self.fs, self.fs.root + (LOG_SFI,))

    # -- for tools and tests ---------------------------------------------------------------------
    def state(self) -> AccountState:
        """The committed medical account."""
        return self._account().load()

    def log_records(self) -> tuple[LogRecord, ...]:
        """The medical account's log, newest first."""
        return tuple(LogRecord.parse(r) for r in self._account().log())

    def pin_tries_left(self) -> int:
        return self.fs.pins.tries_left(PIN_REF)

    # -- life on a channel -----------------------------------------------------------------------
    def new_session(self) -> Session:
        return Session(current_df=self.fs.root)

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """9000 + ``6F { 84 AID, A5 { 50 label, 9F08 0001 } }``, personalized or not."""
        proprietary = build(0x50, self.label.encode("ascii", "replace")) + build(0x9F08, _APP_VERSION)
        return status(SW.OK, fci(self.aid, proprietary))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        session = ctx.session
        if not isinstance(session, Session):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        pending, session.pending = session.pending, None
        challenge, session.challenge = session.challenge, None
        if not self.store.get("personalized"):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        env = Env(self._account(), self.fs, self.random)
        if ctx.secure_messaging:
            if ctx.proprietary and cmd.ins == Ins.RESET_RETRY_COUNTER:
                return unblock_pin(env, session, cmd, challenge)
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        if ctx.proprietary:
            handler = _ACCOUNT_COMMANDS.get(cmd.ins)
            if handler is None:
                return status(SW.CLA_NOT_SUPPORTED if cmd.ins in _ISO_INS else SW.INS_NOT_SUPPORTED)
            return handler(env, session, cmd, pending)
        if cmd.ins == Ins.GET_CHALLENGE:
            return get_challenge(env, session, cmd)
        if cmd.ins == Ins.EXTERNAL_AUTHENTICATE:
            return external_authenticate(env, session, cmd, challenge)
        if cmd.ins == Ins.RESET_RETRY_COUNTER:  # only the issuer's MACed form (CLA 84) unblocks
            return status(SW.SECURITY_STATUS_NOT_SATISFIED)
        answer = process_file_command(self.fs, cmd, session)
        if answer is not None:
            return answer
        return status(SW.CLA_NOT_SUPPORTED if cmd.ins in _ACCOUNT_COMMANDS else SW.INS_NOT_SUPPORTED)

    # -- card image ------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {"aid": self.aid.hex().upper(), "label": self.label}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SocialApplet:
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"))
