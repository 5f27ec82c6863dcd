"""EMV issuer/card cryptography recipes (EMV 4.4 Book 2 §8-§9 and Annex A1).

Callers pass keys and data and get cryptograms; the algorithms (3DES, ISO 9797-1 MAC algorithm 3,
padding method 2, odd parity) are fixed per recipe. Key derivation chain for an ARQC::

    imk --derive_icc_master_key(pan, psn)--> icc_mk --derive_session_key(atc[, un])--> sk
    generate_ac(sk, cdol_data) -> ARQC/TC/AAC;  generate_arpc_method1/2(...) -> ARPC

Which scheme uses which variant is the Cryptogram Version Number (CVN) in the issuer
application data (9F10); see :class:`CryptogramVersion` and docs/crypto.md.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Literal

from cardkit.crypto.hazmat._base import InvalidMac, constant_time_equal
from cardkit.crypto.hazmat.ciphers import TripleDES, cached
from cardkit.crypto.hazmat.keys import SupportsEncryptEcb, diversify_3des, emv_common_session_key
from cardkit.crypto.hazmat.mac import RetailMacKey, retail_mac
from cardkit.crypto.hazmat.padding import pad_method_2, unpad_method_2
from cardkit.errors import CryptoError

__all__ = (
    "CryptogramVersion",
    "ScriptCipher",
    "derive_icc_master_key",
    "derive_session_key",
    "derive_sm_session_key",
    "generate_ac",
    "generate_arpc_method1",
    "generate_arpc_method2",
    "script_decrypt",
    "script_encrypt",
    "script_mac",
    "verify_ac",
    "verify_arpc_method1",
    "verify_arpc_method2",
)



class CryptogramVersion(enum.IntEnum):
    """Cryptogram version numbers in the UnionPay/PBOC issuer application data (9F10).

    UnionPay/PBOC 9F10 (JR/T 0025.5, check): byte 1 length (07), byte 2 derivation key index,
    byte 3 CVN, bytes 4-7 card verification results. The values below are what public PBOC
    card data show and are marked "check" in docs/crypto.md: CVN 01 = 3DES with the EMV recipes
    here (option A, common session key, MAC algorithm 3 with padding 2, ARPC method 1);
    the SM4 profile of PBOC 3.0 (JR/T 0025.17) uses a different CVN (04 in public material) —
    check before relying on it. Visa and Mastercard CVNs are scheme-proprietary (see pyemv.cvn).
    """

    PBOC_3DES = 0x01
    PBOC_SM4 = 0x04  # check: SM4 AC/ARPC per JR/T 0025.17; recipes here are 3DES only


def _pan_digits(pan: str | bytes) -> str:
    """PAN as a digit string: from text, or from 5A (cn BCD, F-padded) bytes."""
    if isinstance(pan, bytes | bytearray):
        digits = bytes(pan).hex().upper().rstrip("F")
    else:
        digits = pan.strip()
    if not digits.isdigit() or not 1 <= len(digits) <= 19:
        raise CryptoError("PAN must be 1-19 decimal digits")
    return digits


def _psn_digits(psn: str | bytes | int | None) -> str:
    """PAN sequence number (5F34, n2) as two digits; absent means 00 (Book 2 A1.4.1)."""
    if psn is None:
        return "00"
    if isinstance(psn, bytes | bytearray):
        if len(psn) != 1:
            raise CryptoError("PSN (5F34) must be one BCD byte")
        text = bytes(psn).hex()
    elif isinstance(psn, int):
        text = f"{psn:02d}"
    else:
        text = psn.strip()
    if len(text) != 2 or not text.isdigit():
        raise CryptoError("PSN must be two decimal digits")
    return text


def derive_icc_master_key(
    imk: bytes | SupportsEncryptEcb,
    pan: str | bytes,
    psn: str | bytes | int | None = None,
    method: Literal["A", "B"] = "A",
) -> bytes:
    """ICC master key from the issuer master key (EMV Book 2 A1.4.1 option A, A1.4.2 option B).

    Args:
        imk: 16-byte issuer master key (MK-AC, MK-SMI or MK-SMC), or such a key held by a keystore.
        pan: PAN digits (str) or tag 5A bytes.
        psn: PAN sequence number (tag 5F34); None means 00.
        method: "A", or "B" for PANs over 16 digits (B falls back to A for 16 digits or fewer,
            as A1.4.2 says).
    Returns:
        16-byte ICC master key with odd parity.
    Raises:
        CryptoError: bad key length, PAN or PSN.
    """
    digits = _pan_digits(pan) + _psn_digits(psn)
    if method == "B" and len(digits) > 18:  # PAN > 16 digits
        if len(digits) % 2:
            digits = "0" + digits
        hexdigest = hashlib.sha1(bytes.fromhex(digits)).hexdigest()
        dec = "".join(c for c in hexdigest if c.isdigit())
        if len(dec) < 16:
            dec += "".join(c for c in hexdigest if not c.isdigit()).translate(str.maketrans("abcdef", "012345"))
        y = bytes.fromhex(dec[:16])
    elif method in ("A", "B"):
        y = bytes.fromhex(digits[-16:].zfill(16))
    else:
        raise CryptoError(f"unknown ICC master key derivation method {method!r} (use 'A' or 'B')")
    return diversify_3des(cached(TripleDES, imk) if isinstance(imk, (bytes, bytearray)) else imk, y)


def _atc_bytes(atc: int | bytes) -> bytes:
    if isinstance(atc, int):
        if not 0 <= atc <= 0xFFFF:
            raise CryptoError(f"ATC out of range: {atc}")
        return atc.to_bytes(2, "big")
    if len(atc) != 2:
        raise CryptoError(f"ATC (9F36) must be 2 bytes, got {len(atc)}")
    return bytes(atc)


def derive_session_key(icc_mk: bytes, atc: int | bytes, un: bytes | None = None) -> bytes:
    """AC session key, EMV Book 2 A1.3.1 common session key derivation.

    R = ATC || 00*6 (Visa CVN 18/22, Mastercard CVN 20/21 per pyemv), or ATC || 00 00 || UN when
    ``un`` (9F37, 4 bytes) is given (Mastercard CVN 16/17, Interac CVN 133 per pyemv).
    """
    a = _atc_bytes(atc)
    if un is None:
        r = a + bytes(6)
    elif len(un) != 4:
        raise CryptoError(f"unpredictable number (9F37) must be 4 bytes, got {len(un)}")
    else:
        r = a + b"\x00\x00" + bytes(un)
    return emv_common_session_key(icc_mk, r)


def derive_sm_session_key(icc_mk_sm: bytes, ac: bytes) -> bytes:
    """Secure-messaging session key (MAC or encryption), Book 2 A1.3.1 with R = the AC (ARQC)."""
    if len(ac) != 8:
        raise CryptoError(f"application cryptogram must be 8 bytes, got {len(ac)}")
    return emv_common_session_key(icc_mk_sm, ac)


def _padding(padding: int) -> int:
    if padding not in (1, 2):
        raise CryptoError(f"AC padding must be ISO 9797-1 method 1 or 2, not {padding!r}")
    return padding


def generate_ac(session_key: bytes, data: bytes, padding: int = 2) -> bytes:
    """ARQC, TC or AAC (Book 2 §8.1.2, A1.2.1): MAC algorithm 3 over the CDOL data, 8 bytes.

    ``padding`` 2 (80 00..) is the EMV default; 1 (zeros) is what some Visa CVNs use.
    """
    return retail_mac(RetailMacKey(session_key), data, padding=_padding(padding))


def verify_ac(session_key: bytes, data: bytes, ac: bytes, padding: int = 2) -> None:
    """Check a received AC in constant time; :class:`InvalidMac` if it does not match."""
    if len(ac) != 8:
        raise CryptoError(f"application cryptogram must be 8 bytes, got {len(ac)}")
    if not constant_time_equal(generate_ac(session_key, data, padding), bytes(ac)):
        raise InvalidMac("application cryptogram does not verify")


def generate_arpc_method1(key: bytes, arqc: bytes, arc: bytes) -> bytes:
    """ARPC method 1 (Book 2 §8.2.1): 3DES_K(ARQC XOR (ARC || 00*6)), 8 bytes.

    ``key`` is the AC session key or, in some schemes (and pyemv's tests), the ICC master key.
    Tag 91 is then ARPC || ARC.
    """
    if len(arqc) != 8:
        raise CryptoError(f"ARQC must be 8 bytes, got {len(arqc)}")
    if len(arc) != 2:
        raise CryptoError(f"ARC must be 2 bytes, got {len(arc)}")
    x = int.from_bytes(arqc, "big") ^ (int.from_bytes(arc, "big") << 48)
    return TripleDES(key).encrypt_ecb(x.to_bytes(8, "big"))


def verify_arpc_method1(key: bytes, arqc: bytes, arc: bytes, arpc: bytes) -> None:
    """Card side of method 1; :class:`InvalidMac` if ``arpc`` is wrong."""
    if not constant_time_equal(generate_arpc_method1(key, arqc, arc), bytes(arpc)):
        raise InvalidMac("ARPC does not verify")


def generate_arpc_method2(sk: bytes, arqc: bytes, csu: bytes, prop: bytes = b"") -> bytes:
    """ARPC method 2 (Book 2 §8.2.2): first 4 bytes of MAC alg 3 (padding 2) over ARQC || CSU || prop.

    ``csu`` is the 4-byte card status update, ``prop`` 0-8 bytes of proprietary authentication
    data; tag 91 is then ARPC || CSU || prop.
    """
    if len(arqc) != 8:
        raise CryptoError(f"ARQC must be 8 bytes, got {len(arqc)}")
    if len(csu) != 4:
        raise CryptoError(f"CSU must be 4 bytes, got {len(csu)}")
    if len(prop) > 8:
        raise CryptoError(f"proprietary authentication data must be 0-8 bytes, got {len(prop)}")
    return retail_mac(RetailMacKey(sk), bytes(arqc) + bytes(csu) + bytes(prop), padding=2)[:4]


def verify_arpc_method2(sk: bytes, arqc: bytes, csu: bytes, arpc: bytes, prop: bytes = b"") -> None:
    """Card side of method 2; :class:`InvalidMac` if ``arpc`` is wrong."""
    if not constant_time_equal(generate_arpc_method2(sk, arqc, csu, prop), bytes(arpc)):
        raise InvalidMac("ARPC does not verify")


def script_mac(sk_smi: bytes, header: bytes, data: bytes = b"", *, transaction_data: bytes = b"",
               length: int = 8) -> bytes:
    """Issuer script command MAC (Book 2 §9.2.3, A1.2.1): MAC alg 3, padding 2.

    MACed: ``header`` (CLA INS P1 P2 Lc, Lc counting the MAC) || ``transaction_data`` || ``data``.
    ``transaction_data`` is what the issuer adds without sending it (often ATC || ARQC); ``data``
    is the command data as sent (already enciphered when confidentiality applies). ``sk_smi``
    comes from :func:`derive_sm_session_key`. Returns ``length`` (4..8) bytes.
    """
    if len(header) != 5:
        raise CryptoError(f"command header must be CLA INS P1 P2 Lc (5 bytes), got {len(header)}")
    if not 4 <= length <= 8:
        raise CryptoError(f"script MAC length must be 4..8, got {length}")
    return retail_mac(RetailMacKey(sk_smi), bytes(header) + bytes(transaction_data) + bytes(data), padding=2)[:length]


class ScriptCipher(enum.Enum):
    """How issuer script data is enciphered (Book 2 §9.3, A1.1; variants as pyemv names them)."""

    EMV = "emv"  # 3DES-CBC, IV 0, always padding method 2
    CBC_PAD_IF_NEEDED = "mastercard"  # 3DES-CBC, padding method 2 only when not a block multiple
    ECB_LENGTH_PREFIXED = "visa"  # 3DES-ECB of (length byte || data), padding method 2


def script_encrypt(sk_smc: bytes, data: bytes, variant: ScriptCipher = ScriptCipher.EMV) -> bytes:
    """Encipher issuer script command data (e.g. a PIN block for PIN CHANGE) under the SMC session key."""
    k = TripleDES(sk_smc)
    if variant is ScriptCipher.EMV:
        return k.encrypt_cbc(pad_method_2(data))
    if variant is ScriptCipher.CBC_PAD_IF_NEEDED:
        return k.encrypt_cbc(bytes(data) if data and len(data) % 8 == 0 else pad_method_2(data))
    if variant is ScriptCipher.ECB_LENGTH_PREFIXED:
        if len(data) > 255:
            raise CryptoError("script data over 255 bytes cannot be length-prefixed")
        return k.encrypt_ecb(pad_method_2(bytes([len(data)]) + bytes(data)))
    raise CryptoError(f"unknown script cipher variant {variant!r}")


def script_decrypt(sk_smc: bytes, data: bytes, variant: ScriptCipher = ScriptCipher.EMV) -> bytes:
    """Card side of :func:`script_encrypt`.

    For ``CBC_PAD_IF_NEEDED`` the padding is ambiguous, so the deciphered blocks are returned
    as they are and the command's own format decides the length.
    """
    k = TripleDES(sk_smc)
    if variant is ScriptCipher.EMV:
        return unpad_method_2(k.decrypt_cbc(data))
    if variant is ScriptCipher.CBC_PAD_IF_NEEDED:
        return k.decrypt_cbc(data)
    if variant is ScriptCipher.ECB_LENGTH_PREFIXED:
        plain = unpad_method_2(k.decrypt_ecb(data))
        if not plain or plain[0] != len(plain) - 1:
            raise CryptoError("script data length prefix does not match")
        return plain[1:]
    raise CryptoError(f"unknown script cipher variant {variant!r}")


