"""The file keystore: one JSON file, each key sealed with AES-256-GCM under a scrypt-derived key.

Layout (``format`` ``cardkit-keystore``, ``version`` 1)::

    {"format": "cardkit-keystore", "version": 1,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<base64, 16 bytes>"},
     "cipher": "AES-256-GCM",
     "check": {"nonce": "<base64>", "ciphertext": "<base64>"},
     "keys": [{"name": "imk-ac", "kind": "secret", "algorithm": "3des", "length": 16, "kcv": "08d7b4",
               "nonce": "<base64, 12 bytes>", "ciphertext": "<base64>"}, ...]}

Every entry's associated data is the format, the version and the entry's own description
(name, kind, algorithm, length, KCV...), canonically encoded: an entry moved under another
name, relabelled or given another KCV fails authentication. ``check`` seals a fixed text so a
wrong passphrase is told apart from one damaged entry even in an empty store. The KDF
parameters are read from the file (bounded, so a hostile file cannot make opening take
minutes); n = 2^15, r = 8 takes about 85 ms on the 2-core reference machine.

Writes are atomic (temporary file in the same directory, fsync, rename, fsync of the
directory), taken under an exclusive ``flock`` of the directory, and merge entries that another
process added since this one opened the file. A file readable or writable by group or others is
refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cardkit.issuer.keystore._base import KeystoreError, KeystoreRef, check_name, check_secret_spec
from cardkit.issuer.keystore._keys import RsaKeyBase, SecretKeyBase
from cardkit.issuer.keystore._soft import Meta, SoftKeystore

__all__ = ["FileKeystore"]

FORMAT = "cardkit-keystore"
VERSION = 1
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_CHECK_TEXT = b"cardkit-keystore passphrase check"
_MAX_FILE = 16 << 20
_META_FIELDS: dict[str, dict[str, type]] = {
    "secret": {"algorithm": str, "length": int, "kcv": str},
    "rsa": {"bits": int, "public_exponent": int},
    "ec": {"curve": str},
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _aad(meta: Meta | None) -> bytes:
    body = {"format": FORMAT, "version": VERSION, "entry": dict(meta) if meta is not None else "check"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class _Kdf:
    salt: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def derive(self, passphrase: str) -> AESGCM:
        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        return AESGCM(Scrypt(salt=self.salt, length=32, n=self.n, r=self.r, p=self.p).derive(secret))

    def to_json(self) -> dict[str, Any]:
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)}


@dataclass(frozen=True, slots=True)
class _Sealed:
    meta: Meta | None  # None: the passphrase check
    nonce: bytes
    ciphertext: bytes

    def open(self, aead: AESGCM) -> bytes:
        return aead.decrypt(self.nonce, self.ciphertext, _aad(self.meta))

    def to_json(self) -> dict[str, Any]:
        return {**(self.meta or {}), "nonce": _b64(self.nonce), "ciphertext": _b64(self.ciphertext)}


def _seal(aead: AESGCM, meta: Meta | None, plaintext: bytes) -> _Sealed:
    nonce = os.urandom(12)
    return _Sealed(meta, nonce, aead.encrypt(nonce, plaintext, _aad(meta)))


@dataclass(frozen=True, slots=True)
class _Document:
    kdf: _Kdf
    check: _Sealed
    entries: tuple[_Sealed, ...]

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": self.kdf.to_json(),
            "cipher": "AES-256-GCM",
            "check": self.check.to_json(),
            "keys": [e.to_json() for e in self.entries],
        }
        return (json.dumps(doc, indent=1) + "\n").encode()


# ----------------------------------------------------------------------------------------------
# Parsing: every malformed part is named


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, what: str) -> KeystoreError:
        return KeystoreError(f"keystore {self.path} {what}")

    def field(self, obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
        if key not in obj:
            raise self.fail(f"is damaged: {where} has no {key!r}")
        value = obj[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"is damaged: {where} {key!r} is not {'a number' if kind is int else 'a string'}")
        return value

    def b64(self, obj: dict[str, Any], key: str, where: str) -> bytes:
        try:
            return base64.b64decode(self.field(obj, key, str, where), validate=True)
        except binascii.Error:
            raise self.fail(f"is damaged: {where} {key!r} is not base64") from None

    def document(self, raw: bytes) -> _Document:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.fail("is not a text file (not a cardkit keystore)") from None
        except json.JSONDecodeError as exc:
            raise self.fail(f"is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise self.fail(f"is not a cardkit keystore (format {found!r}, expected {FORMAT!r})")
        if doc.get("version") != VERSION:
            raise self.fail(f"has version {doc.get('version')!r}; this cardkit reads version {VERSION}")
        if doc.get("cipher") != "AES-256-GCM":
            raise self.fail(f"uses cipher {doc.get('cipher')!r}; this cardkit reads AES-256-GCM")
        kdf_obj = doc.get("kdf")
        if not isinstance(kdf_obj, dict) or kdf_obj.get("name") != "scrypt":
            raise self.fail("is damaged: 'kdf' is not scrypt parameters")
        kdf = _Kdf(
            self.b64(kdf_obj, "salt", "kdf"),
            self.field(kdf_obj, "n", int, "kdf"),
            self.field(kdf_obj, "r", int, "kdf"),
            self.field(kdf_obj, "p", int, "kdf"),
        )
        if not (16 <= len(kdf.salt) <= 64 and 2**10 <= kdf.n <= 2**20 and kdf.n & (kdf.n - 1) == 0):
            raise self.fail("has unacceptable scrypt parameters (salt 16-64 bytes, n a power of 2 from 2^10 to 2^20)")
        if not (1 <= kdf.r <= 32 and 1 <= kdf.p <= 16):
            raise self.fail("has unacceptable scrypt parameters (r 1-32, p 1-16)")
        check_obj = doc.get("check")
        if not isinstance(check_obj, dict):
            raise self.fail("is damaged: no passphrase 'check'")
        check = _Sealed(None, self.b64(check_obj, "nonce", "check"), self.b64(check_obj, "ciphertext", "check"))
        keys = doc.get("keys")
        if not isinstance(keys, list):
            raise self.fail("is damaged: 'keys' is not a list")
        entries = tuple(self.entry(obj, i) for i, obj in enumerate(keys, 1))
        seen: set[str] = set()
        for e in entries:
            assert e.meta is not None
            name = str(e.meta["name"])
            if name in seen:
                raise self.fail(f"is damaged: two entries are named {name!r}")
            seen.add(name)
        return _Document(kdf, check, entries)

    def entry(self, obj: Any, index: int) -> _Sealed:
        where = f"key entry {index}"
        if not isinstance(obj, dict):
            raise self.fail(f"is damaged: {where} is not an object")
        name = self.field(obj, "name", str, where)
        try:
            check_name(name)
        except KeystoreError:
            raise self.fail(f"is damaged: {where} has a bad name {name!r}") from None
        where = f"key {name!r}"
        kind = self.field(obj, "kind", str, where)
        if kind not in _META_FIELDS:
            raise self.fail(f"is damaged: {where} has unknown kind {kind!r}")
        meta: dict[str, str | int] = {"name": name, "kind": kind}
        for key, typ in _META_FIELDS[kind].items():
            meta[key] = self.field(obj, key, typ, where)
        if kind == "secret":
            try:
                check_secret_spec(str(meta["algorithm"]), int(meta["length"]))
            except KeystoreError as exc:
                raise self.fail(f"is damaged: {where}: {exc}") from None
        return _Sealed(meta, self.b64(obj, "nonce", where), self.b64(obj, "ciphertext", where))


# ----------------------------------------------------------------------------------------------
# The keystore


class FileKeystore(SoftKeystore):
    """Issuer keys in one passphrase-protected file (mode 0600). Open with :meth:`create` or
    :meth:`open`; every key is decrypted and checked at open, so a damaged file is reported
    then, not in the middle of a batch."""

    backend = "file"

    def __init__(self, path: Path, kdf: _Kdf, aead: AESGCM, document: _Document) -> None:
        super().__init__()
        self._path = path
        self._kdf = kdf
        self._aead: AESGCM | None = aead
        self._document = document

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, passphrase: str) -> FileKeystore:
        """Create a new, empty keystore file; refuses to replace an existing file."""
        path = Path(path).absolute()
        _check_passphrase(passphrase)
        if path.exists() or path.is_symlink():
            raise KeystoreError(f"keystore {path} already exists; refusing to overwrite it")
        if not path.parent.is_dir():
            raise KeystoreError(f"cannot create keystore {path}: directory {path.parent} does not exist")
        kdf = _Kdf(os.urandom(16))
        aead = kdf.derive(passphrase)
        document = _Document(kdf, _seal(aead, None, _CHECK_TEXT), ())
        with _locked_dir(path):
            _write_new(path, document.to_bytes())
        return cls(path, kdf, aead, document)

    @classmethod
    def open(cls, path: str | Path, passphrase: str) -> FileKeystore:
        """Open an existing keystore file and decrypt (and so authenticate) every key.

        Raises:
            KeystoreError: missing or group/world-accessible file, not a keystore, damaged
                entry (named), or "wrong passphrase or damaged keystore".
        """
        path = Path(path).absolute()
        _check_passphrase(passphrase)
        document = _read(path)
        aead = document.kdf.derive(passphrase)
        try:
            if document.check.open(aead) != _CHECK_TEXT:
                raise InvalidTag
        except InvalidTag:
            raise KeystoreError(f"wrong passphrase or damaged keystore {path}") from None
        store = cls(path, document.kdf, aead, document)
        for entry in document.entries:
            store._load_entry(entry)
        return store

    def _load_entry(self, entry: _Sealed) -> None:
        assert entry.meta is not None and self._aead is not None
        name = entry.meta["name"]
        try:
            plaintext = entry.open(self._aead)
        except InvalidTag:
            raise KeystoreError(
                f"keystore {self._path} is damaged: key {name!r} fails authentication (changed, moved or truncated)"
            ) from None
        try:
            self._add_loaded(entry.meta, plaintext)
        except (KeystoreError, ValueError) as exc:
            raise KeystoreError(f"keystore {self._path} is damaged: key {name!r} does not decode ({exc})") from None
        key = self._keys[str(name)]
        if _description(key) != tuple(entry.meta[k] for k in _META_FIELDS[key.kind]):
            del self._keys[str(name)]
            raise KeystoreError(f"keystore {self._path} is damaged: key {name!r} does not match its description")

    # --- writing -----------------------------------------------------------------------------

    def _persist(self, meta: Meta, plaintext: bytes) -> None:
        if self._aead is None:
            raise KeystoreError(f"{self.where} is closed")
        sealed = _seal(self._aead, meta, plaintext)
        with _locked_dir(self._path):
            on_disk = _read(self._path)
            if on_disk.kdf != self._kdf:
                raise KeystoreError(
                    f"keystore {self._path} was replaced since it was opened (its key derivation changed):"
                    " open it again"
                )
            known = {str(e.meta["name"]) for e in self._document.entries if e.meta is not None}
            for entry in on_disk.entries:  # another process (or keystore object) added these meanwhile
                if entry.meta is not None and str(entry.meta["name"]) not in known:
                    self._load_entry(entry)
            self._document = on_disk
            if meta["name"] in self._keys:
                raise KeystoreError(
                    f"{self.where} already holds a key named {meta['name']!r} (added by another process);"
                    " keys are never overwritten"
                )
            document = _Document(on_disk.kdf, on_disk.check, (*on_disk.entries, sealed))
            _write_replace(self._path, document.to_bytes())
            self._document = document

    # --- the rest ----------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The keystore file."""
        return self._path

    @property
    def where(self) -> str:
        return f"keystore {self._path}"

    def ref(self) -> KeystoreRef:
        return KeystoreRef("file", path=str(self._path))

    def _close(self) -> None:
        super()._close()
        self._aead = None


