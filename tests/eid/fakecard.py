"""A behavioural fake of the ID application, written from ICAO 9303-10/11 and cardkit.crypto.icao.

It holds EF.COM, DG1, DG2, DG11, DG15 and EF.SOD; answers BAC (6300 on wrong MRZ keys); then
speaks only 3DES secure messaging — a plain command or a wrong MAC ends the session with a plain
6988; and signs INTERNAL AUTHENTICATE challenges with its AA key (ECDSA P-256, r || s over
SHA-256, or RSA ISO 9796-2 scheme 1 with SHA-1). A test double for the reader, not the applet.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import icao
from cardkit.crypto.hazmat import InvalidMac
from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.errors import CryptoError

from . import lds_builder as b

ATR = bytes.fromhex("3B8880010000000000000000")
AID = bytes.fromhex("A0000002471001")
DOC, BIRTH, EXPIRY = "E12345678", "900307", "340101"


@dataclass
class Documents:
    """A document's files and keys, made consistently (or not, by the test)."""

    files: dict[int, bytes]
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None
    pki: b.Pki
    mrz: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def make_documents(*, pki: b.Pki | None = None, rsa_aa: bool = False, with_dg15: bool = True,
                   photo: bytes = b.JPEG, doc: str = DOC, birth: str = BIRTH, expiry: str = EXPIRY) -> Documents:
    pki = pki or b.make_pki()
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(65537, 1024) if rsa_aa else ec.generate_private_key(ec.SECP256R1()))
    mrz = b.td1(doc, birth, expiry)
    groups = {1: b.dg1(mrz), 2: b.dg2(photo), 11: b.dg11()}
    tags = "61756B"
    if with_dg15:
        groups[15] = b.dg15(aa_key.public_key())
        tags += "6F"
    fids = {1: 0x0101, 2: 0x0102, 11: 0x010B, 15: 0x010F}
    files = {fids[n]: data for n, data in groups.items()}
    files[0x011E] = b.com(bytes.fromhex(tags))
    files[0x011D] = b.sod(groups, pki)
    return Documents(files, aa_key if with_dg15 else None, pki, mrz)


