"""An issuer: its keys in a keystore, its public material and settings in a directory.

``cardkit issuer init DIR`` makes one (:func:`init_issuer`); everything that issues cards opens it
(:meth:`Issuer.open`). The directory holds::

    issuer.toml      settings: name, number ranges, validity, which keystore (no secrets)
    keystore.json    the file keystore (scrypt + AES-GCM, mode 0600) -- absent with PKCS#11
    capk.json        the test CA public key terminals need for ODA (a CapkStore file)
    issuer-cert.json the issuer public key certificate (tags 90, 92, 9F32) from that CA
    csca.pem         the country signing CA certificate (ID application, ICAO 9303-12)
    ds.pem           the document signer certificate, issued by the CSCA
    numbers.db       which PANs, serials and document numbers are taken (never reused)

Keys live only in the keystore, under the names of :data:`KEY_NAMES`; with PKCS#11 the secret and
private keys are generated on the token and never leave it. :meth:`Issuer.demo` is the same object
over the published demo keys (in memory), which is how ``card new --demo`` issues its card.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from cardkit.crypto.oda import Capk, CapkStore, IssuerCertificate, RsaPublic, make_issuer_certificate
from cardkit.errors import ProfileError
from cardkit.issuer._files import write_atomically
from cardkit.issuer.demo_keys import DEMO_ISSUER_ID
from cardkit.issuer.eid_sod import DocumentSigner
from cardkit.issuer.keys import IssuerKeys
from cardkit.issuer.keystore import (
    EcKey,
    FileKeystore,
    Keystore,
    KeystoreError,
    KeystoreRef,
    MemoryKeystore,
    Pkcs11Keystore,
    SecretKey,
    open_keystore,
)
from cardkit.issuer.numbers import NumberRegistry

__all__ = ["KEY_NAMES", "Issuer", "IssuerSettings", "init_issuer"]

#: Every key an issuer holds: name -> (kind, algorithm, what it is for).
KEY_NAMES: dict[str, tuple[str, str, str]] = {
    "emv.imk.ac": ("secret", "3des", "bank: issuer master key for application cryptograms"),
    "emv.imk.smi": ("secret", "3des", "bank: issuer master key for secure messaging integrity"),
    "emv.imk.smc": ("secret", "3des", "bank: issuer master key for secure messaging confidentiality"),
    "emv.issuer": ("rsa", "1152", "bank: issuer RSA key (certifies ICC keys, signs static data)"),
    "emv.ca": ("rsa", "1408", "bank: the TEST certification authority that certified the issuer key"),
    "purse.mlk": ("secret", "3des", "transit: purse load master key"),
    "purse.mpk": ("secret", "3des", "transit: purse purchase master key"),
    "purse.mtk": ("secret", "3des", "transit: purse TAC master key"),
    "social.mak": ("secret", "3des", "social insurance: terminal authentication master key"),
    "social.mpk": ("secret", "3des", "social insurance: payment master key"),
    "social.mtk": ("secret", "3des", "social insurance: TAC master key"),
    "social.muk": ("secret", "3des", "social insurance: PIN unblock master key"),
    "gp.kmc": ("secret", "aes", "card manager: master key the cards' SCP03 keys are diversified from"),
    "eid.csca": ("ec", "P-256", "ID: the TEST country signing CA"),
    "eid.ds": ("ec", "P-256", "ID: the document signer (signs EF.SOD)"),
}

SETTINGS_FILE = "issuer.toml"
KEYSTORE_FILE = "keystore.json"
CAPK_FILE = "capk.json"
ISSUER_CERT_FILE = "issuer-cert.json"
CSCA_FILE = "csca.pem"
DS_FILE = "ds.pem"
NUMBERS_FILE = "numbers.db"


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    """What ``issuer.toml`` says (number ranges, validity, names); it holds no secret."""

    name: str = "cardkit TEST issuer"
    country: str = "CN"
    bin: str = "622848"  # the bank IIN the issuer certificate is valid for
    pan_length: int = 19
    capk_rid: bytes = bytes.fromhex("A000000333")
    capk_index: int = 0xF2
    bank_validity_years: int = 5
    transit_issuer_id: bytes = bytes.fromhex("3100000000000000")
    transit_serial_prefix: str = "3100"  # 20-digit transit serials start with it
    transit_validity_years: int = 5
    social_region: str = "110105"  # default issuing region (GB/T 2260)
    social_validity_years: int = 10
    id_document_prefix: str = "E"  # document numbers: prefix + digits, 9 characters
    id_validity_years: int = 10
    card_serial_prefix: str = "8986"  # ICCID digits of the physical card
    keystore: KeystoreRef = field(default_factory=lambda: KeystoreRef("file", path=KEYSTORE_FILE))

    def __post_init__(self) -> None:
        if not (self.bin.isdigit() and 6 <= len(self.bin) <= 8):
            raise ProfileError(f"{SETTINGS_FILE}: bank.bin must be 6 to 8 digits")
        if not 13 <= self.pan_length <= 19 or self.pan_length - len(self.bin) < 4:
            raise ProfileError(f"{SETTINGS_FILE}: bank.pan_length must be 13..19 with room for a sequence")
        if not (self.transit_serial_prefix.isdigit() and len(self.transit_serial_prefix) <= 8):
            raise ProfileError(f"{SETTINGS_FILE}: transit.serial_prefix must be up to 8 digits")
        if not (self.social_region.isdigit() and len(self.social_region) == 6):
            raise ProfileError(f"{SETTINGS_FILE}: social.region must be 6 digits")
        if not (self.id_document_prefix.isalpha() and self.id_document_prefix.isupper()
                and 1 <= len(self.id_document_prefix) <= 2):
            raise ProfileError(f"{SETTINGS_FILE}: id.document_prefix must be 1 or 2 letters A-Z")

    def to_toml(self) -> str:
        ks = self.keystore
        keystore = (f'backend = "file"\npath = "{ks.path}"\n' if ks.backend == "file" else
                    f'backend = "pkcs11"\nmodule = "{ks.module}"\ntoken = "{ks.token_label}"\n')
        return f"""# cardkit issuer settings (no secrets here: keys are in the keystore)
