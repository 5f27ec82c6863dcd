"""The PKCS#11 keystore's own promises on a SoftHSM2 token: keys are sensitive and never
extractable, usage is ENCRYPT (secret) or SIGN (private) only, the PIN is checked every time,
and processes follow the fork rules."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass

from cardkit.crypto.hazmat import has_odd_parity
from cardkit.issuer.demo_keys import demo_issuer_rsa_key
from cardkit.issuer.keystore import KeystoreError, Pkcs11Keystore, default_pkcs11_module, open_keystore
from tests.keystore.softhsm import SoftHsmToken, make_token, wipe_token

IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # pyemv's test IMK, KCV 08D7B4


@pytest.fixture
def token(softhsm_token: SoftHsmToken) -> Iterator[SoftHsmToken]:
    yield softhsm_token
    wipe_token(softhsm_token)


@pytest.fixture
def hsm(token: SoftHsmToken) -> Iterator[Pkcs11Keystore]:
    with Pkcs11Keystore.open(token.module, token.label, token.pin) as ks:
        yield ks


@pytest.fixture
def peek(token: SoftHsmToken, hsm: Pkcs11Keystore) -> Iterator[Any]:
    """A second, independent python-pkcs11 session on the token (logged in through the keystore's
    login): what any other code in the process could do with the objects."""
    session = pkcs11.lib(token.module).get_token(token_label=token.label).open(rw=True)
    yield session
    session.close()


def _object(session: Any, name: str, cls: ObjectClass) -> Any:
    (obj,) = list(session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: name}))
    return obj


def test_default_module_is_found() -> None:
    module = default_pkcs11_module()
    assert module is not None and Path(module).is_file() and module.endswith("libsofthsm2.so")


def test_secret_keys_are_sensitive_and_never_extractable(hsm: Pkcs11Keystore, peek: Any) -> None:
    hsm.generate_secret("gen.3des", "3des")
    hsm.generate_secret("gen.aes", "aes", 32)
    hsm.import_secret("imp.3des", "3des", IMK)
    hsm.import_secret("imp.aes", "aes", bytes(range(16)))
    for name in ("gen.3des", "gen.aes", "imp.3des", "imp.aes"):
        obj = _object(peek, name, ObjectClass.SECRET_KEY)
        with pytest.raises(pkcs11.AttributeSensitive):
            obj[Attribute.VALUE]
        flags = {a: obj[a] for a in (Attribute.TOKEN, Attribute.PRIVATE, Attribute.SENSITIVE, Attribute.EXTRACTABLE,
                                     Attribute.MODIFIABLE, Attribute.ENCRYPT, Attribute.DECRYPT, Attribute.WRAP,
                                     Attribute.UNWRAP, Attribute.SIGN, Attribute.VERIFY, Attribute.DERIVE)}  # fmt: skip
        assert flags == {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                         Attribute.EXTRACTABLE: False, Attribute.MODIFIABLE: False, Attribute.ENCRYPT: True,
                         Attribute.DECRYPT: False, Attribute.WRAP: False, Attribute.UNWRAP: False,
                         Attribute.SIGN: False, Attribute.VERIFY: False, Attribute.DERIVE: False}, name  # fmt: skip
        assert obj[Attribute.KEY_TYPE] == (KeyType.DES2 if "3des" in name else KeyType.AES)
        if name.startswith("gen"):  # made on the token: never was extractable or readable
            assert obj[Attribute.NEVER_EXTRACTABLE] and obj[Attribute.ALWAYS_SENSITIVE]
        with pytest.raises(pkcs11.PKCS11Error):  # not modifiable: nobody can add DECRYPT later
            obj[Attribute.DECRYPT] = True
    assert hsm.secret("imp.3des").kcv == bytes.fromhex("08D7B4")


def test_private_keys_are_sensitive_and_sign_only(hsm: Pkcs11Keystore, peek: Any) -> None:
    hsm.generate_rsa("gen.rsa", 1024, 3)
    hsm.import_rsa("imp.rsa", demo_issuer_rsa_key())
    hsm.generate_ec("gen.ec")
    hsm.import_ec("imp.ec", ec.generate_private_key(ec.SECP256R1()))
    for name in ("gen.rsa", "imp.rsa", "gen.ec", "imp.ec"):
        obj = _object(peek, name, ObjectClass.PRIVATE_KEY)
        secret_attrs = (Attribute.PRIVATE_EXPONENT, Attribute.PRIME_1) if "rsa" in name else (Attribute.VALUE,)
        for attr in secret_attrs:
            with pytest.raises(pkcs11.AttributeSensitive):
                obj[attr]
        assert (obj[Attribute.SENSITIVE], obj[Attribute.EXTRACTABLE], obj[Attribute.TOKEN]) == (True, False, True)
        assert (obj[Attribute.SIGN], obj[Attribute.DECRYPT], obj[Attribute.UNWRAP]) == (True, False, False)
        public = _object(peek, name, ObjectClass.PUBLIC_KEY)
        assert (public[Attribute.VERIFY], public[Attribute.ENCRYPT], public[Attribute.WRAP]) == (True, False, False)
        if name.startswith("gen"):
            assert obj[Attribute.NEVER_EXTRACTABLE] and obj[Attribute.ALWAYS_SENSITIVE]


def test_softhsm_des2_generation_parity(hsm: Pkcs11Keystore, peek: Any) -> None:
    """SoftHSM2's CKM_DES2_KEY_GEN sets odd parity: shown on session-only, extractable test keys
    (the keystore's own keys cannot be read, by design)."""
    for _ in range(8):
        k = peek.generate_key(KeyType.DES2, store=False, capabilities=MechanismFlag.ENCRYPT,
                              template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True})  # fmt: skip
        value = bytes(k[Attribute.VALUE])
        assert len(value) == 16 and has_odd_parity(value)


