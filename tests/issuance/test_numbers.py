"""The number registry: a number is claimed once, for one holder, and a holder keeps its numbers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cardkit.errors import ProfileError
from cardkit.issuer.numbers import NumberRegistry


def seq(n: int) -> str:
    return f"{n:04d}"


def test_the_same_holder_gets_the_same_number_again(tmp_path: Path) -> None:
    reg = NumberRegistry(tmp_path / "n.db")
    first = reg.allocate("pan", "H1", seq)
    assert reg.allocate("pan", "H1", seq) == first == "0001"
    assert reg.allocate("pan", "H2", seq) == "0002"
    reg.close()
    again = NumberRegistry(tmp_path / "n.db")  # durable: a rerun after a crash sees the claims
    assert again.allocate("pan", "H1", seq) == "0001" and again.allocate("pan", "H3", seq) == "0003"


def test_a_claimed_number_is_skipped_and_never_given_to_another_holder() -> None:
    reg = NumberRegistry(":memory:")
    reg.claim("pan", "0002", "H9")
    assert [reg.allocate("pan", h, seq) for h in ("H1", "H2")] == ["0001", "0003"]
    with pytest.raises(ProfileError, match="already taken by another holder"):
        reg.claim("pan", "0001", "H5")
    with pytest.raises(ProfileError, match="already has pan 0002"):
        reg.claim("pan", "0007", "H9")
    assert reg.claim("pan", "0002", "H9") == "0002"  # claiming one's own number again is fine


def test_issued_cards_are_recorded_once(tmp_path: Path) -> None:
    reg = NumberRegistry(tmp_path / "n.db")
    reg.mark_issued("H1", "8986000001", "batch A")
    reg.mark_issued("H1", "8986000001", "batch A")
    with pytest.raises(ProfileError, match="already has card 8986000001"):
        reg.mark_issued("H1", "8986000002", "batch B")
    assert reg.issued_card("H1") == ("8986000001", "batch A") and reg.issued_card("H2") is None
    assert reg.counts()["cards"] == 1


def test_threads_never_share_a_number(tmp_path: Path) -> None:
    reg = NumberRegistry(tmp_path / "n.db")
    out: list[str] = []

    def work(k: int) -> None:
        for i in range(50):
            out.append(reg.allocate("pan", f"T{k}-{i}", seq))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == len(set(out)) == 200
