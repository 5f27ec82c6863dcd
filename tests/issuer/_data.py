"""ICC data of one ARQC, as a field 55 would carry it, with the AC made by the raw crypto recipes."""

from __future__ import annotations

from cardkit.crypto.emv import derive_icc_master_key, derive_session_key, generate_ac
from cardkit.issuer.authorization import AC_DATA_TAGS
from cardkit.issuer.demo_keys import DEMO_PAN, demo_issuer

ISSUER = demo_issuer()
MK_AC = derive_icc_master_key(ISSUER.imk_ac, DEMO_PAN, 1)


def arqc_icc_data(atc: bytes = b"\x00\x07") -> dict[int, bytes]:
    """Field-55 style data of one ARQC, the AC computed by the raw recipes as a card does."""
    data = {
        0x9F02: bytes.fromhex("000000001250"), 0x9F03: bytes(6), 0x9F1A: bytes.fromhex("0156"),
        0x95: bytes.fromhex("0000008000"), 0x5F2A: bytes.fromhex("0156"), 0x9A: bytes.fromhex("261124"),
        0x9C: b"\x00", 0x9F37: bytes.fromhex("A1B2C3D4"), 0x82: bytes.fromhex("7D00"), 0x9F36: atc,
        0x9F10: bytes.fromhex("07010103A0A000") + bytes.fromhex("0A01") + bytes(9),
        0x5A: bytes.fromhex(DEMO_PAN + "F"), 0x5F34: b"\x01",
    }
    plain = b"".join(data[t] for t in AC_DATA_TAGS) + data[0x9F10][3:7]
    data[0x9F26] = generate_ac(derive_session_key(MK_AC, atc), plain)
    return data
