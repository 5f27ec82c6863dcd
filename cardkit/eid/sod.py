"""EF.SOD and passive authentication (9303-10 §4.6.2, 9303-11 §5.1; RFC 5652 SignedData).

EF.SOD = 77 { ContentInfo { signedData, SignedData { digestAlgorithms, encapContentInfo
{ id-icao-ldsSecurityObject, LDSSecurityObject }, certificates [the document signer], signerInfos } } }.

Passive authentication proves the data groups are the ones the issuer signed: each data group
read hashes to its value in the LDSSecurityObject, the signer info verifies with the document
signer (DS) certificate embedded in the SOD, and — given CSCA certificates to trust — the DS
certificate was signed by one of them and all are valid now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from cardkit.eid import _der
from cardkit.eid._der import Der
from cardkit.eid.errors import EidError

__all__ = ["PassiveResult", "SecurityObject", "check_chain", "load_trust", "parse_sod", "passive_authentication"]

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"

#: Digest algorithm OIDs (NIST CSOR, OIW) -> hashlib name.
_DIGESTS = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
            "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha224": hashes.SHA224,
                                                   "sha256": hashes.SHA256, "sha384": hashes.SHA384,
                                                   "sha512": hashes.SHA512}
#: Signature algorithm OID -> (scheme, hash or None for "the digest algorithm's").
_SIGNATURES: dict[str, tuple[str, str | None]] = {
    "1.2.840.10045.4.1": ("ecdsa", "sha1"), "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"), "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"), "1.2.840.10045.2.1": ("ecdsa", None),
    # BSI TR-03111 ecdsa-plain-signatures: r || s instead of a DER SEQUENCE
    "0.4.0.127.0.7.1.1.4.1.1": ("ecdsa-plain", "sha1"), "0.4.0.127.0.7.1.1.4.1.2": ("ecdsa-plain", "sha224"),
    "0.4.0.127.0.7.1.1.4.1.3": ("ecdsa-plain", "sha256"), "0.4.0.127.0.7.1.1.4.1.4": ("ecdsa-plain", "sha384"),
    "0.4.0.127.0.7.1.1.4.1.5": ("ecdsa-plain", "sha512"),
    "1.2.840.113549.1.1.1": ("pkcs1", None), "1.2.840.113549.1.1.5": ("pkcs1", "sha1"),
    "1.2.840.113549.1.1.14": ("pkcs1", "sha224"), "1.2.840.113549.1.1.11": ("pkcs1", "sha256"),
    "1.2.840.113549.1.1.12": ("pkcs1", "sha384"), "1.2.840.113549.1.1.13": ("pkcs1", "sha512"),
    "1.2.840.113549.1.1.10": ("pss", None),
}


@dataclass(frozen=True, slots=True)
class SecurityObject:
    """A parsed EF.SOD: the LDSSecurityObject's hashes and what its signature covers."""

    hash_algorithm: str
    hashes: tuple[tuple[int, bytes], ...]
    certificate: x509.Certificate | None = field(repr=False)
    digest_algorithm: str = field(repr=False)
    signature_oid: str = field(repr=False)
    signature_params: bytes = field(repr=False)
    signed_attributes: bytes | None = field(repr=False)
    signature: bytes = field(repr=False)
    content: bytes = field(repr=False)
    signer_id: Der = field(repr=False)

    def hash_of(self, dg: int) -> bytes | None:
        """The hash of data group ``dg`` the issuer signed, ``None`` if the SOD has none."""
        return next((h for n, h in self.hashes if n == dg), None)


def _digest_name(algorithm: Der, what: str) -> str:
    oid = algorithm.expect(_der.SEQUENCE, what).children()[0].oid()
    try:
        return _DIGESTS[oid]
    except KeyError:
        raise EidError(f"EF.SOD: unsupported {what} {oid}") from None