[issuer]
name = "{self.name}"
country = "{self.country}"

[keystore]
{keystore}
[bank]
bin = "{self.bin}"
pan_length = {self.pan_length}
capk_rid = "{self.capk_rid.hex().upper()}"
capk_index = "{self.capk_index:02X}"
validity_years = {self.bank_validity_years}

[transit]
issuer_id = "{self.transit_issuer_id.hex().upper()}"
serial_prefix = "{self.transit_serial_prefix}"
validity_years = {self.transit_validity_years}

[social]
region = "{self.social_region}"
validity_years = {self.social_validity_years}

[id]
document_prefix = "{self.id_document_prefix}"
validity_years = {self.id_validity_years}

[card]
serial_prefix = "{self.card_serial_prefix}"
"""

    @classmethod
    def from_toml(cls, text: str, source: str = SETTINGS_FILE) -> IssuerSettings:
        """Parse ``issuer.toml``; an unknown or malformed key is a :class:`ProfileError` naming it."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{source}: {exc}") from None
        known = {"issuer": {"name", "country"}, "keystore": {"backend", "path", "module", "token"},
                 "bank": {"bin", "pan_length", "capk_rid", "capk_index", "validity_years"},
                 "transit": {"issuer_id", "serial_prefix", "validity_years"},
                 "social": {"region", "validity_years"}, "id": {"document_prefix", "validity_years"},
                 "card": {"serial_prefix"}}
        for section, values in doc.items():
            if section not in known or not isinstance(values, dict):
                raise ProfileError(f"{source}: unknown section [{section}]")
            for key in values:
                if key not in known[section]:
                    raise ProfileError(f"{source}: unknown key {section}.{key}")

        def get(section: str, key: str, kind: type, default: Any) -> Any:
            value = doc.get(section, {}).get(key, default)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ProfileError(f"{source}: {section}.{key} must be a {kind.__name__}")
            return value

        def hexbytes(section: str, key: str, default: bytes, length: int) -> bytes:
            text = get(section, key, str, default.hex())
            try:
                value = bytes.fromhex(text)
            except ValueError:
                raise ProfileError(f"{source}: {section}.{key} must be hex") from None
            if len(value) != length:
                raise ProfileError(f"{source}: {section}.{key} must be {length} bytes")
            return value

        backend = get("keystore", "backend", str, "file")
        if backend == "file":
            ref = KeystoreRef("file", path=get("keystore", "path", str, KEYSTORE_FILE))
        elif backend == "pkcs11":
            ref = KeystoreRef("pkcs11", module=get("keystore", "module", str, ""),
                              token_label=get("keystore", "token", str, ""))
            if not ref.module or not ref.token_label:
                raise ProfileError(f"{source}: a pkcs11 keystore needs keystore.module and keystore.token")
        else:
            raise ProfileError(f"{source}: keystore.backend must be \"file\" or \"pkcs11\"")
        d = cls()
        return cls(
            name=get("issuer", "name", str, d.name), country=get("issuer", "country", str, d.country),
            bin=get("bank", "bin", str, d.bin), pan_length=get("bank", "pan_length", int, d.pan_length),
            capk_rid=hexbytes("bank", "capk_rid", d.capk_rid, 5),
            capk_index=hexbytes("bank", "capk_index", bytes([d.capk_index]), 1)[0],
            bank_validity_years=get("bank", "validity_years", int, d.bank_validity_years),
            transit_issuer_id=hexbytes("transit", "issuer_id", d.transit_issuer_id, 8),
            transit_serial_prefix=get("transit", "serial_prefix", str, d.transit_serial_prefix),
            transit_validity_years=get("transit", "validity_years", int, d.transit_validity_years),
            social_region=get("social", "region", str, d.social_region),
            social_validity_years=get("social", "validity_years", int, d.social_validity_years),
            id_document_prefix=get("id", "document_prefix", str, d.id_document_prefix),
            id_validity_years=get("id", "validity_years", int, d.id_validity_years),
            card_serial_prefix=get("card", "serial_prefix", str, d.card_serial_prefix),
            keystore=ref,
        )


