"""The PKCS#11 keystore (python-pkcs11): keys are made on the token and never leave it.

Secret keys are generated with C_GenerateKey (or created with C_CreateObject for an import)
as token objects with CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_MODIFIABLE and
CKA_COPYABLE false and CKA_ENCRYPT as their only usage; 2-key 3DES is CKK_DES2 used with
CKM_DES3_ECB, AES is CKM_AES_ECB. RSA pairs are generated on the token and sign with
CKM_RSA_X_509 (the raw private operation); P-256 pairs sign SHA-256 digests with CKM_ECDSA
(r || s, DER-encoded here). CKA_LABEL is the key name.

Process and thread rules:

* PKCS#11 logs in per application (per process and token): the first keystore opened on a
  token logs in on a session of its own that stays open while any keystore of this process uses
  the token, and each keystore object works on its own session. A second keystore opened on the
  same token in the same process is checked against the PIN the first one used (an HMAC under a
  per-process random key; the PIN itself is not kept).
* Every token call is made under one lock per module, so threads may share a keystore.
* A forked child may not use its parent's keystore objects (they raise KeystoreError): each
  worker process opens its own keystore from :meth:`Keystore.ref`; a forked child that opens
  one re-initialises the module first (PKCS#11 v2.40 §6.7.7). The ``spawn`` start method needs
  nothing special.
* SoftHSM2 reads ``SOFTHSM2_CONF`` and its token directory when the module is initialised; a
  token created later is found because an unknown label re-initialises the module once, when no
  keystore of this process has a session on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cardkit.issuer.keystore._base import EcKey, Keystore, KeystoreError, KeystoreRef, RsaKey, SecretKey, check_name
from cardkit.issuer.keystore._keys import EcKeyBase, RsaKeyBase, SecretKeyBase

__all__ = ["Pkcs11Keystore", "default_pkcs11_module"]

log = logging.getLogger(__name__)

_SOFTHSM_CONF = "SOFTHSM2_CONF"
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")  # DER OID 1.2.840.10045.3.1.7 (secp256r1)
_SOFTHSM_PLACES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/{multiarch}/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


def default_pkcs11_module() -> str | None:
    """Path of SoftHSM2's module where distributions put it (Debian, Fedora, /usr/local,
    Homebrew), or ``None`` when it is not installed."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    for place in _SOFTHSM_PLACES:
        candidate = Path(place.format(multiarch=multiarch))
        if candidate.is_file():
            return str(candidate)
    return None


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:
        raise KeystoreError("the PKCS#11 keystore needs python-pkcs11: pip install 'cardkit[hsm]'") from None
    return pkcs11


# ----------------------------------------------------------------------------------------------
# Per-process state: loaded modules, logins, locks


@dataclass
class _Login:
    token: Any  # pkcs11.Token
    holder: Any  # the session that carries the login
    pin_mac: bytes
    users: int = 0


