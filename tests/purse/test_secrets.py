"""Keys never show: not in repr/str of the PSAM or the client, not in any error, not in logs."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from cardkit.purse import MacInvalid, Psam, PurseClient, PurseError
from cardkit.purse import issuer as host

from .conftest import WHEN
from .fakecard import MLK, MPK, MTK, TERMINAL, FakeTransitCard


def forms(key: bytes) -> list[str]:
    """Every way a key could leak into text."""
    return [key.hex(), key.hex().upper(), repr(key), key.hex(" "), key.hex(" ").upper(), key[:8].hex().upper()]


def assert_no_key(text: str) -> None:
    for key in (MLK, MPK, MTK):
        for form in forms(key):
            assert form not in text, f"key material in: {text!r}"


def test_psam_repr_and_str_show_no_keys(psam: Psam) -> None:
    for text in (repr(psam), str(psam), f"{psam}", f"{psam!r}"):
        assert_no_key(text)
        assert "112233445566" in text and "next_txn_no=1" in text
    assert not hasattr(psam, "__dict__")  # nothing but the declared slots
    assert not any(name in dir(psam) for name in ("mpk", "mtk", "keys"))


def test_psam_cannot_be_pickled_or_copied(psam: Psam) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(psam)
    with pytest.raises(TypeError):
        copy.copy(psam)


def test_client_repr(client: PurseClient, psam: Psam) -> None:
    client.select()
    client.purchase(10, psam, WHEN)
    assert_no_key(repr(client))
    assert "110101199003071234" not in repr(client.info) and "1101**********1234" in repr(client.info)
    assert "110101199003071234" not in str(client.info)


def test_errors_show_no_keys(client: PurseClient, card: FakeTransitCard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.select()
    messages: list[str] = []
    for wrong in (Psam(MLK, MTK, terminal_id=TERMINAL), Psam(MPK, MLK, terminal_id=TERMINAL)):
        with pytest.raises(MacInvalid) as err:  # 9302 from the card, then a TAC the PSAM rejects
            client.purchase(10, wrong, WHEN)
        messages += [str(err.value), repr(err.value)]
    with pytest.raises(MacInvalid) as err:
        client.load(10, TERMINAL, lambda info, init, when: host.load_mac2(MTK, info, init, when), WHEN)
    messages += [str(err.value), repr(err.value)]
    with pytest.raises(PurseError) as err:
        Psam(MPK[:15], MTK, terminal_id=TERMINAL)
    messages.append(str(err.value))
    with pytest.raises(PurseError) as err:
        host.load_mac2(MLK + b"\x00", client.info or b"", client.initialize_load(1, TERMINAL), WHEN)
    messages.append(str(err.value))
    for text in [*messages, caplog.text]:
        assert_no_key(text)