class Issuer:
    """An opened issuer: settings, keystore, public material and the number registry.

    Build it with :meth:`open` (a directory from :func:`init_issuer`) or :meth:`demo`.
    """

    def __init__(self, settings: IssuerSettings, keystore: Keystore, *, capk: Capk,
                 issuer_certificate: IssuerCertificate, csca: x509.Certificate, ds: x509.Certificate,
                 numbers: NumberRegistry, directory: Path | None = None) -> None:
        self.settings = settings
        self.keystore = keystore
        self.capk = capk
        self.issuer_certificate = issuer_certificate
        self.csca_certificate = csca
        self.ds_certificate = ds
        self.numbers = numbers
        self.directory = directory

    def __repr__(self) -> str:
        return f"Issuer({self.settings.name!r}, keystore={self.keystore.backend}, dir={self.directory})"

    # -- what data preparation needs -----------------------------------------------------------
    @cached_property
    def bank_keys(self) -> IssuerKeys:
        ks = self.keystore
        return IssuerKeys(imk_ac=ks.secret("emv.imk.ac"), imk_smi=ks.secret("emv.imk.smi"),
                          imk_smc=ks.secret("emv.imk.smc"), rsa_key=ks.rsa("emv.issuer"),
                          certificate=self.issuer_certificate, capk=self.capk)

    def purse_masters(self) -> tuple[SecretKey, SecretKey, SecretKey]:
        """(MLK, MPK, MTK)"""
        return self.keystore.secret("purse.mlk"), self.keystore.secret("purse.mpk"), self.keystore.secret("purse.mtk")

    def social_masters(self) -> tuple[SecretKey, SecretKey, SecretKey, SecretKey]:
        """(MAK, MPK, MTK, MUK)"""
        ks = self.keystore
        return ks.secret("social.mak"), ks.secret("social.mpk"), ks.secret("social.mtk"), ks.secret("social.muk")

    def document_signer(self) -> DocumentSigner:
        return self.keystore.ec("eid.ds").private_key_adapter(), self.ds_certificate

    def card_manager_master(self) -> SecretKey:
        return self.keystore.secret("gp.kmc")

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: str | Path, secret: str | None) -> Issuer:
        """Open an issuer directory; ``secret`` is the keystore passphrase or the token PIN.

        Raises:
            ProfileError: not an issuer directory, or a file in it is damaged (named).
            KeystoreError: wrong passphrase/PIN, missing token, damaged keystore.
        """
        root = Path(directory)
        settings_path = root / SETTINGS_FILE
        if not settings_path.is_file():
            raise ProfileError(f"{root}: not an issuer directory (no {SETTINGS_FILE}; see cardkit issuer init)")
        settings = IssuerSettings.from_toml(settings_path.read_text(encoding="utf-8"), str(settings_path))
        ref = settings.keystore
        if ref.backend == "file":
            ref = KeystoreRef("file", path=str(root / (ref.path or KEYSTORE_FILE)))
        keystore = open_keystore(ref, secret)
        try:
            public = _read_public(root, settings)
            missing = sorted(set(KEY_NAMES) - set(keystore.names()))
            if missing:
                raise ProfileError(f"{root}: the keystore lacks {', '.join(missing)}")
        except BaseException:
            keystore.close()
            raise
        capk, cert, csca, ds = public
        return cls(settings, keystore, capk=capk, issuer_certificate=cert, csca=csca, ds=ds,
                   numbers=NumberRegistry(root / NUMBERS_FILE), directory=root)

    def keystore_ref(self) -> KeystoreRef:
        """How another process reopens this issuer's keystore (no secret inside)."""
        return self.keystore.ref()

    @classmethod
    def demo(cls, *, numbers: NumberRegistry | None = None) -> Issuer:
        """The published demo issuer (cardkit.issuer.demo_keys) over an in-memory keystore."""
        ks = MemoryKeystore()
        capk, cert, csca, ds = _import_demo_keys(ks)
        settings = IssuerSettings(name="cardkit DEMO issuer", capk_rid=capk.rid, capk_index=capk.index,
                                  keystore=KeystoreRef("memory"))
        return cls(settings, ks, capk=capk, issuer_certificate=cert, csca=csca, ds=ds,
                   numbers=numbers or NumberRegistry(":memory:"))

    def close(self) -> None:
        self.keystore.close()
        self.numbers.close()

    def __enter__(self) -> Issuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _import_demo_keys(ks: Keystore) -> tuple[Capk, IssuerCertificate, x509.Certificate, x509.Certificate]:
    """Put the published demo keys (cardkit.issuer.demo_keys) into ``ks``; their public material."""
    from cardkit.issuer import demo_keys as d

    for name, value in (("emv.imk.ac", d.DEMO_IMK_AC), ("emv.imk.smi", d.DEMO_IMK_SMI),
                        ("emv.imk.smc", d.DEMO_IMK_SMC), ("purse.mlk", d.DEMO_PURSE_MLK),
                        ("purse.mpk", d.DEMO_PURSE_MPK), ("purse.mtk", d.DEMO_PURSE_MTK),
                        ("social.mak", d.DEMO_SOCIAL_MAK), ("social.mpk", d.DEMO_SOCIAL_MPK),
                        ("social.mtk", d.DEMO_SOCIAL_MTK), ("social.muk", d.DEMO_SOCIAL_MUK)):
        ks.import_secret(name, "3des", value)
    ks.import_secret("gp.kmc", "aes", d.DEMO_CARD_MANAGER_KMC)
    ks.import_rsa("emv.issuer", d.demo_issuer_rsa_key())
    ks.import_rsa("emv.ca", d.demo_ca_rsa_key())
    ks.import_ec("eid.csca", d.demo_csca()[0])
    ks.import_ec("eid.ds", d.demo_document_signer()[0])
    return d.demo_capk(), d.demo_issuer().certificate, d.demo_csca()[1], d.demo_document_signer()[1]


