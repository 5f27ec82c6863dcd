"""Why offline data authentication failed, and which TVR bits a kernel sets for it.

Every check of EMV 4.4 Book 2 §5.2-§5.4 and §6.2-§6.6 that can fail has its own
:class:`OdaReason`; :class:`OdaError` carries one, with the Book 2 step that raised it. The
kernel maps a reason to Terminal Verification Results byte 1 with :func:`tvr_byte1`.
"""

from __future__ import annotations

import enum

from cardkit.errors import CryptoError

__all__ = ["OdaError", "OdaMethod", "OdaReason", "tvr_byte1"]


class OdaReason(enum.Enum):
    """One failed ODA check. Values are stable strings (logs, journals, test ids)."""

    # data the terminal needs is absent (Book 3 §10.3: also sets 'ICC data missing')
    ICC_DATA_MISSING = "icc-data-missing"
    # CA public key (Book 2 §5.2 / §6.2 and Annex B)
    CAPK_NOT_FOUND = "capk-not-found"
    CAPK_CHECKSUM = "capk-checksum"
    CAPK_EXPIRED = "capk-expired"
    # the recovery function and the block format (step 1-4 of every recovery)
    LENGTH = "length"  # signature/certificate length differs from the recovering modulus (step 1)
    TRAILER = "trailer"  # recovered data trailer is not 'BC' (step 2)
    HEADER = "header"  # recovered data header is not '6A' (step 3)
    FORMAT = "format"  # certificate/signed data format is not 02/04/03/05 (step 4)
    HASH_ALGORITHM = "hash-algorithm"  # hash algorithm indicator not '01' (step 6)
    HASH = "hash"  # recovered hash differs from the computed one (step 7)
    # certificate contents
    ISSUER_ID = "issuer-id"  # issuer identifier does not match the PAN (§6.3 step 8)
    PAN = "pan"  # recovered application PAN differs from tag 5A (§6.4 step 8)
    EXPIRED = "expired"  # certificate expiration date passed (§6.3 step 9, §6.4 step 9)
    REVOKED = "revoked"  # RID || CA index || serial on the revocation list (§6.3 step 10)
    PK_ALGORITHM = "pk-algorithm"  # public key algorithm indicator not '01' (§6.3 step 11, §6.4 step 10)
    KEY_LENGTH = "key-length"  # key/exponent length fields inconsistent with the block
    REMAINDER = "remainder"  # remainder present/absent/of the wrong length for the key length
    # static data to be authenticated (Book 3 §10.3)
    SDA_TAG_LIST = "sda-tag-list"  # 9F4A lists a tag other than '82'
    RECORD_FORMAT = "record-format"  # an SFI 1-10 record to authenticate is not a '70' template
    # dynamic signatures
    DYNAMIC_DATA = "dynamic-data"  # ICC dynamic data length/contents inconsistent (§6.5.2, §6.6.2)
    CID = "cid"  # CID in the signature differs from 9F27 in the response (§6.6.2 step 8)
    TRANSACTION_DATA_HASH = "transaction-data-hash"  # §6.6.2 step 9-10
    AC = "ac"  # a plaintext 9F26 in the response differs from the signed AC (§6.6.2, see docs)


class OdaMethod(enum.Enum):
    """The ODA method a kernel is running (Book 3 §10.3)."""

    SDA = "SDA"
    DDA = "DDA"
    CDA = "CDA"
    FDDA = "fDDA"  # qPBOC/qVSDC fast DDA: reported as DDA in the TVR (check with the scheme spec)


class OdaError(CryptoError):
    """An ODA check failed.

    Attributes:
        reason: which check (:class:`OdaReason`).
        step: the Book 2 clause and step, e.g. ``"§6.3 step 7"``.
    """

    def __init__(self, reason: OdaReason, step: str, detail: str = "") -> None:
        self.reason = reason
        self.step = step
        tail = f": {detail}" if detail else ""
        super().__init__(f"offline data authentication failed ({reason.value}, Book 2 {step}){tail}")


# TVR byte 1 (Book 3 Annex C5)
TVR_ODA_NOT_PERFORMED = 0x80
TVR_SDA_FAILED = 0x40
TVR_ICC_DATA_MISSING = 0x20
TVR_DDA_FAILED = 0x08
TVR_CDA_FAILED = 0x04
TVR_SDA_SELECTED = 0x02

_FAILED = {
    OdaMethod.SDA: TVR_SDA_FAILED,
    OdaMethod.DDA: TVR_DDA_FAILED,
    OdaMethod.FDDA: TVR_DDA_FAILED,
    OdaMethod.CDA: TVR_CDA_FAILED,
}


def tvr_byte1(method: OdaMethod | None, reason: OdaReason | None) -> int:
    """TVR byte 1 bits for the outcome of ODA (Book 3 §10.3, Annex C5).

    Args:
        method: the method the kernel selected, or ``None`` if no method could be (both sides do
            not support a common one): then only 'ODA was not performed' is set.
        reason: why it failed, or ``None`` if it succeeded.

    Returns:
        The bits to OR into TVR byte 1. 'SDA selected' (b2) is set whenever SDA was run.
    """
    if method is None:
        return TVR_ODA_NOT_PERFORMED
    bits = TVR_SDA_SELECTED if method is OdaMethod.SDA else 0
    if reason is None:
        return bits
    bits |= _FAILED[method]
    if reason is OdaReason.ICC_DATA_MISSING:
        bits |= TVR_ICC_DATA_MISSING
    return bits
