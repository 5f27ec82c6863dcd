"""cardkit: a toolkit for the unified citizen card (ID, social insurance, bank and transit on one chip).

The host-side library and the primitives the card side shares. Start with
:mod:`cardkit.apdu`, :mod:`cardkit.tlv` and :mod:`cardkit.readers`.
"""

__version__ = "0.1.0"
