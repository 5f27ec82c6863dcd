"""Certification Authority public keys (CAPK): the model, a store, and test CAs.

A terminal holds the payment systems' CA public keys by RID and CA Public Key Index (tag 8F),
each with a SHA-1 checksum over ``RID || index || modulus || exponent`` that it checks when the
key is loaded (Book 2 §5.1 / §6.1, Annex B2; the CAPK data list of EMVCo's CA public key tables).

:func:`generate_test_ca` makes a CA for simulated cards and tests. Its keys are TEST keys made on
the spot: never load them into a live terminal and never use a real scheme's RID/index for them in
production data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.crypto.oda._errors import OdaError, OdaReason
from cardkit.crypto.oda._rsa import RsaPublic, int_bytes, sha1

__all__ = ["Capk", "CapkStore", "TestCa", "generate_test_ca"]

TEST_RID = bytes.fromhex("F000000001")  # a proprietary-range RID (ISO/IEC 7816-5 'F'): test only


@dataclass(frozen=True, slots=True)
class Capk:
    """One CA public key as a terminal stores it.

    ``checksum`` defaults to the computed one; give the published value to have it checked by
    :meth:`verify` (and by :meth:`CapkStore.add`).
    """

    rid: bytes
    index: int
    modulus: bytes
    exponent: bytes
    checksum: bytes = b""
    expiry: date | None = None  # last day the key may be used; None: no expiry configured

    def __post_init__(self) -> None:
        if len(self.rid) != 5:
            raise ValueError("RID is 5 bytes")
        if not 0 <= self.index <= 0xFF:
            raise ValueError("CA public key index is one byte")
        RsaPublic(self.modulus, self.exponent)  # validates
        if not self.checksum:
            object.__setattr__(self, "checksum", self.computed_checksum())

    @property
    def key(self) -> RsaPublic:
        """The public key for the recovery function."""
        return RsaPublic(self.modulus, self.exponent)

    def computed_checksum(self) -> bytes:
        """SHA-1 over RID || index || modulus || exponent (Book 2 Annex B2, CAPK check sum)."""
        return sha1(self.rid, bytes((self.index,)), self.modulus, self.exponent)

    def verify(self, today: date | None = None) -> None:
        """Check the checksum and, given ``today``, the expiry.

        Raises:
            OdaError: CAPK_CHECKSUM or CAPK_EXPIRED.
        """
        name = f"{self.rid.hex().upper()}/{self.index:02X}"
        if self.checksum != self.computed_checksum():
            raise OdaError(OdaReason.CAPK_CHECKSUM, "§6.2 (CAPK check sum)", name)
        if today is not None and self.expiry is not None and today > self.expiry:
            raise OdaError(OdaReason.CAPK_EXPIRED, "§6.2 (CAPK expiry)", name)

    def to_json(self) -> dict[str, object]:
        return {
            "rid": self.rid.hex().upper(),
            "index": f"{self.index:02X}",
            "modulus": self.modulus.hex().upper(),
            "exponent": self.exponent.hex().upper(),
            "checksum": self.checksum.hex().upper(),
            "expiry": self.expiry.isoformat() if self.expiry else None,
        }

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Capk:
        """Inverse of :meth:`to_json` (hex strings; ``expiry`` ISO date or null)."""
        try:
            expiry = obj.get("expiry")
            return cls(
                rid=bytes.fromhex(str(obj["rid"])),
                index=int(str(obj["index"]), 16),
                modulus=bytes.fromhex(str(obj["modulus"])),
                exponent=bytes.fromhex(str(obj["exponent"])),
                checksum=bytes.fromhex(str(obj.get("checksum") or "")),
                expiry=date.fromisoformat(str(expiry)) if expiry else None,
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"bad CA public key entry: {exc}") from None


@dataclass
class CapkStore:
    """The terminal's CA public keys, by (RID, index)."""

    _keys: dict[tuple[bytes, int], Capk] = field(default_factory=dict)

    def add(self, capk: Capk) -> None:
        """Add or replace a key after checking its checksum.

        Raises:
            OdaError: CAPK_CHECKSUM.
        """
        capk.verify()
        self._keys[(capk.rid, capk.index)] = capk

    def get(self, rid: bytes, index: int, *, today: date | None = None) -> Capk:
        """The key for ``rid`` (the AID's first 5 bytes) and ``index`` (tag 8F).

        Raises:
            OdaError: CAPK_NOT_FOUND, or CAPK_EXPIRED when ``today`` is past the key's expiry.
        """
        capk = self._keys.get((bytes(rid[:5]), index))
        if capk is None:
            raise OdaError(OdaReason.CAPK_NOT_FOUND, "§6.2", f"{bytes(rid[:5]).hex().upper()}/{index:02X}")
        capk.verify(today)
        return capk

    def __iter__(self) -> Iterator[Capk]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def save(self, path: str | Path) -> None:
        """Write the keys as JSON (hex), sorted by RID and index."""
        items = [k.to_json() for _, k in sorted(self._keys.items())]
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps({"capk": items}, indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> CapkStore:
        """Read a file written by :meth:`save`; every checksum is checked.

        Raises:
            ValueError: not JSON or a malformed entry. OdaError: a wrong checksum.
        """
        try:
            data = json.loads(Path(path).read_text())
            entries = data["capk"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a CA public key file ({exc})") from None
        store = cls()
        for entry in entries:
            store.add(Capk.from_json(entry))
        return store


@dataclass(frozen=True)
class TestCa:
    """A TEST certification authority: its private key and the matching :class:`Capk`."""

    capk: Capk
    private_key: rsa.RSAPrivateKey = field(repr=False)


def generate_test_ca(
    bits: int = 1408, *, rid: bytes = TEST_RID, index: int = 0xF1, exponent: int = 3, expiry: date | None = None
) -> TestCa:
    """Generate a TEST CA key pair (never for live use).

    Args:
        bits: modulus length, a multiple of 8 from 1024 to 1984 (Book 2 §5.1: N_CA <= 248 bytes).
        rid, index: where terminals will find it; defaults are a proprietary test RID.
        exponent: 3 or 65537.
    """
    if bits % 8 or not 1024 <= bits <= 1984:
        raise ValueError("CA key length must be a multiple of 8 between 1024 and 1984 bits")
    key = rsa.generate_private_key(public_exponent=exponent, key_size=bits)
    n = key.public_key().public_numbers().n
    capk = Capk(rid, index, int_bytes(n), int_bytes(exponent), expiry=expiry)
    return TestCa(capk, key)