def _description(key: object) -> tuple[str | int, ...]:
    """What a loaded key says about itself, to compare with its (authenticated) entry."""
    if isinstance(key, SecretKeyBase):
        return (key.algorithm, key.length, key.kcv.hex())
    if isinstance(key, RsaKeyBase):
        public = key.public_key()
        return (public.key_size, public.public_numbers().e)
    return ("P-256",)


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or not passphrase:
        raise KeystoreError("a file keystore needs a non-empty passphrase")


def _read(path: Path) -> _Document:
    parser = _Parser(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise parser.fail("does not exist (create it with FileKeystore.create)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise parser.fail("is a symbolic link; open the file it points to") from None
        raise parser.fail(f"cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise parser.fail("is not a regular file")
        if st.st_mode & 0o077:
            mode = stat.S_IMODE(st.st_mode)
            raise parser.fail(
                f"is accessible by group or others (mode {mode:04o}); keys need mode 0600: run 'chmod 600 {path}'"
            )
        if st.st_size > _MAX_FILE:
            raise parser.fail(f"is {st.st_size} bytes, larger than any keystore ({_MAX_FILE} at most)")
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read(_MAX_FILE + 1)
    finally:
        os.close(fd)
    if not raw:
        raise parser.fail("is empty (truncated?)")
    return parser.document(raw)


@contextlib.contextmanager
def _locked_dir(path: Path) -> Iterator[None]:
    """Serialise writers of keystores in one directory (an advisory flock on the directory)."""
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _temp_file(path: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet: all of it or nothing (link fails if the name exists)."""
    tmp = _temp_file(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise KeystoreError(f"keystore {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeystoreError(f"cannot create keystore {path} ({exc.strerror})") from None
    finally:
        os.unlink(tmp)
    _fsync_dir(path)


def _write_replace(path: Path, data: bytes) -> None:
    """Replace the file atomically: readers see the old or the new version, never a mix."""
    tmp = _temp_file(path, data)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise KeystoreError(f"cannot write keystore {path} ({exc.strerror}); it is unchanged") from None
    _fsync_dir(path)
