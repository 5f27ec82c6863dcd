"""Every keystore behaviour, run against the memory, file and PKCS#11 (SoftHSM2) backends.

Known answers (sources next to each): NIST SP 800-38A F.1 (AES ECB), knovichikhin/pyemv's EMV
option A vectors (2-key 3DES ECB; the same values are in tests/vectors/crypto_emv.txt), the raw RSA
operation against ``pow(m, d, n)`` of an imported key, signatures verified with ``cryptography``.
Scenario tests: an EMV CA certifies an issuer key and the issuer signs static data, all inside
the keystore, and a terminal-side recovery checks it; a CSCA and document signer issue X.509
certificates through the private-key adapter.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import secrets
import threading
from datetime import UTC, date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as RawTDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from cardkit.crypto.hazmat import adjust_parity, has_odd_parity
from cardkit.crypto.oda import (
    Capk,
    RsaPublic,
    make_issuer_certificate,
    recover_issuer_key,
    sign_static_data,
    verify_static_data,
)
from cardkit.errors import CardkitError, CryptoError
from cardkit.issuer.demo_keys import demo_ca_rsa_key, demo_issuer_rsa_key
from cardkit.issuer.keystore import (
    EcKey,
    Keystore,
    KeystoreError,
    KeystoreRef,
    RsaKey,
    SecretKey,
    open_keystore,
)
from tests.keystore import _worker
from tests.keystore.conftest import Backend

# NIST SP 800-38A (2001) Appendix F.1.1 / F.1.3 / F.1.5: ECB-AES128/192/256.Encrypt, blocks 1-4.
SP800_38A_PLAINTEXT = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710"
)  # fmt: skip
SP800_38A_ECB = [
    ("F.1.1", "2b7e151628aed2a6abf7158809cf4f3c",
     "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
     "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"),
    ("F.1.3", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     "bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eef"
     "ef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e"),
    ("F.1.5", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
     "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7"),
]  # fmt: skip

# knovichikhin/pyemv: IMK 0123456789ABCDEFFEDCBA9876543210 (tests/test_kd_hsm.py, KCV 08D7) and the
# EMV Book 2 A1.4.1 option A ICC master keys of pyemv/kd.py's docstrings:
# MK = parity(3DES-ECB(IMK, Y || Y xor FF..FF)), Y = rightmost 16 digits of PAN || PSN.
PYEMV_IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
PYEMV_OPTION_A = [
    ("pyemv/kd.py derive_icc_mk_a docstring", "12345678901234567", "01", "73AD54688CEF2934B0979857E3C719F1"),
    ("pyemv/kd.py module docstring", "99012345678901234", "45", "67F8292358083E5EA7AB7FDA58D53B6B"),
]


def _raw_tdes(key: bytes, data: bytes) -> bytes:
    return Cipher(RawTDES(key + key[:8]), modes.ECB()).encryptor().update(data)


def _raw_aes(key: bytes, data: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)


# --------------------------------------------------------------------------------------------
# Secret keys: known answers


@pytest.mark.parametrize(("section", "key", "ct"), SP800_38A_ECB, ids=[v[0] for v in SP800_38A_ECB])
def test_aes_ecb_sp800_38a(ks: Keystore, section: str, key: str, ct: str) -> None:
    k = ks.import_secret("aes", "aes", bytes.fromhex(key))
    assert (k.name, k.algorithm, k.length) == ("aes", "aes", len(key) // 2)
    assert k.encrypt_ecb(SP800_38A_PLAINTEXT) == bytes.fromhex(ct)
    assert k.encrypt_ecb(SP800_38A_PLAINTEXT[:16]) == bytes.fromhex(ct)[:16]  # one block
    # GlobalPlatform's AES KCV: the first 3 bytes of AES(K, 01 x 16)
    assert k.kcv == _raw_aes(bytes.fromhex(key), b"\x01" * 16)[:3]


@pytest.mark.parametrize(("source", "pan", "psn", "mk"), PYEMV_OPTION_A, ids=["kd_a", "kd_module"])
def test_3des_ecb_emv_option_a(ks: Keystore, source: str, pan: str, psn: str, mk: str) -> None:
    imk = ks.import_secret("imk", "3des", PYEMV_IMK)
    y = bytes.fromhex((pan + psn)[-16:])
    out = imk.encrypt_ecb(y + bytes(b ^ 0xFF for b in y))
    assert adjust_parity(out) == bytes.fromhex(mk)
    # pyemv tests/test_kd_hsm.py: the IMK's check digits are 08D7; the full KCV is E(00 x 8)
    assert imk.kcv[:2] == bytes.fromhex("08D7")
    assert imk.kcv == _raw_tdes(PYEMV_IMK, bytes(8))[:3] == bytes.fromhex("08D7B4")


def test_3des_key_without_odd_parity_is_kept(ks: Keystore) -> None:
    # the demo purse load master key (docs/issuer.md, KCV D751B7): PBOC keys need not have odd parity
    value = bytes.fromhex("4C4B4C4B4C4B4C4B0000000000000001")
    k = ks.import_secret("purse.mlk", "3des", value)
    assert k.kcv == bytes.fromhex("D751B7")
    block = bytes.fromhex("0011223344556677")
    assert k.encrypt_ecb(block) == _raw_tdes(value, block)


@pytest.mark.parametrize(("algorithm", "length"), [("3des", 16), ("aes", 16), ("aes", 24), ("aes", 32)])
def test_generate_secret(ks: Keystore, algorithm: str, length: int) -> None:
    a = ks.generate_secret("k1", algorithm, length)
    b = ks.generate_secret("k2", algorithm, length)
    assert (a.algorithm, a.length, a.name) == (algorithm, length, "k1")
    block = b"\x01" * 16 if algorithm == "aes" else bytes(8)
    assert a.kcv == a.encrypt_ecb(block)[:3]
    data = bytes(range(32))
    assert a.encrypt_ecb(data) != b.encrypt_ecb(data)  # two random keys
    assert a.encrypt_ecb(data) == a.encrypt_ecb(data)  # ECB is deterministic
    assert ks.secret("k1").encrypt_ecb(data) == a.encrypt_ecb(data)
    assert isinstance(a, SecretKey)


def test_generated_3des_has_odd_parity(backend: Backend) -> None:
    """Visible where the value is (memory/file: the cipher holds it); on the token it cannot be
    read, and SoftHSM2's CKM_DES2_KEY_GEN sets odd parity (checked on an extractable test key in
    test_pkcs11.py)."""
    if backend.name == "pkcs11":
        pytest.skip("a token key's value cannot be read: see test_pkcs11.py::test_softhsm_des2_generation_parity")
    ks = backend.store
    ks.generate_secret("k", "3des")
    value = _soft_value(ks, "k")
    assert len(value) == 16 and has_odd_parity(value)


def _soft_value(ks: Keystore, name: str) -> bytes:
    """Test-only peek at a software key's value (through the cipher object the key holds)."""
    key = ks.secret(name)
    alg = key._cipher._alg  # type: ignore[attr-defined]
    return bytes(alg.key[:16])


