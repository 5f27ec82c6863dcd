"""The card's symmetric cryptography, all through :mod:`cardkit.crypto.emv` (CVN 01 profile).

AC data and key choice follow docs/bank.md "Application cryptograms" so an issuer host rebuilds
the same bytes from field 55 alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from applets.bank.codec import AC_DATA_TAGS
from applets.bank.cvr import cvr_block
from applets.bank.profile import Keys
from cardkit.crypto.emv import (
    derive_session_key,
    derive_sm_session_key,
    generate_ac,
    script_decrypt,
    script_mac,
    verify_arpc_method1,
)
from cardkit.crypto.hazmat import constant_time_equal
from cardkit.errors import CryptoError

__all__ = ["ac_data", "arpc_ok", "compute_ac", "decipher_script_data", "script_mac_ok"]


def ac_data(fields: Mapping[bytes, bytes], aip: bytes, atc: int, cvr: bytes) -> bytes:
    """``9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 || AIP || ATC || 03 CVR`` (absent terminal data: zeros)."""
    terminal = b"".join(fields.get(tag, bytes(n)) for tag, n in AC_DATA_TAGS)
    return terminal + aip + atc.to_bytes(2, "big") + cvr_block(cvr)


def compute_ac(keys: Keys, fields: Mapping[bytes, bytes], aip: bytes, atc: int, cvr: bytes) -> bytes:
    """ARQC / TC / AAC under the AC session key of this ATC."""
    return generate_ac(derive_session_key(keys.ac, atc), ac_data(fields, aip, atc, cvr))


def arpc_ok(keys: Keys, atc: int, arqc: bytes, issuer_auth_data: bytes) -> bool:
    """Issuer authentication: ``ARPC || ARC`` checked with ARPC method 1 under the AC session key."""
    if len(issuer_auth_data) < 10:
        return False
    arpc, arc = issuer_auth_data[:8], issuer_auth_data[8:10]
    try:
        verify_arpc_method1(derive_session_key(keys.ac, atc), arqc, arc, arpc)
    except CryptoError:
        return False
    return True


def script_mac_ok(keys: Keys, header: bytes, data: bytes, mac: bytes, *, atc: int, arqc: bytes) -> bool:
    """Issuer script MAC under SK_SMI over header, ``ATC || ARQC`` and the command data."""
    sk = derive_sm_session_key(keys.smi, arqc)
    want = script_mac(sk, header, data, transaction_data=atc.to_bytes(2, "big") + arqc)
    return constant_time_equal(want, mac)


def decipher_script_data(keys: Keys, arqc: bytes, data: bytes) -> bytes | None:
    """Script data enciphered under SK_SMC (EMV variant); ``None`` when it does not decipher."""
    if not data or len(data) % 8:
        return None
    try:
        return script_decrypt(derive_sm_session_key(keys.smc, arqc), data)
    except CryptoError:
        return None
