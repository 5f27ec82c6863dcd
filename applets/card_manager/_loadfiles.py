"""The executable load files this card keeps "in ROM": cardkit's applications, one module each.

INSTALL [for install] names a load file and module from this table (AIDs of
:mod:`cardkit.cardaids`, which data preparation uses too); the card manager creates the instance
with the module's factory and, on the last STORE DATA block, checks the DGI map with the
application's own ``parse_dgis`` before personalizing it. The application packages are imported
on first use, so importing the card manager stays cheap and free of cycles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from applets.runtime import Applet
from cardkit import cardaids
from cardkit.errors import ProfileError

__all__ = ["LOAD_FILES", "LoadFile", "load_file", "module_of"]


@dataclass(frozen=True, slots=True)
class LoadFile:
    """One executable load file with its single executable module.

    Attributes:
        aid: the load file AID.
        module: the module AID (INSTALL names both).
        name: a short name for logs and docs.
        factory: ``(instance AID, C9 install parameters) -> Applet``; raises ``ProfileError`` for
            parameters it does not take.
        validate: the application's DGI map check (its ``parse_dgis``); raises ``ProfileError``.
        list_in_dir: a personalized instance is listed in EF.DIR (not the PSE/PPSE directories).
    """

    aid: bytes
    module: bytes
    name: str
    factory: Callable[[bytes, bytes], Applet]
    validate: Callable[[Mapping[int, bytes]], object]
    list_in_dir: bool = True


def _no_parameters(name: str, params: bytes) -> None:
    if params:
        raise ProfileError(f"the {name} application takes no install parameters (C9 must be empty)")


def _bank(aid: bytes, params: bytes) -> Applet:
    from applets.bank import BankApplet

    _no_parameters("bank", params)
    return BankApplet(aid)


def _bank_dgis(dgis: Mapping[int, bytes]) -> object:
    from applets.bank import parse_dgis

    return parse_dgis(dgis)


def _transit(aid: bytes, params: bytes) -> Applet:
    from applets.transit import TransitApplet

    _no_parameters("transit", params)
    return TransitApplet(aid)


def _transit_dgis(dgis: Mapping[int, bytes]) -> object:
    from applets.transit.profile import parse_dgis

    return parse_dgis(dgis)


def _eid(aid: bytes, params: bytes) -> Applet:
    from applets.eid import EidApplet

    _no_parameters("ID", params)
    return EidApplet(aid)


def _eid_dgis(dgis: Mapping[int, bytes]) -> object:
    from applets.eid.profile import parse_dgis

    return parse_dgis(dgis)


def _social(aid: bytes, params: bytes) -> Applet:
    from applets.social import SocialApplet

    _no_parameters("social insurance", params)
    return SocialApplet(aid)


def _social_dgis(dgis: Mapping[int, bytes]) -> object:
    from applets.social.profile import parse_dgis

    return parse_dgis(dgis)


def _pse(aid: bytes, params: bytes) -> Applet:
    from applets.bank import PseApplet

    _no_parameters("PSE", params)
    return PseApplet(aid)


def _ppse(aid: bytes, params: bytes) -> Applet:
    from applets.bank import PpseApplet

    _no_parameters("PPSE", params)
    return PpseApplet(aid)


def _directory_dgis(dgis: Mapping[int, bytes]) -> object:
    from applets.bank.directory import parse_directory_dgis

    return parse_directory_dgis(dgis)


#: load file AID -> the load file, in the order GET STATUS lists them
LOAD_FILES: dict[bytes, LoadFile] = {
    lf.aid: lf
    for lf in (
        LoadFile(cardaids.BANK_LOAD_FILE, cardaids.BANK_MODULE, "bank", _bank, _bank_dgis),
        LoadFile(cardaids.TRANSIT_LOAD_FILE, cardaids.TRANSIT_MODULE, "transit", _transit, _transit_dgis),
        LoadFile(cardaids.EID_LOAD_FILE, cardaids.EID_MODULE, "eid", _eid, _eid_dgis),
        LoadFile(cardaids.SOCIAL_LOAD_FILE, cardaids.SOCIAL_MODULE, "social", _social, _social_dgis),
        LoadFile(cardaids.PSE_LOAD_FILE, cardaids.PSE_MODULE, "pse", _pse, _directory_dgis, list_in_dir=False),
        LoadFile(cardaids.PPSE_LOAD_FILE, cardaids.PPSE_MODULE, "ppse", _ppse, _directory_dgis, list_in_dir=False),
    )
}


def load_file(aid: bytes) -> LoadFile | None:
    return LOAD_FILES.get(bytes(aid))


def module_of(load_file_aid: bytes, module_aid: bytes) -> LoadFile | None:
    """The load file if ``module_aid`` is one of its modules, else ``None``."""
    lf = LOAD_FILES.get(bytes(load_file_aid))
    return lf if lf is not None and lf.module == bytes(module_aid) else None
