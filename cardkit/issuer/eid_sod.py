"""EF.SOD of the ID application: the LDS security object, signed as CMS SignedData (ICAO 9303-10 §4.6.2).

``77 { ContentInfo { signedData: SignedData v3 { digestAlgorithms {sha256}, encapContentInfo
{ id-icao-mrtd-security-ldsSecurityObject 2.23.136.1.1.1, LDSSecurityObject v0 }, certificates
{ document signer }, signerInfos { SignerInfo v1 (issuer and serial of the DS certificate, sha256,
signed attributes contentType + messageDigest, ecdsa-with-SHA256 or sha256WithRSAEncryption) } } } }``

``cryptography``'s PKCS #7 builder always encapsulates id-data, so the CMS is assembled with
asn1crypto; the signature itself is ``cryptography``'s (or the keystore's). No signing time is
included, and ECDSA signatures by a ``cryptography`` key are deterministic (RFC 6979), so the same
inputs give the same SOD; a keystore or HSM key signs with its own randomness.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cardkit.errors import ProfileError
from cardkit.tlv import build

__all__ = ["LDS_SECURITY_OBJECT_OID", "DocumentSigner", "LDSSecurityObject", "build_sod", "lds_security_object"]

LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"  # id-icao-mrtd-security-ldsSecurityObject (9303-10 §4.6.2.2)
_TAG_SOD = 0x77

DocumentSigner = tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x509.Certificate]


class DataGroupHash(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """``DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER, dataGroupHashValue OCTET STRING }``"""

    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LDSSecurityObject(core.Sequence):  # type: ignore[misc]
    """``LDSSecurityObject ::= SEQUENCE { version (v0), hashAlgorithm, dataGroupHashValues }``"""

    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
    ]


def lds_security_object(data_groups: Mapping[int, bytes]) -> bytes:
    """DER of the LDSSecurityObject v0 holding SHA-256 of each data group's whole file, by DG number."""
    der: bytes = LDSSecurityObject({
        "version": 0,
        "hash_algorithm": {"algorithm": "sha256"},
        "data_group_hash_values": [
            {"data_group_number": n, "data_group_hash_value": hashlib.sha256(content).digest()}
            for n, content in sorted(data_groups.items())
        ],
    }).dump()
    return der


def _sign(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, data: bytes) -> tuple[str, bytes]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # RFC 6979 where the key is here; a key held by a keystore signs with its own randomness
        deterministic = type(key).__module__.startswith("cryptography")
        return "sha256_ecdsa", key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic))
    if isinstance(key, rsa.RSAPrivateKey):
        return "sha256_rsa", key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise ProfileError("the document signer key must be an EC or RSA private key")


def build_sod(data_groups: Mapping[int, bytes], document_signer: DocumentSigner) -> bytes:
    """EF.SOD (tag 77) over ``data_groups`` (DG number → file content), signed by the document signer.

    Raises:
        ProfileError: the key is neither EC nor RSA, or does not belong to the certificate.
    """
    key, certificate = document_signer
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ProfileError("the document signer key does not match its certificate")
    content = lds_security_object(data_groups)
    cert = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": [LDS_SECURITY_OBJECT_OID]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
    ])
    algorithm, signature = _sign(key, signed_attrs.dump())  # signed as SET OF (tag 31), RFC 5652 §5.4
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": algorithm},
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v3",  # RFC 5652 §5.1: eContentType other than id-data
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": LDS_SECURITY_OBJECT_OID, "content": core.ParsableOctetString(content)},
        "certificates": [cert],
        "signer_infos": [signer_info],
    })
    sod: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return build(_TAG_SOD, sod)
