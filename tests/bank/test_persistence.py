"""The bank applications survive a card image: save, load, carry on; keys stay out of the config."""

from __future__ import annotations

import json
import os
from pathlib import Path

from applets.bank import DEBIT_AID, BankApplet, PpseApplet, PseApplet
from applets.runtime import SimulatedCard, load_card, save_card

from .kit import Issuer, Terminal, apdu, send


def test_save_load_keeps_personalization_and_state(card: SimulatedCard, issuer: Issuer, tmp_path: Path,
                                                   dgis: dict[int, bytes]) -> None:
    t = Terminal(card)
    t.start()
    t.genac(0x40)
    path = tmp_path / "card.json"
    save_card(card, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    doc = json.loads(path.read_text())
    configs = {a["type"]: a["config"] for a in doc["card"]["applets"]}
    assert configs["bank"] == {"aid": DEBIT_AID.hex().upper(), "label": "PBOC DEBIT", "priority": 1}
    assert configs["pse"]["entries"] == [{"aid": DEBIT_AID.hex().upper(), "label": "PBOC DEBIT", "priority": 1}]
    assert dgis[0x8000].hex() not in json.dumps(configs).lower()

    loaded = load_card(path)
    loaded.strict = True
    loaded.power_on()
    app = loaded.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    assert isinstance(loaded.applet(b"1PAY.SYS.DDF01"), PseApplet)
    assert isinstance(loaded.applet(b"2PAY.SYS.DDF01"), PpseApplet)
    assert app.state().atc == 1 and app.state().offline_count == 1 and len(app.state().log) == 1
    t = Terminal(loaded)
    t.start()
    assert t.genac(0x80) == 0x9000 and t.ac == issuer.expected_ac(t)
    assert t.atc == b"\x00\x02"
    assert send(loaded, apdu(0x00, 0xB2, 1, 11 << 3 | 4, le=0))[1] == 0x9000


def test_repr_shows_no_secrets(card: SimulatedCard, dgis: dict[int, bytes]) -> None:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    text = repr(app) + repr(app.state()) + repr(app.profile())
    for secret in (dgis[0x8000][:16], dgis[0x8010], dgis[0x8205]):
        assert secret.hex() not in text.lower()