def test_encrypt_ecb_rejects_partial_blocks(ks: Keystore) -> None:
    k = ks.import_secret("k", "3des", PYEMV_IMK)
    a = ks.import_secret("a", "aes", bytes(16))
    for key, bad in ((k, b"1234567"), (k, b""), (k, bytes(12)), (a, bytes(8)), (a, bytes(17))):
        with pytest.raises(KeystoreError, match="not a whole number of"):
            key.encrypt_ecb(bad)
    with pytest.raises(KeystoreError, match="needs bytes"):
        k.encrypt_ecb("0011223344556677")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("algorithm", "value", "message"),
    [
        ("des", bytes(8), "unknown secret key algorithm 'des'"),
        ("3des", bytes(24), "3des keys are 16 bytes, not 24"),
        ("3des", bytes(8), "3des keys are 16 bytes, not 8"),
        ("aes", bytes(20), "aes keys are 16 or 24 or 32 bytes, not 20"),
    ],
)
def test_import_secret_rejects_bad_specs(ks: Keystore, algorithm: str, value: bytes, message: str) -> None:
    with pytest.raises(KeystoreError, match=message):
        ks.import_secret("k", algorithm, value)
    assert ks.names() == []


def test_generate_secret_rejects_bad_specs(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="3des keys are 16 bytes"):
        ks.generate_secret("k", "3des", 24)
    with pytest.raises(KeystoreError, match="unknown secret key algorithm"):
        ks.generate_secret("k", "sm4")
    assert ks.generate_secret("k", "AES").algorithm == "aes"  # case-insensitive


