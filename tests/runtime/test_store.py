"""Persistent store: Java Card-style transactions, frozen values, generation, tear points."""

from __future__ import annotations

import pytest

from applets.runtime import PowerLoss, Store, TransactionError
from applets.runtime.store import decode_value, encode_value


def test_write_outside_transaction_is_a_loud_error() -> None:
    s = Store()
    with pytest.raises(TransactionError):
        s.set("k", 1)
    with pytest.raises(TransactionError):
        s.delete("k")
    with pytest.raises(TransactionError):
        s.commit()


def test_commit_and_abort() -> None:
    s = Store({"k": 1})
    with s.transaction():
        s.set("k", 2)
        s.set("n", b"\x01")
        assert s.get("k") == 2  # reads see the transaction's own writes
        assert s.committed()["k"] == 1
    assert s.get("k") == 2 and s.generation == 1
    with pytest.raises(RuntimeError), s.transaction():
        s.set("k", 3)
        s.delete("n")
        assert "n" not in s and s.keys() == ["k"]
        raise RuntimeError("boom")
    assert s.get("k") == 2 and s.get("n") == b"\x01" and s.generation == 1


def test_transactions_do_not_nest() -> None:
    s = Store()
    s.begin()
    with pytest.raises(TransactionError):
        s.begin()
    s.abort()
    assert not s.in_transaction


def test_generation_counts_changing_commits_only() -> None:
    s = Store()
    with s.transaction():
        pass
    assert s.generation == 0
    with s.transaction():
        s.set("a", 1)
    assert s.generation == 1


def test_values_are_frozen() -> None:
    s = Store()
    with s.transaction():
        s.set("l", [1, [2, b"x"]])
        s.set("d", {"x": bytearray(b"ab")})
    assert s.get("l") == (1, (2, b"x"))
    with pytest.raises(TypeError):
        s.get("d")["x"] = b"zz"  # type: ignore[index]
    with pytest.raises(TypeError), s.transaction():
        s.set("bad", 1.5)
    with pytest.raises(TypeError), s.transaction():
        s.set("bad", {1: 2})
    assert "bad" not in s


def test_json_encoding_round_trip() -> None:
    value = {"a": b"\x00\xff", "b": [1, "s", None, True, {"c": b""}]}
    s = Store()
    with s.transaction():
        s.set("v", value)
    frozen = s.get("v")
    assert decode_value(encode_value(frozen)) == frozen
    with pytest.raises(ValueError):
        decode_value(1.5)


def test_tear_counts_writes_and_the_commit_record() -> None:
    s = Store({"a": 0})
    s.arm_tear(3)  # set, set, commit -> the commit record tears
    with pytest.raises(PowerLoss), s.transaction():
        s.set("a", 1)
        s.set("b", 1)
    assert s.committed() == {"a": 0} and not s.in_transaction and not s.tear_armed
    with pytest.raises(ValueError):
        s.arm_tear(0)


def test_views_prefix_keys() -> None:
    s = Store()
    v = s.view("app/X")
    with v.transaction():
        v.set("f/1", 1)
        v.set("f/2", 2)
    assert s.keys() == ["app/X/f/1", "app/X/f/2"]
    assert v.keys("f/") == ["f/1", "f/2"] and "f/1" in v and v.get("f/2") == 2