class _Process:
    """What one process knows about its modules; replaced in a forked child."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.module_locks: dict[str, threading.RLock] = {}
        self.logins: dict[tuple[str, str], _Login] = {}
        self.pin_key = os.urandom(32)
        self.reinit: set[str] = set()  # modules inherited through fork, to re-initialise
        self.conf: dict[str, str | None] = {}  # SOFTHSM2_CONF each SoftHSM2 module was initialised with

    def module_lock(self, module: str) -> threading.RLock:
        with self.lock:
            return self.module_locks.setdefault(module, threading.RLock())

    def pin_mac(self, pin: str) -> bytes:
        return hmac.new(self.pin_key, pin.encode("utf-8"), hashlib.sha256).digest()


_STATE = _Process()


def _after_fork() -> None:
    global _STATE
    inherited = set(_STATE.module_locks)
    _STATE = _Process()
    _STATE.reinit = inherited


os.register_at_fork(after_in_child=_after_fork)


def _conf(module: str) -> str | None:
    """SOFTHSM2_CONF as SoftHSM2 would read it now (None for other modules)."""
    return os.environ.get(_SOFTHSM_CONF) if "softhsm" in Path(module).name.lower() else None


def _conf_changed(module: str) -> KeystoreError:
    return KeystoreError(
        f"{_SOFTHSM_CONF} changed while keystores of this process use {module}; close them before"
        " switching SoftHSM2 configurations"
    )


def _load(module: str) -> Any:
    """The module's ``pkcs11.lib``, initialised for this process."""
    pkcs11 = _pkcs11()
    if not Path(module).is_file():
        raise KeystoreError(f"PKCS#11 module {module} not found (for SoftHSM2 install the softhsm2 package)")
    conf = _conf(module)
    try:
        lib = pkcs11.lib(module)
        stale = module in _STATE.conf and _STATE.conf[module] != conf
        if stale and any(m == module for m, _ in _STATE.logins):
            raise _conf_changed(module)
        if module in _STATE.reinit or stale:  # a forked child, or SoftHSM2 pointed at other tokens
            lib.reinitialize()
            _STATE.reinit.discard(module)
        _STATE.conf[module] = conf
    except pkcs11.PKCS11Error as exc:
        raise KeystoreError(
            f"cannot initialise PKCS#11 module {module} ({type(exc).__name__} {exc}); for SoftHSM2 check that "
            "SOFTHSM2_CONF names a readable configuration and token directory"
        ) from None
    return lib


def _find_token(lib: Any, module: str, label: str) -> Any:
    pkcs11 = _pkcs11()
    for attempt in (1, 2):
        try:
            return lib.get_token(token_label=label)
        except pkcs11.NoSuchToken:
            if attempt == 1 and not any(m == module for m, _ in _STATE.logins):
                lib.reinitialize()  # SoftHSM2 scans its token directory at C_Initialize only
                continue
        except pkcs11.MultipleTokensReturned:
            raise KeystoreError(f"module {module} has more than one token labelled {label!r}") from None
        except pkcs11.PKCS11Error as exc:
            raise KeystoreError(f"module {module}: listing tokens failed ({type(exc).__name__})") from None
    labels = ", ".join(repr(t.label) for t in lib.get_tokens()) or "none"
    raise KeystoreError(f"no token labelled {label!r} in PKCS#11 module {module} (tokens: {labels})")


def _login(module: str, label: str, pin: str) -> _Login:
    """The process's login on the token, made now or checked against the PIN that made it."""
    pkcs11 = _pkcs11()
    key = (module, label)
    login = _STATE.logins.get(key)
    if login is not None:
        if _STATE.conf.get(module) != _conf(module):
            raise _conf_changed(module)
        if not hmac.compare_digest(login.pin_mac, _STATE.pin_mac(pin)):
            raise KeystoreError(f"wrong PIN for token {label!r}")
        return login
    token = _find_token(_load(module), module, label)
    try:
        holder = token.open(user_pin=pin, rw=True)
    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid):
        raise KeystoreError(f"wrong PIN for token {label!r}") from None
    except pkcs11.PinLocked:
        raise KeystoreError(f"the user PIN of token {label!r} is locked; the security officer must reset it") from None
    except pkcs11.UserAlreadyLoggedIn:
        raise KeystoreError(
            f"other code in this process is logged in to token {label!r}, so the PIN cannot be checked;"
            " close its session first"
        ) from None
    except pkcs11.PKCS11Error as exc:
        raise KeystoreError(f"cannot log in to token {label!r} ({type(exc).__name__})") from None
    login = _Login(token, holder, _STATE.pin_mac(pin))
    _STATE.logins[key] = login
    return login


# ----------------------------------------------------------------------------------------------
# Key objects


class _P11SecretKey(SecretKeyBase):
    __slots__ = ("_object", "_mechanism")

    def __init__(self, store: Pkcs11Keystore, name: str, obj: Any, algorithm: str, length: int) -> None:
        super().__init__(store, name, algorithm, length)
        self._object = obj
        pkcs11 = _pkcs11()
        self._mechanism = pkcs11.Mechanism.DES3_ECB if algorithm == "3des" else pkcs11.Mechanism.AES_ECB

    def _ecb(self, data: bytes) -> bytes:
        store = self._store
        assert isinstance(store, Pkcs11Keystore)
        with store.calling(f"ECB encryption under {self._name!r}"):
            return bytes(self._object.encrypt(data, mechanism=self._mechanism))


