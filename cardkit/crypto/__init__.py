"""Card cryptography: task-level recipes over the raw primitives in :mod:`cardkit.crypto.hazmat`.

Recipes make the algorithm choices (STYLE §9): EMV key derivation, cryptograms and issuer script
secure messaging (:mod:`~cardkit.crypto.emv`), ISO 9564 PIN blocks (:mod:`~cardkit.crypto.pin`),
the PBOC electronic purse (:mod:`~cardkit.crypto.purse`), GlobalPlatform SCP03/SCP02
(:mod:`~cardkit.crypto.gp`), ICAO 9303 BAC (:mod:`~cardkit.crypto.icao`) and EMV offline data
authentication with RSA certificates (:mod:`~cardkit.crypto.oda`). Errors are
:class:`cardkit.errors.CryptoError`; their messages never carry key bytes, PINs or PIN blocks.
See docs/crypto.md and docs/oda.md.
"""

from cardkit.crypto import emv, gp, hazmat, icao, oda, pin, purse

__all__ = ["emv", "gp", "hazmat", "icao", "oda", "pin", "purse"]
