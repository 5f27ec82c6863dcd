"""EMV offline data authentication with RSA: EMV 4.4 Book 2 §5-§6 and Annex A2.

Issuer side (CA, data preparation, the simulated bank applet): :func:`make_issuer_certificate`,
:func:`make_icc_certificate`, :func:`sign_static_data`, :func:`sign_dynamic_data`,
:func:`sign_cda` / :func:`build_cda_response`.

Terminal side (the EMV kernel): :class:`CapkStore` -> :func:`recover_issuer_key` ->
:func:`recover_icc_key` -> :func:`verify_static_data` / :func:`verify_dynamic_data` /
:func:`verify_fdda` / :func:`verify_cda`. Every failed check raises :class:`OdaError` with an
:class:`OdaReason`; :func:`tvr_byte1` turns the outcome into TVR bits. See docs/oda.md.

Keys from :func:`generate_test_ca` are TEST keys: never for live use.
"""

from cardkit.crypto.oda._capk import Capk, CapkStore, TestCa, generate_test_ca
from cardkit.crypto.oda._certs import (
    IccCertificate,
    IssuerCertificate,
    RecoveredIccKey,
    RecoveredIssuerKey,
    make_icc_certificate,
    make_issuer_certificate,
    oda_records,
    recover_icc_key,
    recover_issuer_key,
    static_data_to_authenticate,
)
from cardkit.crypto.oda._errors import OdaError, OdaMethod, OdaReason, tvr_byte1
from cardkit.crypto.oda._rsa import RawRsaSigner, RsaPublic, RsaSigningKey
from cardkit.crypto.oda._signed import (
    RecoveredCda,
    RecoveredDynamicData,
    build_cda_response,
    dda_dynamic_data,
    fdda_data,
    sign_cda,
    sign_dynamic_data,
    sign_static_data,
    transaction_data_hash,
    verify_cda,
    verify_dynamic_data,
    verify_fdda,
    verify_static_data,
)

__all__ = [
    "Capk",
    "CapkStore",
    "IccCertificate",
    "IssuerCertificate",
    "OdaError",
    "OdaMethod",
    "OdaReason",
    "RecoveredCda",
    "RecoveredDynamicData",
    "RecoveredIccKey",
    "RecoveredIssuerKey",
    "RawRsaSigner",
    "RsaPublic",
    "RsaSigningKey",
    "TestCa",
    "build_cda_response",
    "dda_dynamic_data",
    "fdda_data",
    "generate_test_ca",
    "make_icc_certificate",
    "make_issuer_certificate",
    "oda_records",
    "recover_icc_key",
    "recover_issuer_key",
    "sign_cda",
    "sign_dynamic_data",
    "sign_static_data",
    "static_data_to_authenticate",
    "transaction_data_hash",
    "tvr_byte1",
    "verify_cda",
    "verify_dynamic_data",
    "verify_fdda",
    "verify_static_data",
]
