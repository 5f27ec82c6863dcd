"""What both sides of an issuance agree on: the issuer security domain, cardkit's load files, and
the GlobalPlatform life cycle codes the card keeps and the client reads.

The simulated card keeps its application code "in ROM" as GlobalPlatform executable load files, one
module each. Their AIDs sit under ``F0 63 61 72 64 6B 69 74`` ("cardkit" after an F0 byte: ISO 7816-5
category F, an unregistered proprietary RID), so they can never clash with a registered one.
Data preparation (host side) names them in INSTALL [for install]; the card manager (card side) maps
them to applet classes. ``cardkit`` may not import ``applets``, hence this shared module.
"""

from __future__ import annotations

import enum

__all__ = [
    "LOCKED_BIT",
    "AppLifeCycle",
    "CardLifeCycle",
    "BANK_LOAD_FILE",
    "BANK_MODULE",
    "EID_LOAD_FILE",
    "EID_MODULE",
    "ISD_AID",
    "LOAD_FILE_MODULES",
    "PPSE_LOAD_FILE",
    "PPSE_MODULE",
    "PSE_LOAD_FILE",
    "PSE_MODULE",
    "SOCIAL_LOAD_FILE",
    "SOCIAL_MODULE",
    "TRANSIT_LOAD_FILE",
    "TRANSIT_MODULE",
]

#: The issuer security domain (the GlobalPlatform card manager), as on most GP cards.
ISD_AID = bytes.fromhex("A000000151000000")

_RID = bytes.fromhex("F0636172646B6974")  # F0 || "cardkit"

BANK_LOAD_FILE = _RID + b"\x01"
TRANSIT_LOAD_FILE = _RID + b"\x02"
EID_LOAD_FILE = _RID + b"\x03"
SOCIAL_LOAD_FILE = _RID + b"\x04"
PSE_LOAD_FILE = _RID + b"\x05"
PPSE_LOAD_FILE = _RID + b"\x06"

BANK_MODULE = BANK_LOAD_FILE + b"\x01"
TRANSIT_MODULE = TRANSIT_LOAD_FILE + b"\x01"
EID_MODULE = EID_LOAD_FILE + b"\x01"
SOCIAL_MODULE = SOCIAL_LOAD_FILE + b"\x01"
PSE_MODULE = PSE_LOAD_FILE + b"\x01"
PPSE_MODULE = PPSE_LOAD_FILE + b"\x01"

#: load file AID -> its module AIDs
LOAD_FILE_MODULES: dict[bytes, tuple[bytes, ...]] = {
    BANK_LOAD_FILE: (BANK_MODULE,),
    TRANSIT_LOAD_FILE: (TRANSIT_MODULE,),
    EID_LOAD_FILE: (EID_MODULE,),
    SOCIAL_LOAD_FILE: (SOCIAL_MODULE,),
    PSE_LOAD_FILE: (PSE_MODULE,),
    PPSE_LOAD_FILE: (PPSE_MODULE,),
}


class CardLifeCycle(enum.IntEnum):
    """The card's life cycle, kept as the ISD's state (GP 2.3 §5.1.1, Table 11-5)."""

    OP_READY = 0x01
    INITIALIZED = 0x07
    SECURED = 0x0F
    CARD_LOCKED = 0x7F
    TERMINATED = 0xFF


class AppLifeCycle(enum.IntEnum):
    """Application states (GP 2.3 §5.3, Table 11-6; PERSONALIZED is the application-specific state
    cardkit's applications use). A locked application keeps its state with :data:`LOCKED_BIT` set:
    ``LOCKED`` is that bit on SELECTABLE, the usual case (83)."""

    INSTALLED = 0x03
    SELECTABLE = 0x07
    PERSONALIZED = 0x0F
    LOCKED = 0x83


#: b8 of an application's life cycle: locked (83, 87, 8F)
LOCKED_BIT = 0x80