def _rsa_9796_2_sign(key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
    n = key.public_key().public_numbers().n
    k = (n.bit_length() + 7) // 8
    m1 = os.urandom(k - 22)
    em = b"\x6a" + m1 + hashlib.sha1(m1 + challenge).digest() + b"\xbc"
    d = key.private_numbers().d
    return pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")


class FakeEidCard:
    """The ID application as the contract describes it."""

    def __init__(self, documents: Documents | None = None, *, doc: str = DOC, birth: str = BIRTH,
                 expiry: str = EXPIRY, aid: bytes = AID) -> None:
        self.aid = aid
        self.documents = documents or make_documents()
        self.files = self.documents.files
        self.aa_key = self.documents.aa_key
        self.bac_keys = icao.derive_bac_keys(icao.mrz_information(doc, birth, expiry))
        self.commands: list[bytes] = []
        self.sessions_ended = 0
        self.power_on()

    # CardLike
    @property
    def atr(self) -> bytes:
        return ATR

    def power_on(self) -> bytes:
        self._selected = False
        self._rnd_ic: bytes | None = None
        self._session: icao.BacKeys | None = None
        self._ssc = 0
        self._ef: int | None = None
        return ATR

    reset = power_on

    def power_off(self) -> None:
        self.power_on()

    def transmit(self, capdu: bytes) -> bytes:
        self.commands.append(capdu)
        if self._session is not None:
            return self._protected(capdu)
        return self._plain(CommandAPDU.parse(capdu)).to_bytes()

    # ------------------------------------------------------------------------- before BAC
    def _plain(self, c: CommandAPDU) -> ResponseAPDU:
        if c.ins == 0xA4 and c.p1 == 0x04:
            self._selected = c.data == self.aid
            return ResponseAPDU.status(SW.OK if self._selected else SW.FILE_NOT_FOUND)
        if not self._selected:
            return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
        if c.ins == 0x84 and c.le == 8:
            self._rnd_ic = os.urandom(8)
            return ResponseAPDU(self._rnd_ic, SW.OK)
        if c.ins == 0x82:
            if self._rnd_ic is None or len(c.data) != 40:
                return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
            k_ic = os.urandom(16)
            try:
                answer, k_ifd = icao.ic_authenticate(self.bac_keys, c.data, self._rnd_ic, k_ic)
            except InvalidMac:
                self._rnd_ic = None
                return ResponseAPDU.status(SW.AUTHENTICATION_FAILED_WARNING)
            decrypted_rnd_ifd = TripleDES(self.bac_keys.k_enc).decrypt_cbc(c.data[:32])[:8]
            self._session = icao.bac_session_keys(k_ifd, k_ic)
            self._ssc = icao.bac_ssc(self._rnd_ic, decrypted_rnd_ifd)
            return ResponseAPDU(answer, SW.OK)
        return ResponseAPDU.status(SW.SECURITY_STATUS_NOT_SATISFIED)

    # ---------------------------------------------------------------------------- under SM
    def _end(self) -> bytes:
        self._session = None
        self.sessions_ended += 1
        return SW.SM_DATA_OBJECTS_INCORRECT.to_bytes(2, "big")

    def _protected(self, capdu: bytes) -> bytes:
        assert self._session is not None
        if not capdu or capdu[0] & 0x0C != 0x0C:
            return self._end()
        try:
            plain, self._ssc = icao.unprotect_command(self._session, self._ssc, capdu)
        except CryptoError:
            return self._end()
        response = self._process(CommandAPDU.parse(plain))
        out, self._ssc = icao.protect_response(self._session, self._ssc, response.data,
                                               response.sw.to_bytes(2, "big"))
        return out

    def _process(self, c: CommandAPDU) -> ResponseAPDU:
        if c.ins == 0xA4 and c.p1 == 0x02:
            fid = int.from_bytes(c.data, "big")
            if fid not in self.files:
                return ResponseAPDU.status(SW.FILE_NOT_FOUND)
            self._ef = fid
            return ResponseAPDU.status(SW.OK)
        if c.ins == 0xB0:
            if self._ef is None:
                return ResponseAPDU.status(SW.COMMAND_NOT_ALLOWED_NO_EF)
            data = self.files[self._ef]
            offset, le = (c.p1 << 8) | c.p2, c.le or 256
            if offset >= len(data):
                return ResponseAPDU.status(SW.WRONG_P1P2)
            part = data[offset : offset + le]
            return ResponseAPDU(part, SW.OK if len(part) == le else SW.END_OF_FILE)
        if c.ins == 0x88:
            if self.aa_key is None:
                return ResponseAPDU.status(SW.INS_NOT_SUPPORTED)
            if len(c.data) != 8:
                return ResponseAPDU.status(SW.WRONG_LENGTH)
            if isinstance(self.aa_key, ec.EllipticCurvePrivateKey):
                r, s = decode_dss_signature(self.aa_key.sign(c.data, ec.ECDSA(hashes.SHA256())))
                return ResponseAPDU(r.to_bytes(32, "big") + s.to_bytes(32, "big"), SW.OK)
            return ResponseAPDU(_rsa_9796_2_sign(self.aa_key, c.data), SW.OK)
        return ResponseAPDU.status(SW.INS_NOT_SUPPORTED)


class FlipMac:
    """Wraps a card: flips a bit of the last byte of DO 8E (just before the SW) in protected
    response number ``n`` — a response whose MAC does not verify."""

    def __init__(self, card: Any, n: int) -> None:
        self.card, self.n, self.count = card, n, 0

    @property
    def atr(self) -> bytes:
        return bytes(self.card.atr)

    def power_on(self) -> bytes:
        return bytes(self.card.power_on())

    def reset(self) -> bytes:
        return bytes(self.card.reset())

    def power_off(self) -> None:
        self.card.power_off()

    def transmit(self, capdu: bytes) -> bytes:
        r = bytes(self.card.transmit(capdu))
        if capdu[0] & 0x0C:
            self.count += 1
            if self.count == self.n:
                r = r[:-3] + bytes([r[-3] ^ 0x80]) + r[-2:]
        return r
