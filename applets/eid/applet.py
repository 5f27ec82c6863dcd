"""The ID application (ICAO 9303 eMRTD LDS1, docs/eid-card.md): SELECT, BAC, secure messaging, files, AA.

:class:`EidApplet` is the runtime glue. Its six files live in a :class:`FileSystem` rooted at the
ADF, each readable only with ``KEY(1)`` — the right a successful MUTUAL AUTHENTICATE adds to the
channel's session — so SELECT and READ BINARY are the runtime's own file commands, run on the
command that secure messaging unwrapped. The command table, before and after BAC:

=========================  ===============================  ====================================
command                    before BAC (plain)               after BAC (CLA 0C, SM)
=========================  ===============================  ====================================
GET CHALLENGE 84           RND.IC                           6985
MUTUAL AUTHENTICATE 82     E_IC || M_IC, 6300 if wrong      6985
SELECT A4 (by FID)         9000 (nothing is readable)       9000
READ BINARY B0             6982                             the data
INTERNAL AUTHENTICATE 88   6982                             ECDSA P-256 signature r || s
anything plain             as above                         6988, the session is dropped
a wrong MAC / broken SM    6988                             6988, the session is dropped
=========================  ===============================  ====================================
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from applets.eid.access import EidSession, get_challenge, internal_authenticate, mutual_authenticate, protect, unprotect
from applets.eid.layout import ADF_FID, BAC_KEY_REF, EID_AID, Ins
from applets.eid.profile import Profile, aa_private_key, parse_dgis
from applets.runtime import KEY, NEVER, CommandContext, FileSystemApplet, Structure, fci, register_applet, status
from applets.runtime.fscmd import process_file_command
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.icao import BacKeys

__all__ = ["EidApplet"]

log = logging.getLogger(__name__)

_SM_WITH_HEADER = 3  # CLA b4-b3 = 11: ISO secure messaging, header authenticated (CLA 0C)
_FILE_INS = (Ins.SELECT, Ins.READ_BINARY)
_BAC_KEYS = "bac/keys"
_AA_KEY = "aa/key"
_SERIAL = "perso-serial"


@register_applet("eid")
class EidApplet(FileSystemApplet):
    """The card's ID application. Register it, then :meth:`personalize` it with the DGIs of
    docs/eid-card.md (:func:`applets.eid.install_eid` does both).

    ``random`` is the card's random source: 8 bytes for RND.IC (GET CHALLENGE), 16 for K.IC
    (MUTUAL AUTHENTICATE). Tests pass a fixed one; ``secrets.token_bytes`` otherwise.
    """

    handles_file_select = True  # SELECT EF by FID is ours, not the MF's

    def __init__(self, aid: bytes = EID_AID, *, label: str | None = None,
                 random: Callable[[int], bytes] | None = None) -> None:
        super().__init__(aid, label=label if label is not None else "ID", root_fid=ADF_FID)
        self.random: Callable[[int], bytes] = random or secrets.token_bytes
        self._aa: tuple[int, ec.EllipticCurvePrivateKey] | None = None

    def __repr__(self) -> str:
        return f"EidApplet(aid={self.aid.hex().upper()}, label={self.label!r})"

    # -- personalization -------------------------------------------------------------------------
    def personalize(self, dgis: Mapping[int, bytes]) -> Profile:
        """Validate the DGIs, then in one store transaction rebuild the files and keys from them.

        Raises:
            ProfileError: naming the DGI that is missing or wrong (never quoting a key).
        """
        profile = parse_dgis(dgis)
        serial = int(self.store.get(_SERIAL) or 0) + 1
        with self.store.transaction():
            for key in self.store.keys():
                self.store.delete(key)
            self.fs.format(name=self.aid)
            for f, content in profile.files:
                self.fs.create_ef(self.fs.root, f.fid, Structure.TRANSPARENT, data=content, sfi=f.sfi,
                                  read=KEY(BAC_KEY_REF), update=NEVER)
            self.store.set(_BAC_KEYS, profile.bac_keys.k_enc + profile.bac_keys.k_mac)
            self.store.set(_AA_KEY, profile.aa_key)
            self.store.set(_SERIAL, serial)
        self._aa = None
        return profile

    @property
    def personalized(self) -> bool:
        return self.store.get(_SERIAL) is not None

    def _bac_keys(self) -> BacKeys | None:
        raw = self.store.get(_BAC_KEYS)
        return BacKeys(raw[:16], raw[16:]) if isinstance(raw, bytes) and len(raw) == 32 else None

    def _aa_key(self) -> ec.EllipticCurvePrivateKey:
        serial = int(self.store.get(_SERIAL) or 0)
        if self._aa is None or self._aa[0] != serial:
            self._aa = (serial, aa_private_key(self.store.get(_AA_KEY)))
        return self._aa[1]

    # -- life on a channel -----------------------------------------------------------------------
    def new_session(self) -> EidSession:
        return EidSession(current_df=self.fs.root)

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """9000 + ``6F { 84 AID }``, personalized or not; the session starts without BAC."""
        return status(SW.OK, fci(self.aid))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        session = ctx.session
        keys = self._bac_keys()
        if not isinstance(session, EidSession) or keys is None:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if session.channel is not None:  # after BAC: secure messaging or nothing
            if ctx.secure_messaging != _SM_WITH_HEADER:
                session.drop()
                return status(SW.SM_DATA_OBJECTS_INCORRECT)
            inner = unprotect(session, cmd)
            if inner is None:
                return status(SW.SM_DATA_OBJECTS_INCORRECT)
            return protect(session, self._secured(inner, session))
        if ctx.secure_messaging:  # SM without session keys
            return status(SW.SM_DATA_OBJECTS_INCORRECT)
        if ctx.proprietary:
            return status(SW.CLA_NOT_SUPPORTED)
        match cmd.ins:
            case Ins.GET_CHALLENGE:
                return get_challenge(session, cmd, self.random)
            case Ins.MUTUAL_AUTHENTICATE:
                return mutual_authenticate(session, cmd, keys, self.random)
            case Ins.INTERNAL_AUTHENTICATE:
                return status(SW.SECURITY_STATUS_NOT_SATISFIED)
        return self._file_command(cmd, session)

    def _secured(self, cmd: CommandAPDU, session: EidSession) -> ResponseAPDU:
        """One command that secure messaging verified and opened."""
        if cmd.cla & 0x80:
            return status(SW.CLA_NOT_SUPPORTED)
        match cmd.ins:
            case Ins.INTERNAL_AUTHENTICATE:
                return internal_authenticate(cmd, self._aa_key())
            case Ins.GET_CHALLENGE | Ins.MUTUAL_AUTHENTICATE:
                return status(SW.CONDITIONS_NOT_SATISFIED)  # BAC is done; SELECT the application to redo it
        return self._file_command(cmd, session)

    def _file_command(self, cmd: CommandAPDU, session: EidSession) -> ResponseAPDU:
        if cmd.ins not in _FILE_INS:
            return status(SW.INS_NOT_SUPPORTED)
        answer = process_file_command(self.fs, cmd, session)
        return answer if answer is not None else status(SW.INS_NOT_SUPPORTED)

    # -- card image ------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {"aid": self.aid.hex().upper(), "label": self.label}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EidApplet:
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"))
