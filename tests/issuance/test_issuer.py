"""An issuer directory: made once with every key, reopened with the secret, public material that
verifies, and clear errors for a wrong secret, a damaged file or a second init."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cardkit.crypto.oda import recover_issuer_key
from cardkit.errors import ProfileError
from cardkit.issuer.issuer import KEY_NAMES, Issuer, IssuerSettings, init_issuer
from cardkit.issuer.keystore import KeystoreError

from .conftest import SECRET


def test_every_key_is_in_the_keystore_and_the_public_material_verifies(issuer: Issuer) -> None:
    assert set(KEY_NAMES) <= set(issuer.keystore.names())
    # the issuer certificate recovers under the issuer's own test CA (EMV Book 2 §6.3)
    cert = issuer.issuer_certificate
    recovered = recover_issuer_key(issuer.capk, cert.certificate, cert.remainder, cert.exponent,
                                   pan=bytes.fromhex(issuer.settings.bin + "0000000000001F"), today=date.today())
    assert recovered.issuer_id == issuer.settings.bin
    # ICAO 9303-12: the document signer is issued by the CSCA, which is self-signed
    issuer.ds_certificate.verify_directly_issued_by(issuer.csca_certificate)
    issuer.csca_certificate.verify_directly_issued_by(issuer.csca_certificate)
    ds_public = issuer.ds_certificate.public_key()
    assert isinstance(ds_public, ec.EllipticCurvePublicKey)
    assert ds_public.public_numbers() == issuer.keystore.ec("eid.ds").public_key().public_numbers()
    assert "KCV" in repr(issuer.bank_keys) and issuer.keystore.backend in repr(issuer)


def test_the_file_keystore_is_private_and_asks_the_right_passphrase(file_issuer_dir: Path) -> None:
    assert stat.S_IMODE(os.stat(file_issuer_dir / "keystore.json").st_mode) == 0o600
    with pytest.raises(KeystoreError, match="wrong passphrase") as err:
        Issuer.open(file_issuer_dir, "not it")
    assert "not it" not in str(err.value)


def test_a_second_init_is_refused_and_changes_nothing(file_issuer_dir: Path) -> None:
    before = (file_issuer_dir / "keystore.json").read_bytes()
    with pytest.raises(ProfileError, match="already an issuer directory"):
        init_issuer(file_issuer_dir, secret=SECRET)
    assert (file_issuer_dir / "keystore.json").read_bytes() == before


def test_damaged_or_missing_files_are_named(file_issuer_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not an issuer directory"):
        Issuer.open(tmp_path, SECRET)
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in file_issuer_dir.iterdir():
        if f.is_file():
            shutil.copy2(f, copy / f.name)  # modes too: the keystore must stay 0600
    (copy / "ds.pem").write_text("not a certificate")
    with pytest.raises(ProfileError, match="damaged public material"):
        Issuer.open(copy, SECRET)
    (copy / "issuer.toml").write_text("[bank]\nbin = 12\n")
    with pytest.raises(ProfileError, match="bank.bin must be a str"):
        Issuer.open(copy, SECRET)
    (copy / "issuer.toml").write_text("[bank]\nbni = \"622848\"\n")
    with pytest.raises(ProfileError, match="unknown key bank.bni"):
        Issuer.open(copy, SECRET)


def test_settings_round_trip_through_toml() -> None:
    settings = IssuerSettings(name="Example issuer", bin="62284800", pan_length=19, social_region="310101")
    assert IssuerSettings.from_toml(settings.to_toml()) == settings
    with pytest.raises(ProfileError, match="bank.bin must be 6 to 8 digits"):
        IssuerSettings(bin="62")


def test_the_demo_issuer_holds_the_published_keys() -> None:
    from cardkit.issuer.demo_keys import DEMO_IMK_AC

    demo = Issuer.demo()
    assert demo.keystore.secret("emv.imk.ac").encrypt_ecb(bytes(8)) == \
        __import__("cardkit.crypto.hazmat.ciphers", fromlist=["TripleDES"]).TripleDES(DEMO_IMK_AC).encrypt_ecb(bytes(8))
