"""GlobalPlatform secure channel cryptography: SCP03 (GP Card Spec 2.2 Amendment D) and SCP02
(GP Card Spec 2.2 Annex E). Pure functions only; the channel state machine (MCV, counters,
security level) lives with the GlobalPlatform client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit.crypto.hazmat._base import check_key_length, fixed_length
from cardkit.crypto.hazmat.ciphers import AES, DES, TripleDES, cached
from cardkit.crypto.hazmat.mac import RetailMacKey, cbc_mac, cmac, retail_mac
from cardkit.crypto.hazmat.padding import pad_method_2, unpad_method_2
from cardkit.errors import CryptoError

__all__ = (
    "SCP02_C_MAC",
    "SCP02_DEK",
    "SCP02_R_MAC",
    "SCP02_S_ENC",
    "Scp03SessionKeys",
    "derive_scp03_session_keys",
    "scp02_card_cryptogram",
    "scp02_command_mac",
    "scp02_host_cryptogram",
    "scp02_next_icv",
    "scp02_session_key",
    "scp03_card_cryptogram",
    "scp03_command_mac",
    "scp03_decrypt_response",
    "scp03_encrypt_command",
    "scp03_host_cryptogram",
    "scp03_kdf",
    "scp03_response_mac",
)

# SCP03 derivation constants (Amendment D §6.2.1, Table 6-1)
_CARD_CRYPTOGRAM = 0x00
_HOST_CRYPTOGRAM = 0x01
_S_ENC = 0x04
_S_MAC = 0x06
_S_RMAC = 0x07


def scp03_kdf(key: bytes, constant: int, context: bytes, length_bits: int) -> bytes:
    """NIST SP 800-108 KDF in counter mode with AES-CMAC, laid out as Amendment D §6.2.2.

    Each block: CMAC(key, 00*11 || constant || 00 || L (2 bytes, bits) || i (1 byte) || context).
    """
    check_key_length(key, (16, 24, 32), "SCP03")
    if length_bits % 8 or not 0 < length_bits <= 0xFFFF:
        raise CryptoError(f"KDF output length must be a positive number of bytes, got {length_bits} bits")
    n = (length_bits // 8 + 15) // 16
    head = bytes(11) + bytes([constant]) + b"\x00" + length_bits.to_bytes(2, "big")
    out = b"".join(cmac(key, head + bytes([i]) + bytes(context)) for i in range(1, n + 1))
    return out[: length_bits // 8]


@dataclass(frozen=True, slots=True)
class Scp03SessionKeys:
    """S-ENC, S-MAC and S-RMAC of one SCP03 session (repr hides the values)."""

    s_enc: bytes = field(repr=False)
    s_mac: bytes = field(repr=False)
    s_rmac: bytes = field(repr=False)


def derive_scp03_session_keys(k_enc: bytes, k_mac: bytes, host_challenge: bytes,
                              card_challenge: bytes) -> Scp03SessionKeys:
    """Session keys from the static keys and the INITIALIZE UPDATE challenges (§6.2.1), same length as the keys."""
    ctx = fixed_length(host_challenge, 8, "host challenge") + fixed_length(card_challenge, 8, "card challenge")
    bits = 8 * len(k_enc)
    return Scp03SessionKeys(
        s_enc=scp03_kdf(k_enc, _S_ENC, ctx, bits),
        s_mac=scp03_kdf(k_mac, _S_MAC, ctx, 8 * len(k_mac)),
        s_rmac=scp03_kdf(k_mac, _S_RMAC, ctx, 8 * len(k_mac)),
    )


def scp03_card_cryptogram(s_mac: bytes, host_challenge: bytes, card_challenge: bytes) -> bytes:
    """Card cryptogram (§6.2.2.2): KDF(S-MAC, 00, host || card challenge, 64 bits)."""
    return scp03_kdf(s_mac, _CARD_CRYPTOGRAM, bytes(host_challenge) + bytes(card_challenge), 64)


def scp03_host_cryptogram(s_mac: bytes, host_challenge: bytes, card_challenge: bytes) -> bytes:
    """Host cryptogram (§6.2.2.3): KDF(S-MAC, 01, host || card challenge, 64 bits)."""
    return scp03_kdf(s_mac, _HOST_CRYPTOGRAM, bytes(host_challenge) + bytes(card_challenge), 64)


def scp03_command_mac(s_mac: bytes, mcv: bytes, header: bytes, data: bytes) -> tuple[bytes, bytes]:
    """C-MAC of one command (§6.2.4): returns (8-byte C-MAC to append, 16-byte new MCV).

    ``header`` is CLA INS P1 P2 of the plain command; CLA gets the secure-messaging bit (04) and Lc
    counts the MAC. ``data`` is the command data as sent (already C-DEC enciphered if applicable).
    """
    h = fixed_length(header, 4, "command header (CLA INS P1 P2)")
    lc = len(data) + 8
    if lc > 255:
        raise CryptoError("command data too long for a short APDU with C-MAC")
    full = cmac(s_mac, fixed_length(mcv, 16, "MAC chaining value") + bytes([h[0] | 0x04]) + h[1:] + bytes([lc]) + data)
    return full[:8], full


def scp03_response_mac(s_rmac: bytes, mcv: bytes, data: bytes, sw: bytes) -> bytes:
    """R-MAC (§6.2.5): first 8 bytes of CMAC(S-RMAC, MCV || response data || SW1 SW2)."""
    chained = fixed_length(mcv, 16, "MAC chaining value") + bytes(data) + fixed_length(sw, 2, "status word")
    return cmac(s_rmac, chained)[:8]


def _icv(s_enc: bytes, counter: int, response: bool) -> bytes:
    if not 0 < counter < 1 << 120:
        raise CryptoError(f"encryption counter out of range: {counter}")
    block = counter.to_bytes(16, "big")
    if response:
        block = b"\x80" + block[1:]
    return AES(s_enc).encrypt_ecb(block)


def scp03_encrypt_command(s_enc: bytes, counter: int, data: bytes) -> bytes:
    """C-DEC (§6.2.6): ICV = AES(S-ENC, counter as 16 bytes), data padded 80 00.., AES-CBC."""
    return AES(s_enc).encrypt_cbc(pad_method_2(data, 16), _icv(s_enc, counter, False))


def scp03_decrypt_response(s_enc: bytes, counter: int, data: bytes) -> bytes:
    """R-ENC (§6.2.7): ICV = AES(S-ENC, 80 || counter in 15 bytes), AES-CBC, strip 80 00.. padding."""
    return unpad_method_2(AES(s_enc).decrypt_cbc(bytes(data), _icv(s_enc, counter, True)), 16)


# --- SCP02 ---------------------------------------------------------------------------------

SCP02_C_MAC = 0x0101
SCP02_R_MAC = 0x0102
SCP02_DEK = 0x0181
SCP02_S_ENC = 0x0182


def scp02_session_key(static_key: bytes, constant: int, sequence_counter: bytes) -> bytes:
    """SCP02 session key (GP 2.2 E.4.1): 3DES-CBC(static key, constant || counter || 00*12), IV 0."""
    data = constant.to_bytes(2, "big") + fixed_length(sequence_counter, 2, "sequence counter") + bytes(12)
    return cached(TripleDES, static_key).encrypt_cbc(data)


def scp02_card_cryptogram(s_enc: bytes, host_challenge: bytes, sequence_counter: bytes,
                          card_challenge: bytes) -> bytes:
    """Card cryptogram (E.4.2.1): full 3DES MAC (CBC, padding 80) over host ch || counter || card ch(6)."""
    data = (fixed_length(host_challenge, 8, "host challenge") + fixed_length(sequence_counter, 2, "sequence counter")
            + fixed_length(card_challenge, 6, "card challenge"))
    return cbc_mac(TripleDES(s_enc), data, padding=2)


def scp02_host_cryptogram(s_enc: bytes, host_challenge: bytes, sequence_counter: bytes,
                          card_challenge: bytes) -> bytes:
    """Host cryptogram (E.4.2.2): full 3DES MAC over counter || card ch(6) || host ch."""
    data = (fixed_length(sequence_counter, 2, "sequence counter") + fixed_length(card_challenge, 6, "card challenge")
            + fixed_length(host_challenge, 8, "host challenge"))
    return cbc_mac(TripleDES(s_enc), data, padding=2)


def scp02_command_mac(s_mac: bytes, icv: bytes, header: bytes, data: bytes) -> bytes:
    """C-MAC (E.4.4): retail MAC (ISO 9797-1 alg 3) with S-MAC and ``icv`` over the modified
    header (CLA|04, Lc + 8) || data, padding 80. The first ICV of a session is 00*8."""
    h = fixed_length(header, 4, "command header (CLA INS P1 P2)")
    iv = fixed_length(icv, 8, "ICV")
    msg = bytes([h[0] | 0x04]) + h[1:] + bytes([len(data) + 8]) + bytes(data)
    padded = pad_method_2(msg)
    first = (int.from_bytes(iv, "big") ^ int.from_bytes(padded[:8], "big")).to_bytes(8, "big")
    return retail_mac(RetailMacKey(s_mac), first + padded[8:], padding=0)


def scp02_next_icv(s_mac: bytes, c_mac: bytes) -> bytes:
    """ICV for the next command with "ICV encryption" (i = 15/55): DES(S-MAC left half, previous C-MAC)."""
    return DES(bytes(s_mac[:8])).encrypt_ecb(fixed_length(c_mac, 8, "C-MAC"))
