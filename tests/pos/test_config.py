"""The merchant/terminal configuration file: the example loads to the defaults, bad files fail in one
line that names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardkit.errors import ProfileError
from pos_sim.config import PosConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pos.toml"


def test_the_documented_example_is_the_demo_merchant() -> None:
    loaded = PosConfig.load(EXAMPLE)
    demo = PosConfig.demo()
    assert (loaded.mid, loaded.tid, loaded.merchant_name_zh, loaded.host) == (demo.mid, demo.tid,
                                                                             demo.merchant_name_zh, "embedded")
    assert loaded.emv.contactless_cvm_limit == 100_000 and loaded.emv.floor_limit == 0
    assert loaded.emv.tac_online == bytes.fromhex("DC4004F800") and len(list(loaded.emv.capk)) == 1
    assert loaded.journal == EXAMPLE.parent / "pos-journal.sqlite" and loaded.currency == "156"


def test_values_reach_the_emv_terminal(tmp_path: Path) -> None:
    path = tmp_path / "pos.toml"
    path.write_text('[merchant]\nname_en = "NOODLE BAR"\nmid = "123456789012345"\n'
                    '[terminal]\ntid = "T0000042"\nhost = "tcp://10.0.0.1:8583"\ncapabilities = "E0B0C8"\n'
                    '[limits]\nfloor = "100.00"\n[capk]\ndemo = false\n', encoding="utf-8")
    cfg = PosConfig.load(path)
    assert cfg.emv.terminal_id == "T0000042" and cfg.emv.merchant_id == "123456789012345"
    assert cfg.emv.merchant_name == "NOODLE BAR" and cfg.emv.floor_limit == 10_000
    assert cfg.emv.capabilities == bytes.fromhex("E0B0C8") and list(cfg.emv.capk) == []
    assert cfg.host == "tcp://10.0.0.1:8583"


@pytest.mark.parametrize(("text", "message"), [
    ('[merchant]\nmid = "123"\n', "merchant.mid must be 15"),
    ('[terminal]\ncapabilities = "E0F8"\n', "terminal.capabilities must be 3 bytes"),
    ('[terminal]\ncapabilities = "XYZXYZ"\n', "terminal.capabilities must be hexadecimal"),
    ('[limits]\nfloor = "1.005"\n', "limits.floor must be a non-negative amount"),
    ('[limits]\nfloor = 12\n', "limits.floor must be a str"),
    ('[terminal]\ncolour = "red"\n', "unknown key terminal.colour"),
    ('[printer]\nx = 1\n', "unknown section [printer]"),
    ('[terminal]\nhost = "http://x"\n', "terminal.host must be 'embedded'"),
    ('[capk]\nfiles = ["missing.json"]\n', "capk.files: missing.json"),
    ("[merchant\n", "not valid TOML"),
])
def test_bad_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pos.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        PosConfig.load(path)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)