# --------------------------------------------------------------------------------------------
# RSA


def test_raw_rsa_matches_pow_of_imported_key(ks: Keystore) -> None:
    key = demo_issuer_rsa_key()  # 1152 bits, e = 3 (cardkit.issuer.demo_keys)
    held = ks.import_rsa("issuer", key)
    numbers = key.private_numbers()
    n, d = numbers.public_numbers.n, numbers.d
    n_len = (n.bit_length() + 7) // 8
    for m in (2, 0x6A02 << 1000, n - 1, int.from_bytes(bytes.fromhex("6A") + b"\xbb" * (n_len - 2) + b"\xbc", "big")):
        block = m.to_bytes(n_len, "big")
        assert held.raw_private(block) == pow(m, d, n).to_bytes(n_len, "big")
    assert held.public_key().public_numbers() == key.public_key().public_numbers()
    assert isinstance(held, RsaKey)


@pytest.mark.parametrize(("bits", "e"), [(1024, 3), (1984, 65537)])
def test_generate_rsa(ks: Keystore, bits: int, e: int) -> None:
    held = ks.generate_rsa("issuer", bits, public_exponent=e)
    pub = held.public_key().public_numbers()
    assert held.public_key().key_size == bits and pub.e == e
    m = int.from_bytes(b"\x6a" + bytes(range(256))[: bits // 8 - 2] + b"\xbc", "big")
    s = held.raw_private(m.to_bytes(bits // 8, "big"))
    assert pow(int.from_bytes(s, "big"), e, pub.n) == m


def test_raw_rsa_rejects_bad_blocks(ks: Keystore) -> None:
    held = ks.import_rsa("issuer", demo_issuer_rsa_key())
    n = held.public_key().public_numbers().n
    n_len = (n.bit_length() + 7) // 8
    with pytest.raises(KeystoreError, match=f"block of {n_len - 1} bytes for a {n_len}-byte modulus"):
        held.raw_private(bytes(n_len - 1))
    with pytest.raises(KeystoreError, match=f"block of {n_len + 1} bytes"):
        held.raw_private(bytes(n_len + 1))
    with pytest.raises(KeystoreError, match="not less than the modulus"):
        held.raw_private(n.to_bytes(n_len, "big"))
    with pytest.raises(KeystoreError, match="not less than the modulus"):
        held.raw_private(b"\xff" * n_len)


@pytest.mark.parametrize(
    ("bits", "e", "message"),
    [(1000, 3, "multiple of 8"), (512, 3, "from 1024 to 4096"), (8192, 3, "from 1024 to 4096"),
     (1024, 17, "3 or 65537")],  # fmt: skip
)
def test_generate_rsa_rejects_bad_specs(ks: Keystore, bits: int, e: int, message: str) -> None:
    with pytest.raises(KeystoreError, match=message):
        ks.generate_rsa("issuer", bits, public_exponent=e)


def _prime(bits: int) -> int:
    """A random prime (Miller-Rabin, 40 rounds) for building keys cryptography will not generate."""
    while True:
        n = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits: p*q has 2*bits bits
        if all(n % p for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31)) and _probably_prime(n):
            return n


def _probably_prime(n: int) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(40):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _rsa_from_primes(p: int, q: int, e: int) -> rsa.RSAPrivateKey:
    d = pow(e, -1, (p - 1) * (q - 1))
    pub = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), pub)
    return numbers.private_key()


def test_import_rsa_rejects(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="needs an rsa.RSAPrivateKey"):
        ks.import_rsa("x", ec.generate_private_key(ec.SECP256R1()))  # type: ignore[arg-type]
    small = _rsa_from_primes(_prime(384), _prime(384), 65537)
    with pytest.raises(KeystoreError, match="RSA key of 768 bits is outside 1024..4096"):
        ks.import_rsa("x", small)
    while True:
        p, q = _prime(512), _prime(512)
        if (p - 1) % 17 and (q - 1) % 17:
            break
    with pytest.raises(KeystoreError, match="exponent must be 3 or 65537, not 17"):
        ks.import_rsa("x", _rsa_from_primes(p, q, 17))
    assert ks.names() == []


def test_emv_certificate_chain_signed_in_the_keystore(ks: Keystore) -> None:
    """EMV Book 2 §5.3/§5.4: a CA held by the store certifies the issuer key, the issuer key
    signs static data (tag 93), and a terminal recovers and checks both."""
    ca = ks.import_rsa("emv.ca", demo_ca_rsa_key())  # 1408 bits, e = 3
    issuer = ks.generate_rsa("emv.issuer", 1152, public_exponent=3)
    ca_pub = RsaPublic.of(ca)
    capk = Capk(bytes.fromhex("F000000001"), 0xF1, ca_pub.modulus, ca_pub.exponent)
    cert = make_issuer_certificate(ca, issuer, issuer_id="622848", expiry="1230", serial=b"\x00\x00\x01")
    pan = bytes.fromhex("6228480000000000018F")
    recovered = recover_issuer_key(
        capk, cert.certificate, cert.remainder, cert.exponent, pan=pan, today=date(2026, 1, 1)
    )
    assert recovered.key == RsaPublic.of(issuer.public_key())
    static = bytes.fromhex("5A0A6228480000000000018F5F24032512319F0702FF00")
    ssad = sign_static_data(issuer, static, b"\xda\xc1")
    assert verify_static_data(recovered, ssad, static) == b"\xda\xc1"


# --------------------------------------------------------------------------------------------
# EC


def test_ecdsa_signatures_verify(ks: Keystore) -> None:
    imported = ec.generate_private_key(ec.SECP256R1())
    a = ks.import_ec("eid.ds", imported)
    b = ks.generate_ec("eid.csca")
    for key in (a, b):
        sig = key.sign(b"EF.SOD content")
        key.public_key().verify(sig, b"EF.SOD content", ec.ECDSA(hashes.SHA256()))
        assert isinstance(key, EcKey)
    a.public_key().verify(a.sign(b"x"), b"x", ec.ECDSA(hashes.SHA256()))
    assert a.public_key().public_numbers() == imported.public_key().public_numbers()
    assert isinstance(b.public_key().curve, ec.SECP256R1)


def test_import_ec_rejects_other_curves(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="only P-256"):
        ks.import_ec("x", ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(KeystoreError, match="needs an ec.EllipticCurvePrivateKey"):
        ks.import_ec("x", demo_issuer_rsa_key())  # type: ignore[arg-type]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def test_adapter_signs_x509_certificates(ks: Keystore) -> None:
    """ICAO 9303-12 PKI in miniature: a self-signed CSCA issues the document signer certificate,
    both signed by keys that stay in the keystore."""
    csca = ks.generate_ec("eid.csca")
    ds = ks.generate_ec("eid.ds")
    signer = csca.private_key_adapter()
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)
    csca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cardkit TEST CSCA"))
        .issuer_name(_name("cardkit TEST CSCA"))
        .public_key(csca.public_key())
        .serial_number(1001)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(signer, hashes.SHA256())
    )
    ds_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("cardkit TEST Document Signer"))
        .issuer_name(csca_cert.subject)
        .public_key(ds.public_key())
        .serial_number(2001)
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(signer, hashes.SHA256())
    )
    csca_cert.verify_directly_issued_by(csca_cert)
    ds_cert.verify_directly_issued_by(csca_cert)
    assert ds_cert.public_key() == ds.public_key()
    assert ds_cert.signature_hash_algorithm is not None and ds_cert.signature_hash_algorithm.name == "sha256"


