"""Hazardous-materials layer: raw ciphers, ISO 9797-1 padding and MACs, CMAC, key helpers.

Everything here makes the caller choose algorithms, modes and paddings. Prefer the task-level
recipes in :mod:`cardkit.crypto` (EMV, PIN blocks, purse, GlobalPlatform, ICAO), which choose
for you (STYLE §9).
"""

from cardkit.crypto.hazmat._base import AlreadyFinalized, InvalidMac, constant_time_equal, xor
from cardkit.crypto.hazmat.ciphers import AES, DES, SM4, BlockCipher, TripleDES, cached, clear_cache
from cardkit.crypto.hazmat.keys import (
    adjust_parity,
    diversify_3des,
    emv_common_session_key,
    has_odd_parity,
    kcv,
)
from cardkit.crypto.hazmat.mac import CbcMac, Cmac, RetailMac, RetailMacKey, cbc_mac, cmac, retail_mac
from cardkit.crypto.hazmat.padding import pad_method_1, pad_method_2, unpad_method_2

__all__ = (
    "AES",
    "DES",
    "SM4",
    "AlreadyFinalized",
    "BlockCipher",
    "CbcMac",
    "Cmac",
    "InvalidMac",
    "RetailMac",
    "RetailMacKey",
    "TripleDES",
    "adjust_parity",
    "cached",
    "cbc_mac",
    "clear_cache",
    "cmac",
    "constant_time_equal",
    "diversify_3des",
    "emv_common_session_key",
    "has_odd_parity",
    "kcv",
    "pad_method_1",
    "pad_method_2",
    "retail_mac",
    "unpad_method_2",
    "xor",
)