def _read_public(root: Path, settings: IssuerSettings) -> tuple[Capk, IssuerCertificate, x509.Certificate,
                                                               x509.Certificate]:
    def read(name: str) -> bytes:
        try:
            return (root / name).read_bytes()
        except OSError as exc:
            raise ProfileError(f"{root / name}: {exc.strerror or exc}") from None

    try:
        capk = next(iter(CapkStore.load(root / CAPK_FILE)))
        cert_json = json.loads(read(ISSUER_CERT_FILE))
        cert = IssuerCertificate(bytes.fromhex(cert_json["certificate"]), bytes.fromhex(cert_json["remainder"]),
                                 bytes.fromhex(cert_json["exponent"]))
        csca = x509.load_pem_x509_certificate(read(CSCA_FILE))
        ds = x509.load_pem_x509_certificate(read(DS_FILE))
    except ProfileError:
        raise
    except (ValueError, KeyError, TypeError, StopIteration) as exc:
        raise ProfileError(f"{root}: damaged public material ({type(exc).__name__}: {exc})") from None
    return capk, cert, csca, ds


def _name(common_name: str, settings: IssuerSettings) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, settings.country),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.name),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _id_pki(csca: EcKey, ds: EcKey, settings: IssuerSettings, today: dt.date) -> tuple[x509.Certificate,
                                                                                       x509.Certificate]:
    """A self-signed TEST CSCA and a document signer it issues (ICAO 9303-12 profile, briefly)."""
    start = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
    csca_name = _name(f"{settings.name} TEST CSCA", settings)
    csca_cert = (
        x509.CertificateBuilder().subject_name(csca_name).issuer_name(csca_name)
        .public_key(csca.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 15))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csca.public_key()), critical=False)
        .sign(csca.private_key_adapter(), hashes.SHA256())
    )
    ds_cert = (
        x509.CertificateBuilder().subject_name(_name(f"{settings.name} TEST document signer", settings))
        .issuer_name(csca_name).public_key(ds.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 11))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.public_key()), critical=False)
        .sign(csca.private_key_adapter(), hashes.SHA256())
    )
    return csca_cert, ds_cert