class _P11RsaKey(RsaKeyBase):
    __slots__ = ("_object",)

    def __init__(self, store: Pkcs11Keystore, name: str, obj: Any, public: rsa.RSAPublicKey) -> None:
        super().__init__(store, name, public)
        self._object = obj

    def _raw(self, m: int) -> int:
        store = self._store
        assert isinstance(store, Pkcs11Keystore)
        n_len = (self._public.key_size + 7) // 8
        with store.calling(f"RSA private operation with {self._name!r}"):
            out = self._object.sign(m.to_bytes(n_len, "big"), mechanism=_pkcs11().Mechanism.RSA_X_509)
        return int.from_bytes(out, "big")


class _P11EcKey(EcKeyBase):
    __slots__ = ("_object",)

    def __init__(self, store: Pkcs11Keystore, name: str, obj: Any, public: ec.EllipticCurvePublicKey) -> None:
        super().__init__(store, name, public)
        self._object = obj

    def _sign_digest(self, digest: bytes) -> bytes:
        store = self._store
        assert isinstance(store, Pkcs11Keystore)
        with store.calling(f"ECDSA signature with {self._name!r}"):
            rs = bytes(self._object.sign(digest, mechanism=_pkcs11().Mechanism.ECDSA))
        if len(rs) != 64:
            raise KeystoreError(f"EC key {self._name!r}: the token returned a {len(rs)}-byte signature")
        return encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))


def _ec_public(point: bytes, name: str) -> ec.EllipticCurvePublicKey:
    """CKA_EC_POINT: a DER OCTET STRING around the X9.62 point (PKCS#11 v2.40), or the bare point."""
    if len(point) == 67 and point[:2] == b"\x04\x41":
        point = point[2:]
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise KeystoreError(f"EC key {name!r}: the token's public point is not a P-256 point") from None


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


# ----------------------------------------------------------------------------------------------
# The keystore


