"""The GlobalPlatform card manager (issuer security domain) of the simulated card (docs/card-manager.md).

* :class:`CardManager` (applet type ``"card-manager"``, AID ``A000000151000000``): SCP03 (i=70)
  and SCP02 (i=55) secure channels, key sets and PUT KEY, GET DATA (CPLC, card data, key
  information, IIN, CIN), GET STATUS, SET STATUS, INSTALL, DELETE, STORE DATA to personalize
  applications, and the card-wide life-cycle gate.
* :data:`LOAD_FILES`: the executable load files "in ROM" (cardkit's applications), by load file AID.
* :class:`KeySet`, :class:`Cplc`: the values a card manager is made from.
"""

from applets.card_manager._applet import CardManager, Session
from applets.card_manager._codes import APPLET_SELECT_FAILED, LOCKED_BIT, MORE_DATA, AppLifeCycle, CardLifeCycle
from applets.card_manager._cplc import Cplc
from applets.card_manager._keys import DEFAULT_KEY, KeySet, KeyType, default_key_sets, key_check_value
from applets.card_manager._loadfiles import LOAD_FILES, LoadFile
from applets.card_manager._registry import RegistryEntry
from applets.card_manager._scp import SCP02_I, SCP03_I, SL_C_DEC, SL_C_MAC, SL_R_ENC, SL_R_MAC
from cardkit.cardaids import (
    BANK_LOAD_FILE,
    BANK_MODULE,
    EID_LOAD_FILE,
    EID_MODULE,
    ISD_AID,
    PPSE_LOAD_FILE,
    PPSE_MODULE,
    PSE_LOAD_FILE,
    PSE_MODULE,
    SOCIAL_LOAD_FILE,
    SOCIAL_MODULE,
    TRANSIT_LOAD_FILE,
    TRANSIT_MODULE,
)

__all__ = [
    "APPLET_SELECT_FAILED",
    "BANK_LOAD_FILE",
    "BANK_MODULE",
    "DEFAULT_KEY",
    "EID_LOAD_FILE",
    "EID_MODULE",
    "ISD_AID",
    "LOAD_FILES",
    "MORE_DATA",
    "PPSE_LOAD_FILE",
    "PPSE_MODULE",
    "PSE_LOAD_FILE",
    "PSE_MODULE",
    "SCP02_I",
    "SCP03_I",
    "SL_C_DEC",
    "SL_C_MAC",
    "SL_R_ENC",
    "SL_R_MAC",
    "SOCIAL_LOAD_FILE",
    "SOCIAL_MODULE",
    "TRANSIT_LOAD_FILE",
    "TRANSIT_MODULE",
    "AppLifeCycle",
    "LOCKED_BIT",
    "CardLifeCycle",
    "CardManager",
    "Cplc",
    "KeySet",
    "KeyType",
    "LoadFile",
    "RegistryEntry",
    "Session",
    "default_key_sets",
    "key_check_value",
]