def init_issuer(directory: str | Path, *, secret: str, settings: IssuerSettings | None = None,
                pkcs11_module: str | None = None, token_label: str | None = None,
                demo_keys: bool = False, today: dt.date | None = None) -> Issuer:
    """Create an issuer directory: every key of :data:`KEY_NAMES` generated in the keystore, the test
    CA's certificate for the issuer RSA key, the ID PKI, ``issuer.toml``.

    Args:
        secret: the new file keystore's passphrase, or the PIN of the PKCS#11 token.
        pkcs11_module, token_label: use this token (already initialized) instead of a file keystore.
        demo_keys: import the published demo keys instead of generating keys (TEST only: the cards
            then work with the demo terminal, PSAM and host, and with anyone else's).

    Raises:
        ProfileError: the directory already holds an issuer.
        KeystoreError: the token is missing, the PIN is wrong, a key of that name already exists on it.
    """
    root = Path(directory)
    if (root / SETTINGS_FILE).exists():
        raise ProfileError(f"{root}: already an issuer directory (refusing to overwrite its keys)")
    root.mkdir(parents=True, exist_ok=True)
    settings = settings or IssuerSettings()
    today = today or dt.date.today()
    keystore: Keystore
    if pkcs11_module:
        if not token_label:
            raise KeystoreError("a PKCS#11 keystore needs a token label")
        keystore = Pkcs11Keystore.open(pkcs11_module, token_label, secret)
        ref = KeystoreRef("pkcs11", module=pkcs11_module, token_label=token_label)
    else:
        keystore = FileKeystore.create(root / KEYSTORE_FILE, secret)
        ref = KeystoreRef("file", path=KEYSTORE_FILE)
    settings = dataclasses.replace(settings, keystore=ref)
    try:
        if demo_keys:
            capk, cert, csca_cert, ds_cert = _import_demo_keys(keystore)
            settings = dataclasses.replace(settings, capk_rid=capk.rid, capk_index=capk.index, bin=DEMO_ISSUER_ID)
        else:
            for name, (kind, algorithm, _) in KEY_NAMES.items():
                if kind == "secret":
                    keystore.generate_secret(name, algorithm)
                elif kind == "rsa":
                    keystore.generate_rsa(name, int(algorithm), public_exponent=3)
                else:
                    keystore.generate_ec(name)
            ca = keystore.rsa("emv.ca")
            ca_public = RsaPublic.of(ca)
            capk = Capk(settings.capk_rid, settings.capk_index, ca_public.modulus, ca_public.exponent,
                        expiry=dt.date(today.year + 20, 12, 31))
            cert = make_issuer_certificate(ca, keystore.rsa("emv.issuer"), issuer_id=settings.bin,
                                           expiry=f"12{(today.year + 15) % 100:02d}", serial=os.urandom(3))
            csca_cert, ds_cert = _id_pki(keystore.ec("eid.csca"), keystore.ec("eid.ds"), settings, today)
        store = CapkStore()
        store.add(capk)
        store.save(root / CAPK_FILE)
        write_atomically(root / ISSUER_CERT_FILE, json.dumps(
            {"certificate": cert.certificate.hex().upper(), "remainder": cert.remainder.hex().upper(),
             "exponent": cert.exponent.hex().upper(), "issuer_id": settings.bin},
            indent=2).encode() + b"\n")
        write_atomically(root / CSCA_FILE, csca_cert.public_bytes(Encoding.PEM))
        write_atomically(root / DS_FILE, ds_cert.public_bytes(Encoding.PEM))
        NumberRegistry(root / NUMBERS_FILE).close()
        write_atomically(root / SETTINGS_FILE, settings.to_toml().encode("utf-8"))  # last: marks the directory complete
    finally:
        keystore.close()
    return Issuer.open(root, secret)