def test_wrong_pin(token: SoftHsmToken) -> None:
    for wrong in ("0000", "12345", "1"):
        with pytest.raises(KeystoreError) as info:
            Pkcs11Keystore.open(token.module, token.label, wrong)
        assert str(info.value) == f"wrong PIN for token {token.label!r}"
    with pytest.raises(KeystoreError, match="needs the user PIN"):
        Pkcs11Keystore.open(token.module, token.label, "")
    Pkcs11Keystore.open(token.module, token.label, token.pin).close()  # no lockout after a few tries


def test_wrong_pin_while_the_token_is_logged_in(hsm: Pkcs11Keystore, token: SoftHsmToken) -> None:
    """PKCS#11 logs in per process: a second C_Login would not check the PIN, so the keystore
    compares it with the PIN of the login it shares."""
    with pytest.raises(KeystoreError, match="wrong PIN for token"):
        Pkcs11Keystore.open(token.module, token.label, "0000")
    with Pkcs11Keystore.open(token.module, token.label, token.pin) as second:
        second.import_secret("imk", "3des", IMK)
    assert hsm.secret("imk").kcv == bytes.fromhex("08D7B4")  # the first store kept its login


def test_unknown_token_and_module(token: SoftHsmToken, tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match=r"no token labelled 'nope' in PKCS#11 module .*tokens: .*'cardkit-test'"):
        Pkcs11Keystore.open(token.module, "nope", token.pin)
    with pytest.raises(KeystoreError, match="PKCS#11 module /no/such/libpkcs11.so not found"):
        Pkcs11Keystore.open("/no/such/libpkcs11.so", token.label, token.pin)
    not_a_module = tmp_path / "fake.so"
    not_a_module.write_bytes(b"\x7fELF not really")
    with pytest.raises(KeystoreError, match="cannot initialise PKCS#11 module"):
        Pkcs11Keystore.open(str(not_a_module), token.label, token.pin)


def test_token_made_after_the_module_was_initialised(token: SoftHsmToken, tmp_path: Path) -> None:
    Pkcs11Keystore.open(token.module, token.label, token.pin).close()  # module initialised
    conf_dir = Path(token.env["SOFTHSM2_CONF"]).parent
    late = make_token(conf_dir, label="late-token", pin="4321")
    with Pkcs11Keystore.open(late.module, late.label, late.pin) as ks:
        ks.import_secret("imk", "3des", IMK)
        assert ks.names() == ["imk"]
    with Pkcs11Keystore.open(token.module, token.label, token.pin) as first:
        assert first.names() == []  # a different token


