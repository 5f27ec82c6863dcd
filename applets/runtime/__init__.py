"""The card runtime ("card OS") every cardkit applet runs on.

:class:`SimulatedCard` takes command APDUs and returns response APDUs: ATR and contactless
identity, CLA decoding, logical channels, SELECT routing, a persistent :class:`Store` with atomic
transactions and tear injection, an ISO 7816-4 file system with access conditions and PINs, and the
card image file (:func:`save_card` / :func:`load_card`). See ``docs/runtime.md``.
"""

from applets.runtime.applet import (
    Applet,
    CommandContext,
    applet_from_config,
    applet_type,
    fci,
    register_applet,
    status,
)
from applets.runtime.atr import AtrInfo, ContactlessIdentity, parse_atr
from applets.runtime.blank import (
    fixed_dgi,
    install_personalized,
    list_application,
    listed_applications,
    new_blank_card,
    unlist_application,
)
from applets.runtime.card import SimulatedCard
from applets.runtime.fs import (
    ALWAYS,
    KEY,
    NEVER,
    PIN,
    Access,
    FileInfo,
    FileSystem,
    FsSession,
    Structure,
)
from applets.runtime.fscmd import process_file_command
from applets.runtime.gate import CardGate
from applets.runtime.image import IMAGE_FORMAT, IMAGE_VERSION, load_card, save_card
from applets.runtime.mf import MF_AID, FileSystemApplet
from applets.runtime.pin import Pins
from applets.runtime.store import PowerLoss, Store, StoreView, TransactionError

__all__ = [
    "ALWAYS",
    "IMAGE_FORMAT",
    "IMAGE_VERSION",
    "KEY",
    "MF_AID",
    "NEVER",
    "PIN",
    "Access",
    "Applet",
    "AtrInfo",
    "CardGate",
    "CommandContext",
    "ContactlessIdentity",
    "FileInfo",
    "FileSystem",
    "FileSystemApplet",
    "FsSession",
    "Pins",
    "PowerLoss",
    "SimulatedCard",
    "Store",
    "StoreView",
    "Structure",
    "TransactionError",
    "applet_from_config",
    "applet_type",
    "fci",
    "fixed_dgi",
    "install_personalized",
    "list_application",
    "listed_applications",
    "load_card",
    "new_blank_card",
    "parse_atr",
    "process_file_command",
    "register_applet",
    "save_card",
    "status",
    "unlist_application",
]