class Pkcs11Keystore(Keystore):
    """Issuer keys on a PKCS#11 token (an HSM; SoftHSM2 in tests). Open with :meth:`open`."""

    backend = "pkcs11"
    _fork_bound = True

    def __init__(self, module: str, label: str, login: _Login, session: Any) -> None:
        super().__init__()
        self._module = module
        self._label = label
        self._login_state = login
        self._session: Any = session
        self._lock = _STATE.module_lock(module)
        self._cache: dict[str, SecretKeyBase | RsaKeyBase | EcKeyBase] = {}

    @classmethod
    def open(cls, module: str, token_label: str, pin: str) -> Pkcs11Keystore:
        """Log in to the token labelled ``token_label`` of the PKCS#11 ``module`` (a path).

        Raises:
            KeystoreError: python-pkcs11 missing, module not found or failing to initialise,
                no such token, "wrong PIN for token ...", PIN locked.
        """
        if not isinstance(pin, str) or not pin:
            raise KeystoreError(f"token {token_label!r} needs the user PIN")
        module = str(module)
        with _STATE.module_lock(module):
            login = _login(module, token_label, pin)
            try:
                session = login.token.open(rw=True)  # shares the login of the holder session
            except _pkcs11().PKCS11Error as exc:
                if login.users == 0:
                    _STATE.logins.pop((module, token_label), None)
                    with contextlib.suppress(Exception):
                        login.holder.close()
                raise KeystoreError(f"cannot open a session on token {token_label!r} ({type(exc).__name__})") from None
            login.users += 1
        return cls(module, token_label, login, session)

    @contextlib.contextmanager
    def calling(self, what: str) -> Iterator[None]:
        """One token call: the store is usable, the module lock is held, errors become KeystoreError."""
        self.check_usable()
        pkcs11 = _pkcs11()
        with self._lock:
            try:
                yield
            except pkcs11.PKCS11Error as exc:
                raise KeystoreError(f"token {self._label!r}: {what} failed ({type(exc).__name__})") from None

    @property
    def where(self) -> str:
        return f"token {self._label!r}"

    def ref(self) -> KeystoreRef:
        return KeystoreRef("pkcs11", module=self._module, token_label=self._label)

    def _close(self) -> None:
        if os.getpid() != self._pid:
            return  # a forked child: the session belongs to the parent's module state
        with self._lock:
            try:
                self._session.close()
            except _pkcs11().PKCS11Error as exc:
                log.debug("closing a session on token %r failed: %s", self._label, type(exc).__name__)
            login = self._login_state
            login.users -= 1
            if login.users == 0 and _STATE.logins.get((self._module, self._label)) is login:
                del _STATE.logins[(self._module, self._label)]
                try:
                    login.holder.close()  # C_Logout + C_CloseSession
                except _pkcs11().PKCS11Error as exc:
                    log.debug("logging out of token %r failed: %s", self._label, type(exc).__name__)
        self._cache.clear()

    # --- finding objects ---------------------------------------------------------------------

    def _objects(self, attrs: dict[Any, Any]) -> list[Any]:
        with self.calling("searching objects"):
            return list(self._session.get_objects(attrs))

    def _key_objects(self, name: str | None = None) -> list[tuple[str, str, Any]]:
        """(label, kind, object) of every secret and private key cardkit can use."""
        pkcs11 = _pkcs11()
        A, C, K = pkcs11.Attribute, pkcs11.ObjectClass, pkcs11.KeyType
        found: list[tuple[str, str, Any]] = []
        for cls in (C.SECRET_KEY, C.PRIVATE_KEY):
            attrs: dict[Any, Any] = {A.CLASS: cls}
            if name is not None:
                attrs[A.LABEL] = name
            for obj in self._objects(attrs):
                with self.calling("reading key attributes"):
                    label, key_type = obj[A.LABEL], obj[A.KEY_TYPE]
                kind = {K.DES2: "secret", K.DES3: "secret", K.AES: "secret", K.RSA: "rsa", K.EC: "ec"}.get(key_type)
                if kind is None or (kind == "secret") != (cls == C.SECRET_KEY):
                    continue
                try:
                    check_name(label)
                except KeystoreError:
                    continue
                found.append((label, kind, obj))
        return found

    def _one(self, name: str) -> tuple[str, Any] | None:
        objects = self._key_objects(name)
        if len(objects) > 1:
            raise KeystoreError(f"{self.where} holds {len(objects)} keys labelled {name!r}; remove the extra ones")
        return (objects[0][1], objects[0][2]) if objects else None

    def _names(self) -> list[str]:
        return sorted({label for label, _, _ in self._key_objects()})

    def _kind(self, name: str) -> str | None:
        if name in self._cache:
            return self._cache[name].kind
        found = self._one(name)
        return found[0] if found else None

    def _get(self, name: str) -> SecretKeyBase | RsaKeyBase | EcKeyBase:
        if name not in self._cache:
            found = self._one(name)
            if found is None:
                raise KeystoreError(f"no key named {name!r} in {self.where}")
            self._cache[name] = self._wrap(name, *found)
        return self._cache[name]

    def _wrap(self, name: str, kind: str, obj: Any) -> SecretKeyBase | RsaKeyBase | EcKeyBase:
        pkcs11 = _pkcs11()
        A, K = pkcs11.Attribute, pkcs11.KeyType
        with self.calling(f"reading the attributes of {name!r}"):
            if kind == "secret":
                key_type = obj[A.KEY_TYPE]
                if key_type == K.AES:
                    return _P11SecretKey(self, name, obj, "aes", int(obj[A.VALUE_LEN]))
                return _P11SecretKey(self, name, obj, "3des", 16 if key_type == K.DES2 else 24)
            if kind == "rsa":
                n = int.from_bytes(obj[A.MODULUS], "big")
                e = int.from_bytes(obj[A.PUBLIC_EXPONENT], "big")
                return _P11RsaKey(self, name, obj, rsa.RSAPublicNumbers(e, n).public_key())
            if bytes(obj[A.EC_PARAMS]) != _P256_PARAMS:
                raise KeystoreError(f"EC key {name!r} on {self.where} is not on P-256")
        publics = self._objects({A.CLASS: pkcs11.ObjectClass.PUBLIC_KEY, A.LABEL: name, A.KEY_TYPE: K.EC})
        if len(publics) != 1:
            raise KeystoreError(f"EC key {name!r} on {self.where} has {len(publics)} public key objects, not 1")
        with self.calling(f"reading the public point of {name!r}"):
            point = bytes(publics[0][A.EC_POINT])
        return _P11EcKey(self, name, obj, _ec_public(point, name))

    def _secret(self, name: str) -> SecretKey:
        key = self._get(name)
        assert isinstance(key, _P11SecretKey)
        return key

    def _rsa(self, name: str) -> RsaKey:
        key = self._get(name)
        assert isinstance(key, _P11RsaKey)
        return key

    def _ec(self, name: str) -> EcKey:
        key = self._get(name)
        assert isinstance(key, _P11EcKey)
        return key

    # --- making objects ----------------------------------------------------------------------

    def _private_template(self, name: str, **usage: bool) -> dict[Any, Any]:
        A = _pkcs11().Attribute
        template: dict[Any, Any] = {
            A.TOKEN: True,
            A.PRIVATE: True,
            A.SENSITIVE: True,
            A.EXTRACTABLE: False,
            A.MODIFIABLE: False,
            A.COPYABLE: False,
            A.LABEL: name,
            A.ID: name.encode(),
        }
        for attr, value in usage.items():
            template[getattr(A, attr.upper())] = value
        return template

    def _public_template(self, name: str) -> dict[Any, Any]:
        A = _pkcs11().Attribute
        return {
            A.TOKEN: True,
            A.PRIVATE: False,
            A.MODIFIABLE: False,
            A.LABEL: name,
            A.ID: name.encode(),
            A.VERIFY: True,
            A.ENCRYPT: False,
            A.WRAP: False,
        }

    @contextlib.contextmanager
    def _making(self, name: str, what: str) -> Iterator[list[Any]]:
        """Create objects for one key; on any failure destroy what was made (loses nothing, adds
        nothing), and refuse a label that another process created at the same moment."""
        made: list[Any] = []
        try:
            with self.calling(what):
                yield made
            if len(self._key_objects(name)) > 1:
                raise KeystoreError(f"{self.where} already holds a key named {name!r} (made by another process)")
        except BaseException:
            with self._lock:
                for obj in made:
                    with contextlib.suppress(Exception):
                        obj.destroy()
            raise

    _SECRET_USAGE = {
        "encrypt": True,
        "decrypt": False,
        "wrap": False,
        "unwrap": False,
        "sign": False,
        "verify": False,
        "derive": False,
    }

    def _generate_secret(self, name: str, algorithm: str, length: int) -> SecretKey:
        pkcs11 = _pkcs11()
        with self._making(name, f"generating secret key {name!r}") as made:
            key_type = pkcs11.KeyType.DES2 if algorithm == "3des" else pkcs11.KeyType.AES
            made.append(
                self._session.generate_key(
                    key_type,
                    None if algorithm == "3des" else length * 8,
                    label=name,
                    id=name.encode(),
                    store=True,
                    capabilities=pkcs11.MechanismFlag.ENCRYPT,
                    template=self._private_template(name, **self._SECRET_USAGE),
                )
            )
        return self._secret(name)

    def _import_secret(self, name: str, algorithm: str, value: bytes) -> SecretKey:
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        template = self._private_template(name, **self._SECRET_USAGE)
        template[A.CLASS] = pkcs11.ObjectClass.SECRET_KEY
        template[A.KEY_TYPE] = pkcs11.KeyType.DES2 if algorithm == "3des" else pkcs11.KeyType.AES
        template[A.VALUE] = value
        with self._making(name, f"importing secret key {name!r}") as made:
            made.append(self._session.create_object(template))
        return self._secret(name)

    def _generate_rsa(self, name: str, bits: int, public_exponent: int) -> RsaKey:
        pkcs11 = _pkcs11()
        public = self._public_template(name)
        public[pkcs11.Attribute.PUBLIC_EXPONENT] = _int_bytes(public_exponent)
        with self._making(name, f"generating RSA key {name!r}") as made:
            made.extend(
                self._session.generate_keypair(
                    pkcs11.KeyType.RSA,
                    bits,
                    label=name,
                    id=name.encode(),
                    store=True,
                    capabilities=pkcs11.MechanismFlag.SIGN,
                    public_template=public,
                    private_template=self._private_template(name, sign=True, decrypt=False, unwrap=False, derive=False),
                )
            )
        return self._rsa(name)

    def _import_rsa(self, name: str, key: rsa.RSAPrivateKey) -> RsaKey:
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        priv = key.private_numbers()
        pub = priv.public_numbers
        template = self._private_template(name, sign=True, decrypt=False, unwrap=False, derive=False)
        template.update({
            A.CLASS: pkcs11.ObjectClass.PRIVATE_KEY, A.KEY_TYPE: pkcs11.KeyType.RSA,
            A.MODULUS: _int_bytes(pub.n), A.PUBLIC_EXPONENT: _int_bytes(pub.e),
            A.PRIVATE_EXPONENT: _int_bytes(priv.d), A.PRIME_1: _int_bytes(priv.p), A.PRIME_2: _int_bytes(priv.q),
            A.EXPONENT_1: _int_bytes(priv.dmp1), A.EXPONENT_2: _int_bytes(priv.dmq1),
            A.COEFFICIENT: _int_bytes(priv.iqmp),
        })  # fmt: skip
        public = self._public_template(name)
        public.update({A.CLASS: pkcs11.ObjectClass.PUBLIC_KEY, A.KEY_TYPE: pkcs11.KeyType.RSA,
                       A.MODULUS: _int_bytes(pub.n), A.PUBLIC_EXPONENT: _int_bytes(pub.e)})  # fmt: skip
        with self._making(name, f"importing RSA key {name!r}") as made:
            made.append(self._session.create_object(template))
            made.append(self._session.create_object(public))
        return self._rsa(name)

    def _generate_ec(self, name: str) -> EcKey:
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        with self._making(name, f"generating EC key {name!r}") as made:
            params = self._session.create_domain_parameters(pkcs11.KeyType.EC, {A.EC_PARAMS: _P256_PARAMS}, local=True)
            made.extend(
                params.generate_keypair(
                    label=name,
                    id=name.encode(),
                    store=True,
                    capabilities=pkcs11.MechanismFlag.SIGN,
                    public_template=self._public_template(name),
                    private_template=self._private_template(name, sign=True, decrypt=False, unwrap=False, derive=False),
                )
            )
        return self._ec(name)

    def _import_ec(self, name: str, key: ec.EllipticCurvePrivateKey) -> EcKey:
        from cryptography.hazmat.primitives import serialization

        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        template = self._private_template(name, sign=True, decrypt=False, unwrap=False, derive=False)
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        template.update({A.CLASS: pkcs11.ObjectClass.PRIVATE_KEY, A.KEY_TYPE: pkcs11.KeyType.EC,
                         A.EC_PARAMS: _P256_PARAMS, A.VALUE: scalar})  # fmt: skip
        public = self._public_template(name)
        public.update({A.CLASS: pkcs11.ObjectClass.PUBLIC_KEY, A.KEY_TYPE: pkcs11.KeyType.EC,
                       A.EC_PARAMS: _P256_PARAMS, A.EC_POINT: b"\x04\x41" + point})  # fmt: skip
        with self._making(name, f"importing EC key {name!r}") as made:
            made.append(self._session.create_object(template))
            made.append(self._session.create_object(public))
        return self._ec(name)
