"""The GlobalPlatform client: secure channels (SCP03, SCP02), the registry, keys and card content.

Works the same on the simulated card manager and on a real GlobalPlatform card in a PC/SC reader::

    from cardkit.gp import StaticKeys, Scope, open_secure_channel, get_status
    from cardkit.readers import CardChannel, open_reader

    with open_reader("pcsc:0").connect() as conn:
        session = open_secure_channel(CardChannel(conn), StaticKeys.default(kvn=0x30))
        for entry in get_status(session, Scope.APPLICATIONS):
            print(entry.aid.hex(), entry.state)

Modules: ``_session`` (:func:`open_secure_channel`, :class:`GpSession`), ``_keys``
(:class:`StaticKeys`, :func:`diversify_emv`), ``_registry`` (GET STATUS, life cycles),
``_data`` (GET DATA: CPLC, key information, card data), ``_commands`` (PUT KEY, DELETE,
INSTALL, STORE DATA, SET STATUS). See docs/gp.md.
"""

from cardkit.cardaids import ISD_AID
from cardkit.gp._commands import (
    delete,
    delete_key,
    encode_dgis,
    install_data,
    install_for_install,
    install_for_personalization,
    put_key,
    put_key_data,
    set_status,
    split_blocks,
    store_data,
)
from cardkit.gp._data import (
    CardData,
    Cplc,
    CplcDate,
    KeyInfo,
    get_card_data,
    get_cplc,
    get_data,
    get_key_information,
    parse_card_data,
    parse_cplc,
    parse_key_information,
)
from cardkit.gp._errors import GpError
from cardkit.gp._keys import DEFAULT_KEY, StaticKeys, SupportsEncryptEcb, diversify_emv, key_check_value
from cardkit.gp._registry import (
    AppLifeCycle,
    CardLifeCycle,
    RegistryEntry,
    Scope,
    get_status,
    life_cycle_name,
    parse_status,
    privilege_names,
)
from cardkit.gp._session import GpSession, SecurityLevel, open_secure_channel, select_aid

__all__ = [
    "DEFAULT_KEY",
    "ISD_AID",
    "AppLifeCycle",
    "CardData",
    "CardLifeCycle",
    "Cplc",
    "CplcDate",
    "GpError",
    "GpSession",
    "KeyInfo",
    "RegistryEntry",
    "Scope",
    "SecurityLevel",
    "StaticKeys",
    "SupportsEncryptEcb",
    "delete",
    "delete_key",
    "diversify_emv",
    "encode_dgis",
    "get_card_data",
    "get_cplc",
    "get_data",
    "get_key_information",
    "get_status",
    "install_data",
    "install_for_install",
    "install_for_personalization",
    "key_check_value",
    "life_cycle_name",
    "open_secure_channel",
    "parse_card_data",
    "parse_cplc",
    "parse_key_information",
    "parse_status",
    "privilege_names",
    "put_key",
    "put_key_data",
    "select_aid",
    "set_status",
    "split_blocks",
    "store_data",
]
