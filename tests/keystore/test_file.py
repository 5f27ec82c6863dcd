"""The file keystore's own promises: the format, the passphrase, damage detection, file modes,
atomic writes that lose nothing, and writers in two processes."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from cardkit.issuer.keystore import FileKeystore, KeystoreError
from tests.keystore.conftest import PASSPHRASE

IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # pyemv's test IMK, KCV 08D7B4


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "keys.json"
    with FileKeystore.create(p, PASSPHRASE) as ks:
        ks.import_secret("imk", "3des", IMK)
        ks.import_secret("kmc", "aes", bytes(range(16)))
        ks.generate_rsa("issuer", 1024, 3)
        ks.generate_ec("ds")
    return p


def _doc(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc))
    path.chmod(0o600)


def _entry(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in doc["keys"] if e["name"] == name)


def test_format_records_kdf_and_no_plaintext(path: Path) -> None:
    doc = _doc(path)
    assert (doc["format"], doc["version"], doc["cipher"]) == ("cardkit-keystore", 1, "AES-256-GCM")
    assert {k: doc["kdf"][k] for k in ("name", "n", "r", "p")} == {"name": "scrypt", "n": 2**15, "r": 8, "p": 1}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 16
    imk = _entry(doc, "imk")
    assert {k: imk[k] for k in ("kind", "algorithm", "length", "kcv")} == {
        "kind": "secret", "algorithm": "3des", "length": 16, "kcv": "08d7b4"}  # fmt: skip
    assert len(base64.b64decode(imk["nonce"])) == 12
    assert len(base64.b64decode(imk["ciphertext"])) == 16 + 16  # value + GCM tag
    assert _entry(doc, "issuer")["bits"] == 1024 and _entry(doc, "ds")["curve"] == "P-256"
    raw = path.read_bytes()
    assert IMK not in raw and IMK.hex().encode() not in raw.lower() and bytes(range(16)) not in raw
    assert len({e["nonce"] for e in doc["keys"]}) == 4  # a fresh nonce per entry


def test_scrypt_takes_about_a_tenth_of_a_second(path: Path) -> None:
    # the parameters were chosen for ~100 ms on the 2-core reference machine; this only guards
    # against an accidental change by orders of magnitude (timings belong in benchmarks/)
    start = time.perf_counter()
    FileKeystore.open(path, PASSPHRASE).close()
    assert 0.005 < time.perf_counter() - start < 5


def test_mode_0600_after_create_and_every_write(tmp_path: Path) -> None:
    p = tmp_path / "k.json"
    old = os.umask(0o022)
    try:
        ks = FileKeystore.create(p, PASSPHRASE)
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        ks.generate_secret("a", "aes")
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        ks.close()
    finally:
        os.umask(old)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["k.json"]  # no temporary file left


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o620])
def test_group_or_world_access_is_refused(path: Path, mode: int) -> None:
    path.chmod(mode)
    with pytest.raises(KeystoreError, match=rf"accessible by group or others \(mode 0{mode:o}\).*chmod 600"):
        FileKeystore.open(path, PASSPHRASE)


def test_wrong_passphrase_is_one_clear_line(path: Path) -> None:
    for wrong in ("correct horse battery stapler", "Correct horse battery staple", " "):
        with pytest.raises(KeystoreError) as info:
            FileKeystore.open(path, wrong)
        message = str(info.value)
        assert message == f"wrong passphrase or damaged keystore {path}"
        assert "\n" not in message and (not wrong.strip() or wrong not in message)
        assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(KeystoreError, match="non-empty passphrase"):
        FileKeystore.open(path, "")


def test_unicode_passphrase_is_normalised(tmp_path: Path) -> None:
    p = tmp_path / "k.json"
    FileKeystore.create(p, "caf\u00e9 \u5bc6\u7801").close()  # precomposed é
    FileKeystore.open(p, "cafe\u0301 \u5bc6\u7801").close()  # e + combining acute: same passphrase (NFC)


def test_create_refuses_an_existing_file(path: Path, tmp_path: Path) -> None:
    before = path.read_bytes()
    with pytest.raises(KeystoreError, match="already exists; refusing to overwrite"):
        FileKeystore.create(path, "another passphrase")
    assert path.read_bytes() == before
    with pytest.raises(KeystoreError, match="does not exist"):
        FileKeystore.create(tmp_path / "no" / "such" / "dir.json", PASSPHRASE)
    with pytest.raises(KeystoreError, match="does not exist"):
        FileKeystore.open(tmp_path / "missing.json", PASSPHRASE)


def _corrupt_cases() -> list[tuple[str, Any, str]]:
    def flip(doc: dict[str, Any], name: str, key: str) -> None:
        raw = bytearray(base64.b64decode(_entry(doc, name)[key]))
        raw[0] ^= 1
        _entry(doc, name)[key] = base64.b64encode(bytes(raw)).decode()

    def swap(doc: dict[str, Any]) -> None:
        a, b = _entry(doc, "imk"), _entry(doc, "kmc")
        a["nonce"], b["nonce"] = b["nonce"], a["nonce"]
        a["ciphertext"], b["ciphertext"] = b["ciphertext"], a["ciphertext"]

    def rename(doc: dict[str, Any]) -> None:
        _entry(doc, "imk")["name"] = "imk2"

    def set_(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
        target = doc
        for key in path[:-1]:
            target = _entry(doc, key) if key in ("imk", "kmc", "issuer", "ds") else target[key]
        target[path[-1]] = value

    return [
        ("flip ciphertext", lambda d: flip(d, "kmc", "ciphertext"), "key 'kmc' fails authentication"),
        ("flip nonce", lambda d: flip(d, "issuer", "nonce"), "key 'issuer' fails authentication"),
        ("swap entries", swap, "key 'imk' fails authentication"),
        ("rename entry", rename, "key 'imk2' fails authentication"),
        ("fake kcv", lambda d: set_(d, ("imk", "kcv"), "000000"), "key 'imk' fails authentication"),
        ("relabel algorithm", lambda d: set_(d, ("imk", "algorithm"), "aes"), "key 'imk' fails authentication"),
        ("bad base64", lambda d: set_(d, ("ds", "nonce"), "**"), "key 'ds' 'nonce' is not base64"),
        ("missing field", lambda d: _entry(d, "ds").pop("ciphertext"), "key 'ds' has no 'ciphertext'"),
        ("unknown kind", lambda d: set_(d, ("ds", "kind"), "dsa"), "key 'ds' has unknown kind 'dsa'"),
        ("bad name", lambda d: set_(d, ("ds", "name"), "DS"), "key entry 4 has a bad name 'DS'"),
        ("duplicate", lambda d: d["keys"].append(dict(_entry(d, "ds"))), "two entries are named 'ds'"),
        ("wrong format", lambda d: d.update(format="pkcs12"), "is not a cardkit keystore \\(format 'pkcs12'"),
        ("future version", lambda d: d.update(version=2), "has version 2; this cardkit reads version 1"),
        ("kdf n huge", lambda d: d["kdf"].update(n=2**30), "unacceptable scrypt parameters"),
        ("kdf n not power of 2", lambda d: d["kdf"].update(n=30000), "unacceptable scrypt parameters"),
        ("kdf r", lambda d: d["kdf"].update(r=0), "unacceptable scrypt parameters"),
        ("kdf as text", lambda d: d["kdf"].update(n="32768"), "'n' is not a number"),
        ("no check", lambda d: d.pop("check"), "no passphrase 'check'"),
        ("keys not a list", lambda d: d.update(keys={}), "'keys' is not a list"),
        ("check flipped", lambda d: d["check"].update(ciphertext=base64.b64encode(bytes(49)).decode()),
         "wrong passphrase or damaged keystore"),
    ]  # fmt: skip


@pytest.mark.parametrize(("case", "damage", "message"), _corrupt_cases(), ids=[c[0] for c in _corrupt_cases()])
def test_damaged_file_is_named(path: Path, case: str, damage: Any, message: str) -> None:
    doc = _doc(path)
    damage(doc)
    _write(path, doc)
    with pytest.raises(KeystoreError, match=message):
        FileKeystore.open(path, PASSPHRASE)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b'{"format": "cardkit-keystore", "vers', "is not valid JSON \\(line 1 column"),
        (b"\xff\xfe\x00garbage", "is not a text file"),
        (b"[1, 2, 3]", "is not a cardkit keystore"),
    ],
)
def test_truncated_or_foreign_file(path: Path, content: bytes, message: str) -> None:
    path.write_bytes(content)
    with pytest.raises(KeystoreError, match=message):
        FileKeystore.open(path, PASSPHRASE)


def test_truncated_half_file(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(KeystoreError, match="is not valid JSON"):
        FileKeystore.open(path, PASSPHRASE)


def test_symlink_and_directory_are_refused(path: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(KeystoreError, match="symbolic link"):
        FileKeystore.open(link, PASSPHRASE)
    with pytest.raises(KeystoreError, match="already exists"):
        FileKeystore.create(link, PASSPHRASE)
    d = tmp_path / "dir.json"
    d.mkdir(mode=0o700)
    with pytest.raises(KeystoreError, match="is not a regular file"):
        FileKeystore.open(d, PASSPHRASE)


def test_failed_write_loses_nothing(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = path.read_bytes()
    ks = FileKeystore.open(path, PASSPHRASE)

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(KeystoreError, match="No space left on device.*it is unchanged"):
        ks.generate_secret("new", "aes")
    monkeypatch.undo()
    assert path.read_bytes() == before  # the file is untouched
    assert "new" not in ks.names()  # and the store did not pretend
    assert sorted(x.name for x in path.parent.iterdir()) == ["keys.json"]  # temp file removed
    ks.generate_secret("new", "aes")  # the next write works
    ks.close()
    with FileKeystore.open(path, PASSPHRASE) as again:
        assert again.names() == ["ds", "imk", "issuer", "kmc", "new"]


def test_replaced_file_is_not_overwritten(path: Path) -> None:
    ks = FileKeystore.open(path, PASSPHRASE)
    path.unlink()
    FileKeystore.create(path, PASSPHRASE).close()  # a new store (new salt) under the same name
    with pytest.raises(KeystoreError, match="was replaced since it was opened"):
        ks.generate_secret("x", "aes")
    ks.close()
    with FileKeystore.open(path, PASSPHRASE) as fresh:
        assert fresh.names() == []


def _add_keys(path: str, prefix: str, count: int) -> None:
    with FileKeystore.open(path, PASSPHRASE) as ks:
        for i in range(count):
            ks.generate_secret(f"{prefix}{i}", "aes")


def test_two_processes_writing_lose_nothing(path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_add_keys, args=(str(path), p, 5)) for p in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with FileKeystore.open(path, PASSPHRASE) as ks:
        names = ks.names()
    assert [n for n in names if n[0] in "ab" and n[1:].isdigit()] == [f"{p}{i}" for p in "ab" for i in range(5)]


def test_duplicate_made_by_another_object_is_refused(path: Path) -> None:
    one = FileKeystore.open(path, PASSPHRASE)
    two = FileKeystore.open(path, PASSPHRASE)
    first = one.generate_secret("gp.kmc", "aes")
    with pytest.raises(KeystoreError, match="already holds a key named 'gp.kmc' \\(added by another process\\)"):
        two.generate_secret("gp.kmc", "aes")
    assert two.secret("gp.kmc").kcv == first.kcv  # two now sees the key one made
    one.close()
    two.close()
    with FileKeystore.open(path, PASSPHRASE) as ks:
        assert ks.secret("gp.kmc").kcv == first.kcv


def test_keys_are_forgotten_at_close(path: Path) -> None:
    ks = FileKeystore.open(path, PASSPHRASE)
    imk = ks.secret("imk")
    ks.close()
    assert imk._cipher is None  # type: ignore[attr-defined]
    assert ks.ref().path == str(path)
