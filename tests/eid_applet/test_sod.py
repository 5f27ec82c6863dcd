"""EF.SOD: the CMS SignedData verifies with cryptography (DS certificate under the CSCA, the
signature over the signed attributes, the message digest, the DG hashes) and with openssl cms."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from cardkit.issuer.demo_keys import demo_csca, demo_document_signer
from cardkit.issuer.eid_sod import LDS_SECURITY_OBJECT_OID, LDSSecurityObject
from cardkit.tlv import decode

from .kit import dgis


def _cms() -> bytes:
    sod = decode(dgis()[0x1D00])[0]
    assert sod.tag == b"\x77"
    return sod.value


def test_sod_verifies_with_cryptography() -> None:
    info = cms.ContentInfo.load(_cms())
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["version"].native == "v3"
    encap = signed["encap_content_info"]
    assert encap["content_type"].dotted == LDS_SECURITY_OBJECT_OID
    content = encap["content"].native
    # the document signer certificate is issued by the CSCA
    _, csca = demo_csca()
    (cert_choice,) = signed["certificates"]
    ds = x509.load_der_x509_certificate(cert_choice.chosen.dump())
    assert ds == demo_document_signer()[1]
    ds.verify_directly_issued_by(csca)
    csca.verify_directly_issued_by(csca)
    # the signature over the signed attributes (DER SET OF, tag 31), and the message digest
    (signer,) = signed["signer_infos"]
    assert signer["sid"].chosen["serial_number"].native == ds.serial_number
    attrs = signer["signed_attrs"]
    by_type = {a["type"].native: a["values"][0] for a in attrs}
    assert by_type["content_type"].dotted == LDS_SECURITY_OBJECT_OID
    assert by_type["message_digest"].native == hashlib.sha256(content).digest()
    to_verify = b"\x31" + attrs.dump()[1:]
    public = ds.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signer["signature"].native, to_verify, ec.ECDSA(hashes.SHA256()))
    # the LDS security object: SHA-256 of DG1, DG2, DG11, DG15 as personalized
    lds = LDSSecurityObject.load(content)
    assert lds["version"].native == 0 and lds["hash_algorithm"]["algorithm"].native == "sha256"
    got = {h["data_group_number"].native: h["data_group_hash_value"].native for h in lds["data_group_hash_values"]}
    assert got == {n: hashlib.sha256(dgis()[dgi]).digest() for n, dgi in ((1, 0x0100), (2, 0x0200), (11, 0x0B00),
                                                                           (15, 0x0F00))}


def test_validity_of_the_test_pki() -> None:
    _, csca = demo_csca()
    _, ds = demo_document_signer()
    assert (csca.not_valid_before_utc.year, csca.not_valid_after_utc.year) == (2024, 2040)
    assert (ds.not_valid_before_utc.year, ds.not_valid_after_utc.year) == (2025, 2035)
    assert csca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "TEST" in csca.subject.rfc4514_string() and "TEST" in ds.subject.rfc4514_string()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_cms_verify_accepts_it(tmp_path: Path) -> None:
    (tmp_path / "sod.der").write_bytes(_cms())
    (tmp_path / "csca.pem").write_bytes(demo_csca()[1].public_bytes(Encoding.PEM))
    run = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der"),
                          "-CAfile", str(tmp_path / "csca.pem"), "-out", str(tmp_path / "lds.der")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Verification successful" in run.stderr
    assert LDSSecurityObject.load((tmp_path / "lds.der").read_bytes())["version"].native == 0
    # a changed byte in the signed content fails verification
    der = bytearray(_cms())
    i = der.find(hashlib.sha256(dgis()[0x0100]).digest())
    der[i] ^= 0x01
    (tmp_path / "bad.der").write_bytes(bytes(der))
    run = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "bad.der"),
                          "-CAfile", str(tmp_path / "csca.pem"), "-out", "/dev/null"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
