"""The GlobalPlatform client's error: a refused or broken card management step."""

from __future__ import annotations

from cardkit.errors import ApplicationError

__all__ = ["GpError"]


class GpError(ApplicationError):
    """A GlobalPlatform operation failed: the card refused it (``sw`` set, e.g. 6300 from EXTERNAL
    AUTHENTICATE) or the host side found the fault (``sw`` is ``None``: a wrong card cryptogram, an
    R-MAC that does not verify, KCVs that do not match, data that cannot fit in the APDUs).

    Messages never carry key material, cryptograms or MACs: only KVNs, KCVs and status words.
    """