def _ldsso(content: bytes) -> tuple[str, tuple[tuple[int, bytes], ...]]:
    """LDSSecurityObject ::= SEQUENCE { version, hashAlgorithm, SEQUENCE OF { dataGroupNumber, hash } ... }."""
    items = _der.decode(content).expect(_der.SEQUENCE, "LDSSecurityObject").children()
    if len(items) < 3:
        raise EidError("EF.SOD: the LDSSecurityObject lacks its hashes")
    algorithm = _digest_name(items[1], "LDS hash algorithm")
    out: list[tuple[int, bytes]] = []
    for entry in items[2].expect(_der.SEQUENCE, "dataGroupHashValues").children():
        number, value = entry.expect(_der.SEQUENCE, "DataGroupHash").children()[:2]
        out.append((number.integer(), value.expect(_der.OCTET_STRING, "dataGroupHashValue").value))
    return algorithm, tuple(out)


def _octets(element: Der) -> bytes:
    """An OCTET STRING's content, primitive or (BER) constructed of primitive segments."""
    if element.tag == _der.OCTET_STRING:
        return element.value
    if element.tag == _der.OCTET_STRING | 0x20:
        return b"".join(_octets(part) for part in element.children())
    raise EidError(f"EF.SOD: eContent has tag {element.tag:02X}, expected an OCTET STRING")


def parse_sod(data: bytes) -> SecurityObject:
    """Parse EF.SOD down to the hashes, the DS certificate and the signer info (RFC 5652 §5).

    Raises:
        EidError: not an EF.SOD, not SignedData of an LDSSecurityObject, or malformed.
    """
    try:
        return _parse_sod(data)
    except (IndexError, ValueError):  # a SEQUENCE with fewer elements than its type has
        raise EidError("EF.SOD is malformed: a structure lacks mandatory elements") from None


def _parse_sod(data: bytes) -> SecurityObject:
    outer = _der.decode(data).expect(0x77, "EF.SOD")
    info = _der.decode(outer.value).expect(_der.SEQUENCE, "ContentInfo").children()
    if len(info) != 2 or info[0].oid() != OID_SIGNED_DATA:
        raise EidError("EF.SOD does not hold CMS SignedData")
    signed = info[1].expect(_der.CONTEXT_0, "content").children()[0].expect(_der.SEQUENCE, "SignedData").children()
    encap = signed[2].expect(_der.SEQUENCE, "encapContentInfo").children()
    if encap[0].oid() != OID_LDS_SECURITY_OBJECT or len(encap) < 2:
        raise EidError("EF.SOD does not sign an LDSSecurityObject (2.23.136.1.1.1)")
    content = _octets(encap[1].expect(_der.CONTEXT_0, "eContent").children()[0])
    certificates: list[x509.Certificate] = []
    rest = signed[3:]
    for element in rest[:-1]:
        if element.tag == _der.CONTEXT_0:
            certificates += [_checked(x509.load_der_x509_certificate, cert.raw, "EF.SOD: an embedded certificate")
                             for cert in element.children()]
    signer_infos = rest[-1].expect(_der.SET, "signerInfos").children() if rest else []
    if len(signer_infos) != 1:
        raise EidError(f"EF.SOD has {len(signer_infos)} signer infos, ICAO 9303 wants one")
    si = signer_infos[0].expect(_der.SEQUENCE, "SignerInfo").children()
    sid, digest, pos = si[1], _digest_name(si[2], "digest algorithm"), 3
    attributes = None
    if si[pos].tag == _der.CONTEXT_0:  # signedAttrs [0] IMPLICIT SET: signed as a SET (RFC 5652 §5.4)
        attributes = bytes([_der.SET]) + si[pos].raw[1:]
        pos += 1
    algorithm = si[pos].expect(_der.SEQUENCE, "signatureAlgorithm").children()
    signature = si[pos + 1].expect(_der.OCTET_STRING, "signature").value
    hash_algorithm, hashes_ = _ldsso(content)
    return SecurityObject(
        hash_algorithm=hash_algorithm, hashes=hashes_, certificate=_signer(certificates, sid),
        digest_algorithm=digest, signature_oid=algorithm[0].oid(),
        signature_params=algorithm[1].raw if len(algorithm) > 1 else b"", signed_attributes=attributes,
        signature=signature, content=content, signer_id=sid)


