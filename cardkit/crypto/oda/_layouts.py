"""The recovered-data layouts of EMV 4.4 Book 2, declared once for both directions.

Each ``Struct`` is parsed by the terminal (after the recovery function) and built by the signer
(before the private operation). ``n`` is the length of the signing key's modulus in bytes, passed
as a context parameter: ``ISSUER_CERT.parse(block, n=len(block))``.
"""

from __future__ import annotations

from construct import Bytes, Int8ub, Struct, this  # type: ignore[import-untyped]

HEADER = 0x6A
TRAILER = 0xBC
PAD = 0xBB

FORMAT_ISSUER_CERT = 0x02
FORMAT_SSAD = 0x03
FORMAT_ICC_CERT = 0x04
FORMAT_SDAD = 0x05

# Book 2 Table 13 (§6.3): Issuer Public Key Certificate, recovered with the CA public key.
# The hashed data is fields format..pk_part (block[1:n-21]) || remainder || exponent.
ISSUER_CERT = Struct(
    "header" / Int8ub,
    "format" / Int8ub,
    "issuer_id" / Bytes(4),  # cn 8: leftmost 3-8 PAN digits, 'F'-padded
    "expiry" / Bytes(2),  # n 4: MMYY
    "serial" / Bytes(3),
    "hash_algorithm" / Int8ub,
    "pk_algorithm" / Int8ub,
    "pk_length" / Int8ub,  # N_I
    "exponent_length" / Int8ub,
    "pk_part" / Bytes(this._params.n - 36),  # leftmost digits of the key, or key || 'BB' padding
    "hash" / Bytes(20),
    "trailer" / Int8ub,
)
ISSUER_CERT_FIXED = 36  # header 15 bytes + hash 20 + trailer 1

# Book 2 Table 14 (§6.4): ICC Public Key Certificate, recovered with the issuer public key.
# The hashed data is format..pk_part || remainder || exponent || static data to be authenticated.
ICC_CERT = Struct(
    "header" / Int8ub,
    "format" / Int8ub,
    "pan" / Bytes(10),  # cn 20: application PAN, 'F'-padded
    "expiry" / Bytes(2),
    "serial" / Bytes(3),
    "hash_algorithm" / Int8ub,
    "pk_algorithm" / Int8ub,
    "pk_length" / Int8ub,  # N_IC
    "exponent_length" / Int8ub,
    "pk_part" / Bytes(this._params.n - 42),
    "hash" / Bytes(20),
    "trailer" / Int8ub,
)
ICC_CERT_FIXED = 42

# Book 2 Table 7 (§5.4): Signed Static Application Data, recovered with the issuer public key.
# The hashed data is format..pad || static data to be authenticated.
SSAD = Struct(
    "header" / Int8ub,
    "format" / Int8ub,
    "hash_algorithm" / Int8ub,
    "dac" / Bytes(2),  # Data Authentication Code, 9F45
    "pad" / Bytes(this._params.n - 26),
    "hash" / Bytes(20),
    "trailer" / Int8ub,
)

# Book 2 Table 17 (§6.5.2, and §6.6.2 for CDA): Signed Dynamic Application Data, recovered with
# the ICC public key. The hashed data is format..pad || DDOL data (DDA) or || 9F37 (CDA).
SDAD = Struct(
    "header" / Int8ub,
    "format" / Int8ub,
    "hash_algorithm" / Int8ub,
    "dynamic_length" / Int8ub,  # L_DD
    "dynamic_and_pad" / Bytes(this._params.n - 25),  # ICC dynamic data (L_DD) || 'BB' padding
    "hash" / Bytes(20),
    "trailer" / Int8ub,
)
SDAD_FIXED = 25
