"""The ID application's reader: BAC, reading the data groups, passive and active authentication.

The walk (9303-11 §4.3, §5.1, §6.1; 9303-10 §3.6)::

    SELECT A0000002471001 → GET CHALLENGE → MUTUAL AUTHENTICATE (BAC keys from the MRZ)
    → under 3DES SM: SELECT / READ BINARY EF.COM, DG1, DG2, DG11, DG15, EF.SOD
    → INTERNAL AUTHENTICATE (DG15 key) → hashes and the SOD signature (→ CSCA)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from cryptography import x509

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import icao
from cardkit.eid import commands as cmd
from cardkit.eid._sm import BacSession
from cardkit.eid.active import verify_active_authentication
from cardkit.eid.errors import AccessDenied, EidError, SecureMessagingError
from cardkit.eid.lds import (
    EID_AID,
    DataGroup,
    File,
    Identity,
    jpeg_from_dg2,
    mask_citizen_id,
    parse_com,
    parse_dg1,
    parse_dg11,
    parse_dg15,
)
from cardkit.eid.sod import PassiveResult, parse_sod
from cardkit.eid.sod import passive_authentication as _passive
from cardkit.errors import CardError, CardkitError, CryptoError
from cardkit.readers.channel import CardChannel

__all__ = ["ActiveResult", "EidReader", "Verdict", "read_id"]

log = logging.getLogger(__name__)

#: READ BINARY chunk under 3DES SM: 223 data bytes keep DO 87 + DO 99 + DO 8E within 256.
CHUNK = 0xDF
_HEADER = 8  # bytes enough for any data group's tag and length
_FILE_NAMES = {int(f): ("EF." + f.name if f.name in ("COM", "SOD") else f.name) for f in File}


@dataclass(frozen=True, slots=True)
class ActiveResult:
    """Active authentication (9303-11 §6.1): ``ok`` is ``None`` when the chip has no DG15."""

    ok: bool | None
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether to believe the card.

    ``passive_ok``: the data read is what the SOD's document signer signed (``altered`` names the
    DGs that are not); ``chain_ok``: that signer was issued by a trusted CSCA (``None``: no trust
    anchor given — then anyone could have made the SOD); ``active_ok``: the chip holds the DG15
    private key (``None``: no DG15), i.e. it is not a copy.
    """

    passive_ok: bool
    passive_reason: str
    chain_ok: bool | None
    active_ok: bool | None
    active_reason: str
    chain_reason: str = ""
    altered: tuple[int, ...] = ()

    @property
    def genuine(self) -> bool:
        """The chip is genuine: active authentication verified."""
        return self.active_ok is True

    @property
    def unaltered(self) -> bool:
        """The data is unaltered: passive authentication verified."""
        return self.passive_ok

    @property
    def trusted(self) -> bool:
        """The document signer chains to a trusted CSCA."""
        return self.chain_ok is True


def _name(fid: int) -> str:
    return _FILE_NAMES.get(fid, f"EF {fid:04X}")


