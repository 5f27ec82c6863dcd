"""What data preparation needs from an issuer: its master keys, its RSA key and certificate."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.oda import Capk, IssuerCertificate

__all__ = ["IssuerKeys"]


@dataclass(frozen=True)
class IssuerKeys:
    """One issuer's keys for the bank application.

    The master keys are 3DES (16 bytes); ``capk`` is the CA key the certificate verifies under,
    which tells data preparation the CAPK index (8F) to put on the card. ``repr`` shows only
    check values, never a key.
    """

    imk_ac: bytes = field(repr=False)
    imk_smi: bytes = field(repr=False)
    imk_smc: bytes = field(repr=False)
    rsa_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: IssuerCertificate = field(repr=False)
    capk: Capk = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("imk_ac", "imk_smi", "imk_smc"):
            if len(getattr(self, name)) != 16:
                raise ValueError(f"issuer master key {name} must be 16 bytes (3DES)")

    def __repr__(self) -> str:
        kcvs = ", ".join(f"{n}=KCV {kcv(getattr(self, n)).hex().upper()}" for n in ("imk_ac", "imk_smi", "imk_smc"))
        return f"IssuerKeys({kcvs}, capk={self.capk.rid.hex().upper()}/{self.capk.index:02X})"