def _checked(load: Callable[[bytes], x509.Certificate], data: bytes, what: str) -> x509.Certificate:
    """Load a certificate and touch every field used later (``cryptography`` parses them lazily)."""
    try:
        cert = load(data)
        _ = (cert.subject, cert.issuer, cert.serial_number, cert.not_valid_before_utc, cert.not_valid_after_utc,
             cert.public_key(), cert.extensions)
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise EidError(f"{what} cannot be parsed") from None
    return cert


def _signer(certificates: Sequence[x509.Certificate], sid: Der) -> x509.Certificate | None:
    """The certificate the SignerIdentifier names: issuerAndSerialNumber or [0] subjectKeyIdentifier."""
    for cert in certificates:
        if sid.tag == _der.SEQUENCE:
            name, serial = sid.children()[:2]
            if name.raw == cert.issuer.public_bytes() and serial.integer() == cert.serial_number:
                return cert
        elif sid.tag == 0x80:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.value:
                return cert
    return None


def _attributes(encoded: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for attribute in _der.decode(encoded).children():
        oid, values = attribute.expect(_der.SEQUENCE, "Attribute").children()[:2]
        first = values.expect(_der.SET, "attribute values").children()
        out[oid.oid()] = first[0].raw if first else b""
    return out


def _verify_signature(sod: SecurityObject) -> str:
    """'' when the signer info verifies with the DS certificate; else why not (RFC 5652 §5.4, §5.6)."""
    cert = sod.certificate
    if cert is None:
        return "EF.SOD holds no document signer certificate matching its signer"
    try:
        return _check_signature(sod, cert)
    except (EidError, IndexError, ValueError, UnsupportedAlgorithm):
        return "EF.SOD: the signer info or its certificate's key is malformed"


def _check_signature(sod: SecurityObject, cert: x509.Certificate) -> str:
    signed = sod.content
    if sod.signed_attributes is not None:
        attributes = _attributes(sod.signed_attributes)
        content_type = attributes.get(OID_CONTENT_TYPE)
        if content_type is None or _der.decode(content_type).oid() != OID_LDS_SECURITY_OBJECT:
            return "EF.SOD: the signed content type is not the LDSSecurityObject"
        digest = attributes.get(OID_MESSAGE_DIGEST)
        if digest is None or _der.decode(digest).value != hashlib.new(sod.digest_algorithm, signed).digest():
            return "EF.SOD: the signed message digest does not match the LDSSecurityObject"
        signed = sod.signed_attributes
    try:
        scheme, hash_name = _SIGNATURES[sod.signature_oid]
    except KeyError:
        return f"EF.SOD: unsupported signature algorithm {sod.signature_oid}"
    algorithm = _HASHES[hash_name or sod.digest_algorithm]()
    key = cert.public_key()
    try:
        if scheme.startswith("ecdsa") and isinstance(key, ec.EllipticCurvePublicKey):
            signature = sod.signature
            if scheme == "ecdsa-plain":
                half = len(signature) // 2
                signature = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                                 int.from_bytes(signature[half:], "big"))
            key.verify(signature, signed, ec.ECDSA(algorithm))
        elif scheme in ("pkcs1", "pss") and isinstance(key, rsa.RSAPublicKey):
            if scheme == "pss":
                algorithm, salt = _pss_params(sod.signature_params)
                key.verify(sod.signature, signed, padding.PSS(padding.MGF1(algorithm), salt), algorithm)
            else:
                key.verify(sod.signature, signed, padding.PKCS1v15(), algorithm)
        else:
            return "EF.SOD: the signature algorithm does not fit the document signer's key"
    except InvalidSignature:
        return "EF.SOD: the signature does not verify with its document signer certificate"
    except (UnsupportedAlgorithm, ValueError) as exc:
        return f"EF.SOD: the signature cannot be checked ({exc})"
    return ""