class EidReader:
    """A terminal's session with the ID application on ``channel``.

    Args:
        channel: the card channel (the reader never installs itself on it: other applications
            on the same card keep talking in plain).
        random: source of RND.IFD, K.IFD and AA challenges (tests pass a fixed one).
    """

    def __init__(self, channel: CardChannel, *, random: Callable[[int], bytes] = os.urandom) -> None:
        self.channel = channel
        self._random = random
        self._session: BacSession | None = None
        self._files: dict[int, bytes] = {}
        self._present: tuple[DataGroup, ...] | None = None

    def __repr__(self) -> str:
        return f"EidReader(open={self.is_open}, files={sorted(_name(f) for f in self._files)})"

    @property
    def is_open(self) -> bool:
        return self._session is not None and self._session.alive

    @property
    def files(self) -> Mapping[int, bytes]:
        """The files read so far, by FID, as the card sent them."""
        return MappingProxyType(self._files)

    # ------------------------------------------------------------------------------ access
    def open(self, document_number: str, birth: str, expiry: str) -> None:
        """SELECT the application and run BAC (9303-11 §4.3) with keys from the MRZ fields.

        Args:
            document_number: as printed (up to 9 characters).
            birth, expiry: YYMMDD.

        Raises:
            AccessDenied: the card refused MUTUAL AUTHENTICATE (6300): wrong MRZ data.
            EidError: no ID application, a malformed field, or the card's answer does not verify.
        """
        self._session, self._files, self._present = None, {}, None
        try:
            keys = icao.derive_bac_keys(icao.mrz_information(document_number.strip(), birth, expiry))
        except CryptoError as exc:
            raise EidError(f"access data: {exc}") from None
        selected = self.channel.transmit(cmd.select_application(EID_AID))
        if selected.sw in (SW.SM_DATA_OBJECTS_MISSING, SW.SM_DATA_OBJECTS_INCORRECT):
            # the chip was still in an old SM session; this plain SELECT ended it (9303-11 §9.8.6)
            selected = self.channel.transmit(cmd.select_application(EID_AID))
        if selected.sw in (SW.FILE_NOT_FOUND, SW.FUNCTION_NOT_SUPPORTED):
            raise EidError(f"this card has no ID application (AID {EID_AID.hex().upper()})")
        CardChannel.check(selected, context="SELECT ID application")
        rnd_ic = self.channel.transmit_ok(cmd.get_challenge()).data
        if len(rnd_ic) != 8:
            raise EidError(f"GET CHALLENGE returned {len(rnd_ic)} bytes instead of 8")
        rnd_ifd, k_ifd = self._random(8), self._random(16)
        answer = self.channel.transmit(cmd.mutual_authenticate(icao.ifd_authenticate(keys, rnd_ic, rnd_ifd, k_ifd)),
                                       sensitive=True)
        if answer.sw in (SW.AUTHENTICATION_FAILED_WARNING, SW.SECURITY_STATUS_NOT_SATISFIED):
            raise AccessDenied()
        CardChannel.check(answer, context="MUTUAL AUTHENTICATE")
        try:
            k_ic = icao.open_ic_response(keys, answer.data, rnd_ifd)
        except CryptoError:
            raise SecureMessagingError("BAC: the card's MUTUAL AUTHENTICATE answer does not verify") from None
        self._session = BacSession(icao.bac_session_keys(k_ifd, k_ic), icao.bac_ssc(rnd_ic, rnd_ifd))
        log.debug("BAC established")

    def _send(self, command: CommandAPDU) -> ResponseAPDU:
        """One command under secure messaging; any transport failure ends the session."""
        session = self._session
        if session is None:
            raise EidError("the ID application is not open: call open() with the MRZ data first")
        protected = session.wrap(command)
        try:
            response = self.channel.transmit(protected)
        except CardkitError:
            session.end()
            raise
        return session.unwrap(response)

    # ----------------------------------------------------------------------------- reading
    def read_file(self, fid: int) -> bytes:
        """SELECT an EF and READ BINARY all of it in chunks (9303-10 §3.6.3, 9303-11 §9.8).

        The length comes from the file's own TLV header; the bytes are kept for passive
        authentication. Returns the file (tag, length and value).

        Raises:
            EidError: the file is not on the card, or is shorter than its header says.
            SecureMessagingError: a response failed secure messaging (the session is over).
        """
        if fid in self._files:
            return self._files[fid]
        name = _name(fid)
        selected = self._send(cmd.select_file(fid))
        if selected.sw == SW.FILE_NOT_FOUND:
            raise EidError(f"{name} is not on this card")
        CardChannel.check(selected, context=f"SELECT {name}")
        data = self._read(0, CHUNK, name)
        total = _tlv_size(data, name)
        while len(data) < total:
            part = self._read(len(data), min(CHUNK, total - len(data)), name)
            if not part:
                raise EidError(f"{name} ends at {len(data)} bytes, its header says {total}")
            data += part
        self._files[fid] = data[:total]
        log.debug("read %s (%d bytes)", name, total)
        return self._files[fid]

    def _read(self, offset: int, le: int, name: str) -> bytes:
        response = self._send(cmd.read_binary(offset, le))
        if response.sw in (SW.WRONG_LENGTH, SW.WRONG_P1P2) and offset == 0 and le > _HEADER:
            response = self._send(cmd.read_binary(0, _HEADER))  # a file shorter than one chunk
        return CardChannel.check(response, SW.OK, SW.END_OF_FILE, context=f"READ BINARY {name}").data

    def present(self) -> tuple[DataGroup, ...]:
        """The data groups EF.COM lists (all this client knows if the card has no EF.COM)."""
        if self._present is None:
            try:
                self._present = parse_com(self.read_file(File.COM))
            except EidError as exc:
                if "not on this card" not in str(exc):
                    raise
                self._present = tuple(DataGroup)
        return self._present

    def read(self, *, photo: bool = True) -> Identity:
        """Read DG1, DG11 and (with ``photo``) DG2 (9303-10 §4.7).

        Raises:
            EidError: DG1 missing or malformed, or a data group that does not parse.
            SecureMessagingError: the session broke.
        """
        present = self.present()
        mrz = parse_dg1(self.read_file(File.DG1))
        details = parse_dg11(self.read_file(File.DG11)) if DataGroup.DG11 in present else None
        image = jpeg_from_dg2(self.read_file(File.DG2)) if photo and DataGroup.DG2 in present else None
        citizen_id = (details.personal_number if details else "") or mrz.optional
        log.info("read the ID of %s (citizen ID %s)", mrz.document_code, mask_citizen_id(citizen_id))
        return Identity(mrz=mrz, citizen_id=citizen_id, full_name=details.full_name if details else "",
                        address=details.address if details else "", photo=image)

    def data_groups(self) -> dict[int, bytes]:
        """The data groups read so far: DG number -> file bytes."""
        out: dict[int, bytes] = {}
        for fid, data in self._files.items():
            dg = DataGroup.of_fid(fid)
            if dg is not None:
                out[dg.number] = data
        return out

    # ----------------------------------------------------------------------- authentication
    def passive_authentication(self, trust: Sequence[x509.Certificate] = (), *,
                               at: datetime | None = None) -> PassiveResult:
        """Check every data group read against EF.SOD, the SOD signature, and the chain to ``trust``.

        Reads DG1 first when nothing has been read. ``at``: the time for certificate validity
        (default now).

        Raises:
            EidError: EF.SOD missing or malformed (a failed check is a result, not an error).
        """
        if not self.data_groups():
            self.read_file(File.DG1)
        sod = parse_sod(self.read_file(File.SOD))
        return _passive(sod, self.data_groups(), trust, at)

    def active_authentication(self, challenge: bytes | None = None) -> ActiveResult:
        """INTERNAL AUTHENTICATE a random (or the given 8-byte) challenge; verify with DG15 (§6.1).

        Raises:
            SecureMessagingError: the session broke (a refusal by the card is a failed result).
        """
        if DataGroup.DG15 not in self.present():
            return ActiveResult(None, "the chip has no DG15: it does not support active authentication")
        try:
            key = parse_dg15(self.read_file(File.DG15))
        except EidError as exc:
            return ActiveResult(False, str(exc))
        challenge = self._random(8) if challenge is None else challenge
        if len(challenge) != 8:
            raise EidError(f"an active authentication challenge has 8 bytes, not {len(challenge)}")
        response = self._send(cmd.internal_authenticate(challenge))
        try:
            CardChannel.check(response, context="INTERNAL AUTHENTICATE")
        except CardError as exc:
            return ActiveResult(False, str(exc))
        return ActiveResult(*verify_active_authentication(key, challenge, response.data))

    def verify(self, trust: Sequence[x509.Certificate] = (), *, at: datetime | None = None) -> Verdict:
        """Active then passive authentication over everything read (DG1 is read if nothing was).

        DG15 is read for active authentication, so passive authentication covers it: a DG15
        that does not match EF.SOD makes active authentication fail too (its key is not the issuer's).
        """
        if not self.data_groups():
            self.read_file(File.DG1)
        active = self.active_authentication()
        passive = self.passive_authentication(trust, at=at)
        active_ok, active_reason = active.ok, active.reason
        if 15 in passive.altered:
            active_ok, active_reason = False, "DG15 does not match EF.SOD: the chip's key is not the issuer's"
        return Verdict(passive.ok, passive.reason, passive.chain_ok, active_ok, active_reason,
                       passive.chain_reason, passive.altered)


