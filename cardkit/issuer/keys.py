"""What data preparation needs from an issuer: its master keys, its RSA key and certificate."""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit.crypto.hazmat.keys import MasterKey, kcv, key_length
from cardkit.crypto.oda import Capk, IssuerCertificate, RsaSigningKey

__all__ = ["IssuerKeys"]


@dataclass(frozen=True)
class IssuerKeys:
    """One issuer's keys for the bank application.

    The master keys are 3DES (16 bytes), given by value or held by a keystore (an HSM never lets
    them out; the RSA key likewise only signs); ``capk`` is the CA key the certificate verifies
    under, which tells data preparation the CAPK index (8F) to put on the card. ``repr`` shows
    only check values, never a key.
    """

    imk_ac: MasterKey = field(repr=False)
    imk_smi: MasterKey = field(repr=False)
    imk_smc: MasterKey = field(repr=False)
    rsa_key: RsaSigningKey = field(repr=False)
    certificate: IssuerCertificate = field(repr=False)
    capk: Capk = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("imk_ac", "imk_smi", "imk_smc"):
            if key_length(getattr(self, name)) != 16:
                raise ValueError(f"issuer master key {name} must be 16 bytes (3DES)")

    def __repr__(self) -> str:
        kcvs = ", ".join(f"{n}=KCV {_kcv(getattr(self, n)).hex().upper()}" for n in ("imk_ac", "imk_smi", "imk_smc"))
        return f"IssuerKeys({kcvs}, capk={self.capk.rid.hex().upper()}/{self.capk.index:02X})"


def _kcv(key: MasterKey) -> bytes:
    return kcv(key) if isinstance(key, (bytes, bytearray)) else key.encrypt_ecb(bytes(8))[:3]