def test_adapter_sign_api_and_refusals(ks: Keystore) -> None:
    key = ks.generate_ec("eid.ds")
    adapter = key.private_key_adapter()
    pub = key.public_key()
    sig = adapter.sign(b"data", ec.ECDSA(hashes.SHA256()))
    pub.verify(sig, b"data", ec.ECDSA(hashes.SHA256()))
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"data")
    sig = adapter.sign(digest.finalize(), ec.ECDSA(Prehashed(hashes.SHA256())))
    pub.verify(sig, b"data", ec.ECDSA(hashes.SHA256()))
    assert adapter.public_key() == pub and adapter.key_size == 256 and isinstance(adapter.curve, ec.SECP256R1)
    assert copy.copy(adapter) is adapter and copy.deepcopy(adapter) is adapter
    with pytest.raises(KeystoreError, match="SHA-256 only"):
        adapter.sign(b"data", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(KeystoreError, match="SHA-256 digests only"):
        adapter.sign(bytes(48), ec.ECDSA(Prehashed(hashes.SHA384())))
    with pytest.raises(KeystoreError, match="32 bytes"):
        adapter.sign(bytes(20), ec.ECDSA(Prehashed(hashes.SHA256())))
    with pytest.raises(KeystoreError, match="not available"):
        adapter.private_numbers()
    with pytest.raises(KeystoreError, match="cannot be serialized"):
        adapter.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    with pytest.raises(KeystoreError, match="no key agreement"):
        adapter.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(KeystoreError, match="cannot be pickled"):
        pickle.dumps(adapter)


# --------------------------------------------------------------------------------------------
# Names, kinds, duplicates


def test_names_and_kinds(ks: Keystore) -> None:
    assert ks.names() == []
    ks.import_secret("emv.imk.ac", "3des", PYEMV_IMK)
    ks.generate_rsa("emv.issuer", 1024, 3)
    ks.generate_ec("eid.ds")
    ks.generate_secret("gp.kmc", "aes")
    assert ks.names() == ["eid.ds", "emv.imk.ac", "emv.issuer", "gp.kmc"]
    assert [ks.kind(n) for n in ks.names()] == ["ec", "secret", "rsa", "secret"]


def test_duplicates_are_refused_and_nothing_changes(ks: Keystore) -> None:
    first = ks.import_secret("k", "3des", PYEMV_IMK)
    for make in (
        lambda: ks.import_secret("k", "3des", bytes(16)),
        lambda: ks.generate_secret("k", "aes"),
        lambda: ks.generate_rsa("k", 1024, 3),
        lambda: ks.import_ec("k", ec.generate_private_key(ec.SECP256R1())),
        lambda: ks.generate_ec("k"),
    ):
        with pytest.raises(KeystoreError, match="already holds a secret key named 'k'; keys are never overwritten"):
            make()
    assert ks.names() == ["k"]
    assert ks.secret("k").kcv == first.kcv == bytes.fromhex("08D7B4")
    ks.generate_ec("e")
    with pytest.raises(KeystoreError, match="already holds an EC key named 'e'"):
        ks.import_secret("e", "aes", bytes(16))


def test_unknown_names_and_wrong_kinds(ks: Keystore) -> None:
    ks.import_secret("imk", "3des", PYEMV_IMK)
    ks.generate_ec("ds")
    with pytest.raises(KeystoreError, match="no secret key named 'nope' in "):
        ks.secret("nope")
    with pytest.raises(KeystoreError, match="no rsa key named 'nope'"):
        ks.rsa("nope")
    with pytest.raises(KeystoreError, match="no ec key named 'nope'"):
        ks.ec("nope")
    with pytest.raises(KeystoreError, match="no key named 'nope'"):
        ks.kind("nope")
    with pytest.raises(KeystoreError, match="'imk' in .* is a secret key, not an RSA key"):
        ks.rsa("imk")
    with pytest.raises(KeystoreError, match="'ds' in .* is an EC key, not a secret key"):
        ks.secret("ds")


@pytest.mark.parametrize("bad", ["", "IMK", "imk ac", "../imk", "imk/ac", "ключ", "a" * 65, "imk\n"])
def test_bad_names(ks: Keystore, bad: str) -> None:
    with pytest.raises(KeystoreError, match="bad key name"):
        ks.generate_secret(bad, "aes")
    with pytest.raises(KeystoreError, match="bad key name"):
        ks.secret(bad)
    assert ks.names() == []


def test_errors_are_cardkit_errors(ks: Keystore) -> None:
    with pytest.raises(CryptoError):
        ks.secret("nope")
    assert issubclass(KeystoreError, CardkitError)


# --------------------------------------------------------------------------------------------
# Secrets stay secret


def test_no_secret_in_repr_str_or_errors(ks: Keystore) -> None:
    secret_value = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    aes_value = bytes(range(100, 132))
    rsa_key = demo_issuer_rsa_key()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    s = ks.import_secret("imk", "3des", secret_value)
    a = ks.import_secret("kmc", "aes", aes_value)
    r = ks.import_rsa("issuer", rsa_key)
    e = ks.import_ec("ds", ec_key)
    texts = [repr(ks), str(ks), repr(s), str(s), repr(a), repr(r), str(r), repr(e), repr(e.private_key_adapter())]
    for bad in (lambda: s.encrypt_ecb(b"123"), lambda: ks.import_secret("imk", "3des", secret_value),
                lambda: r.raw_private(b"\x00"), lambda: ks.rsa("imk"), lambda: pickle.dumps(s),
                lambda: pickle.dumps(r), lambda: pickle.dumps(ks), lambda: copy.copy(e)):  # fmt: skip
        with pytest.raises(KeystoreError) as info:
            bad()
        texts.append(str(info.value))
    blob = "\n".join(texts).lower()
    numbers = rsa_key.private_numbers()
    forbidden = [secret_value.hex(), secret_value[:8].hex(), aes_value.hex(), aes_value[:8].hex(),
                 f"{numbers.d:x}"[:32], f"{numbers.p:x}"[:32], str(numbers.d)[:30],
                 f"{ec_key.private_numbers().private_value:x}"[:32]]  # fmt: skip
    for value in forbidden:
        assert value.lower() not in blob
    assert "kcv 08d7b4" in repr(s).lower() and "'imk'" in repr(s)
    assert "imk" in repr(ks) and "issuer" in repr(ks)


def test_key_objects_do_not_pickle_or_copy(ks: Keystore) -> None:
    s = ks.import_secret("imk", "3des", PYEMV_IMK)
    for obj in (s, ks.generate_rsa("r", 1024, 3), ks.generate_ec("e"), ks):
        with pytest.raises(KeystoreError, match="cannot be pickled"):
            pickle.dumps(obj)
        with pytest.raises(KeystoreError, match="cannot be pickled"):
            copy.deepcopy(obj)


# --------------------------------------------------------------------------------------------
# Lifecycle, references, processes, threads


def test_close_stops_every_key(backend: Backend) -> None:
    ks = backend.store
    s = ks.import_secret("imk", "3des", PYEMV_IMK)
    r = ks.generate_rsa("r", 1024, 3)
    e = ks.generate_ec("e")
    with ks:
        pass  # the context manager closes
    assert ks.closed
    for use in (lambda: s.encrypt_ecb(bytes(8)), lambda: r.raw_private(bytes(128)), lambda: e.sign(b"x"),
                lambda: ks.names(), lambda: ks.secret("imk"), lambda: ks.generate_ec("f"),
                lambda: e.private_key_adapter()):  # fmt: skip
        with pytest.raises(KeystoreError, match="is closed"):
            use()
    ks.close()  # idempotent
    assert "closed" in repr(ks) and repr(s).startswith("<SecretKey 'imk' 3des-128 KCV")


def test_keys_persist_across_reopen(backend: Backend) -> None:
    ks = backend.store
    ks.import_secret("imk", "3des", PYEMV_IMK)
    kmc = ks.generate_secret("gp.kmc", "aes")
    r = ks.generate_rsa("issuer", 1024, 3)
    e = ks.generate_ec("ds")
    block = bytes(range(16))
    expected = (kmc.encrypt_ecb(block), r.public_key().public_numbers())
    ks.close()
    again = backend.reopen()
    assert again.names() == ["ds", "gp.kmc", "imk", "issuer"]
    assert again.secret("imk").kcv == bytes.fromhex("08D7B4")
    assert (again.secret("gp.kmc").encrypt_ecb(block), again.rsa("issuer").public_key().public_numbers()) == expected
    assert again.ec("ds").public_key() == e.public_key()
    again.ec("ds").public_key().verify(again.ec("ds").sign(b"m"), b"m", ec.ECDSA(hashes.SHA256()))


def test_two_open_objects_on_one_store(backend: Backend) -> None:
    one = backend.store
    two = backend.reopen()
    one.import_secret("a", "aes", bytes(16))
    two.import_secret("b", "aes", b"\x01" * 16)
    # a token is shared state; a file store object sees keys other objects added at its next write
    assert one.names() == (["a"] if backend.name == "file" else ["a", "b"])
    one.import_secret("c", "aes", b"\x02" * 16)  # a write merges what the other object added
    assert one.names() == ["a", "b", "c"]
    two.close()
    assert one.secret("b").kcv == _raw_aes(b"\x01" * 16, b"\x01" * 16)[:3]  # closing one leaves the other working
    assert one.secret("a").encrypt_ecb(bytes(16)) == _raw_aes(bytes(16), bytes(16))


def test_ref_pickles_and_reopens_in_a_spawned_process(backend: Backend) -> None:
    ks = backend.store
    ref = ks.ref()
    assert ref.backend == backend.name
    pickled = pickle.dumps(ref)
    assert pickle.loads(pickled) == ref
    if backend.name == "memory":
        with pytest.raises(KeystoreError, match="cannot be reopened"):
            open_keystore(ref, None)
        return
    assert backend.secret is not None and backend.secret.encode() not in pickled
    imk = ks.import_secret("imk", "3des", PYEMV_IMK)
    issuer = ks.import_rsa("issuer", demo_issuer_rsa_key())
    ds = ks.generate_ec("ds")
    block = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    n_len = issuer.public_key().key_size // 8
    rsa_block = b"\x6a" + b"\x5a" * (n_len - 2) + b"\xbc"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        got = pool.apply(_worker.use_reopened, (pickled, backend.secret, block, rsa_block, b"SOD"))
        wrong = pool.apply(_worker.open_with, (pickled, backend.secret + "x"))
    assert got["names"] == b"ds,imk,issuer"
    assert got["ecb"] == imk.encrypt_ecb(block) and got["kcv"] == bytes.fromhex("08D7B4")
    assert got["raw"] == issuer.raw_private(rsa_block)
    ds.public_key().verify(got["sig"], b"SOD", ec.ECDSA(hashes.SHA256()))
    assert "wrong passphrase" in wrong or "wrong PIN" in wrong
    assert ks.secret("imk").encrypt_ecb(block) == got["ecb"]  # the parent's store still works


def test_open_keystore_needs_a_secret(tmp_path: object) -> None:
    with pytest.raises(KeystoreError, match="needs its passphrase"):
        open_keystore(KeystoreRef("file", path="/nonexistent/keys.json"), None)
    with pytest.raises(KeystoreError, match="needs its user PIN"):
        open_keystore(KeystoreRef("pkcs11", module="/x.so", token_label="t"), "")
    with pytest.raises(KeystoreError, match="unknown keystore backend"):
        KeystoreRef("vault")
    with pytest.raises(KeystoreError, match="needs its path"):
        KeystoreRef("file")
    with pytest.raises(KeystoreError, match="module path and the token label"):
        KeystoreRef("pkcs11", module="/x.so")


def test_threads_share_a_keystore(ks: Keystore) -> None:
    k = ks.import_secret("imk", "3des", PYEMV_IMK)
    e = ks.generate_ec("ds")
    expected = {i: _raw_tdes(PYEMV_IMK, i.to_bytes(8, "big")) for i in range(64)}
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for i in range(start, 64, 4):
                results[i] = k.encrypt_ecb(i.to_bytes(8, "big"))
                e.public_key().verify(e.sign(bytes([i])), bytes([i]), ec.ECDSA(hashes.SHA256()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == expected