def _tlv_size(head: bytes, name: str) -> int:
    """Tag + length + value size from the first bytes of a file (ISO/IEC 7816-4 §5.2)."""
    if len(head) < 2:
        raise EidError(f"{name} is too short to hold a data object")
    pos = 2 if head[0] & 0x1F == 0x1F else 1
    if pos >= len(head):
        raise EidError(f"{name} is too short to hold a data object")
    first = head[pos]
    if first < 0x80:
        return pos + 1 + first
    count = first & 0x7F
    if not 1 <= count <= 3 or len(head) < pos + 1 + count:
        raise EidError(f"{name} has a malformed length")
    return pos + 1 + count + int.from_bytes(head[pos + 1 : pos + 1 + count], "big")


def read_id(channel: CardChannel, document_number: str, birth: str, expiry: str, *,
            trust: Sequence[x509.Certificate] = (), photo: bool = True,
            at: datetime | None = None) -> tuple[Identity, Verdict]:
    """Open, read and verify in one call: ``(identity, verdict)``.

    Raises:
        AccessDenied: wrong MRZ data. EidError / SecureMessagingError: see :class:`EidReader`.
    """
    reader = EidReader(channel)
    reader.open(document_number, birth, expiry)
    identity = reader.read(photo=photo)
    return identity, reader.verify(trust, at=at)