def _pss_params(params: bytes) -> tuple[hashes.HashAlgorithm, int]:
    """RSASSA-PSS-params (RFC 4055 §3.1): [0] hash (default SHA-1), [2] salt length (default 20)."""
    algorithm: hashes.HashAlgorithm = hashes.SHA1()
    salt = 20
    if params and params[0] == _der.SEQUENCE:
        for item in _der.decode(params).children():
            if item.tag == _der.CONTEXT_0:
                algorithm = _HASHES[_digest_name(item.children()[0], "PSS hash")]()
            elif item.tag == 0xA2:
                salt = item.children()[0].integer()
    return algorithm, salt


def check_chain(ds: x509.Certificate, trust: Sequence[x509.Certificate],
                at: datetime | None = None) -> tuple[bool | None, str]:
    """Was ``ds`` issued by one of the CSCA certificates ``trust``, and are both valid ``at``?

    Returns ``(None, reason)`` with no trust anchors, ``(True, subject)`` or ``(False, reason)``.
    """
    if not trust:
        return None, "no CSCA certificate given"
    now = at or datetime.now(UTC)
    for csca in trust:
        if csca.subject != ds.issuer:
            continue
        try:
            ds.verify_directly_issued_by(csca)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            continue
        for what, cert in (("document signer", ds), ("CSCA", csca)):
            if now < cert.not_valid_before_utc:
                return False, f"the {what} certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
            if now > cert.not_valid_after_utc:
                return False, f"the {what} certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        return True, f"issued by {csca.subject.rfc4514_string()}"
    return False, f"the document signer ({ds.issuer.rfc4514_string()}) was not issued by a trusted CSCA"


@dataclass(frozen=True, slots=True)
class PassiveResult:
    """Passive authentication (9303-11 §5.1).

    ``ok``: the SOD signature verifies with its DS certificate and every data group read hashes to
    its signed value; ``altered``: the data groups that do not (or that the SOD does not list);
    ``chain_ok``: ``None`` without trust anchors, else whether a trusted CSCA issued the DS.
    """

    ok: bool
    reason: str
    altered: tuple[int, ...] = ()
    chain_ok: bool | None = None
    chain_reason: str = ""
    signer: str = ""


def passive_authentication(sod: SecurityObject, data_groups: Mapping[int, bytes],
                           trust: Sequence[x509.Certificate] = (), at: datetime | None = None) -> PassiveResult:
    """Check ``data_groups`` (DG number -> file bytes as read) against ``sod``.

    Never raises on a failed check: the result says what failed.
    """
    altered = tuple(sorted(n for n, data in data_groups.items()
                           if sod.hash_of(n) != hashlib.new(sod.hash_algorithm, data).digest()))
    problem = _verify_signature(sod)
    chain_ok, chain_reason = (None, "no CSCA certificate given")
    signer = ""
    if sod.certificate is not None:
        signer = sod.certificate.subject.rfc4514_string()
        chain_ok, chain_reason = check_chain(sod.certificate, trust, at)
    if problem:
        reason = problem
    elif altered:
        reason = ", ".join(f"DG{n}" for n in altered) + " do not match EF.SOD" if len(altered) > 1 else \
            f"DG{altered[0]} does not match its hash in EF.SOD"
    else:
        reason = "EF.SOD verifies and " + ", ".join(f"DG{n}" for n in sorted(data_groups)) + " match it"
    return PassiveResult(not problem and not altered, reason, altered, chain_ok, chain_reason, signer)


def load_trust(data: bytes) -> list[x509.Certificate]:
    """CSCA certificates from a file's bytes: one or more PEM blocks, or one DER certificate.

    Raises:
        EidError: neither PEM certificates nor a DER certificate.
    """
    try:
        if b"-----BEGIN" in data:
            pems = x509.load_pem_x509_certificates(data)
            return [_checked(x509.load_der_x509_certificate, c.public_bytes(Encoding.DER), "a trusted certificate")
                    for c in pems]
        return [_checked(x509.load_der_x509_certificate, data, "a trusted certificate")]
    except (ValueError, EidError):
        raise EidError("the trust file holds no usable X.509 certificate (PEM or DER)") from None