def test_switching_softhsm_configurations(token: SoftHsmToken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two token directories with a token of the same label in one process (as two test modules
    with their own SoftHSM2 directories make): each open reaches the token SOFTHSM2_CONF names."""
    with Pkcs11Keystore.open(token.module, token.label, token.pin) as mine:
        mine.import_secret("mine", "3des", IMK)
    other = make_token(tmp_path / "other")  # label cardkit-test too
    monkeypatch.setenv("SOFTHSM2_CONF", other.env["SOFTHSM2_CONF"])
    with Pkcs11Keystore.open(other.module, other.label, other.pin) as theirs:
        assert theirs.names() == []  # not the token of the first configuration
        theirs.generate_secret("theirs", "aes")
        monkeypatch.setenv("SOFTHSM2_CONF", token.env["SOFTHSM2_CONF"])
        with pytest.raises(KeystoreError, match="SOFTHSM2_CONF changed while keystores of this process use"):
            Pkcs11Keystore.open(token.module, token.label, token.pin)
    with Pkcs11Keystore.open(token.module, token.label, token.pin) as again:
        assert again.names() == ["mine"]


def test_duplicate_labels_made_elsewhere_are_reported(hsm: Pkcs11Keystore, peek: Any) -> None:
    hsm.import_secret("imk", "3des", IMK)
    peek.create_object({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
                        Attribute.VALUE: bytes(16), Attribute.LABEL: "imk", Attribute.TOKEN: True,
                        Attribute.ENCRYPT: True})  # fmt: skip
    with Pkcs11Keystore.open(hsm.ref().module or "", "cardkit-test", "1234") as fresh:
        with pytest.raises(KeystoreError, match="holds 2 keys labelled 'imk'; remove the extra ones"):
            fresh.secret("imk")


def test_foreign_objects_are_not_listed(hsm: Pkcs11Keystore, peek: Any) -> None:
    peek.create_object({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                        Attribute.VALUE: bytes(20), Attribute.LABEL: "hmac", Attribute.TOKEN: True})  # fmt: skip
    peek.create_object({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
                        Attribute.VALUE: bytes(16), Attribute.LABEL: "Not A Name", Attribute.TOKEN: True,
                        Attribute.ENCRYPT: True})  # fmt: skip
    hsm.generate_secret("gp.kmc", "aes")
    assert hsm.names() == ["gp.kmc"]
    with pytest.raises(KeystoreError, match="no secret key named 'hmac'"):
        hsm.secret("hmac")


def test_repr_and_ref(hsm: Pkcs11Keystore, token: SoftHsmToken) -> None:
    hsm.import_secret("imk", "3des", IMK)
    assert repr(hsm) == "<Pkcs11Keystore token 'cardkit-test': imk>"
    assert repr(hsm.secret("imk")) == "<SecretKey 'imk' 3des-128 KCV 08D7B4 (pkcs11)>"
    ref = hsm.ref()
    assert (ref.backend, ref.module, ref.token_label, ref.path) == ("pkcs11", token.module, token.label, None)
    assert token.pin.encode() not in pickle.dumps(ref)


def _forked_child(hsm: Pkcs11Keystore, ref_bytes: bytes, pin: str, out: Any) -> None:
    try:
        hsm.secret("imk").encrypt_ecb(bytes(8))
        out.put("inherited keystore worked")
    except KeystoreError as exc:
        out.put(str(exc))
    try:
        with open_keystore(pickle.loads(ref_bytes), pin) as ks:
            out.put(ks.secret("imk").encrypt_ecb(bytes(8)).hex())
    except Exception as exc:  # reported to the parent
        out.put(f"reopen failed: {exc!r}")


def test_forked_child_reopens_from_the_ref(hsm: Pkcs11Keystore, token: SoftHsmToken) -> None:
    imk = hsm.import_secret("imk", "3des", IMK)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_forked_child, args=(hsm, pickle.dumps(hsm.ref()), token.pin, out))
    child.start()
    inherited, reopened = out.get(timeout=60), out.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert f"was opened in process {os.getpid()}" in inherited and "keystore.ref()" in inherited
    assert reopened == imk.encrypt_ecb(bytes(8)).hex() == "08d7b4fb629d0885"
    assert imk.encrypt_ecb(bytes(8)).hex() == "08d7b4fb629d0885"  # the parent's session still works


def test_token_call_failures_become_keystore_errors(hsm: Pkcs11Keystore, peek: Any) -> None:
    key = hsm.generate_secret("gone", "aes")
    _object(peek, "gone", ObjectClass.SECRET_KEY).destroy()  # removed behind the keystore's back
    with pytest.raises(KeystoreError, match=r"token 'cardkit-test': ECB encryption under 'gone' failed \("):
        key.encrypt_ecb(bytes(16))


def test_signatures_from_the_token_verify(hsm: Pkcs11Keystore) -> None:
    key = hsm.generate_ec("ds")
    for message in (b"", b"x", bytes(1000)):
        key.public_key().verify(key.sign(message), message, ec.ECDSA(hashes.SHA256()))
