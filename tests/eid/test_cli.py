"""`cardkit id read` on a virtual card: the identity, the verdict line, --photo, --trust, --json, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from applets.runtime import save_card
from cardkit.issuer.demo_keys import demo_csca
from cli import main

from . import lds_builder as b
from .test_applet import HOLDER, _card, _tampered_dg11

Run = Callable[..., tuple[int, str, str]]
ACCESS = ["--doc-number", HOLDER.document_number, "--birth", HOLDER.mrz_birth, "--expiry", HOLDER.mrz_expiry]


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def make(dgis: dict[int, bytes] | None = None) -> Run:
        image = tmp_path / "id.card"
        save_card(_card(dgis), image, force=True)

        def go(*args: str) -> tuple[int, str, str]:
            code = main(["id", "read", "--reader", f"virtual:{image}", *args])
            got = capsys.readouterr()
            return code, got.out, got.err

        return go

    return make


@pytest.fixture
def csca(tmp_path: Path) -> Path:
    path = tmp_path / "csca.pem"
    path.write_bytes(demo_csca()[1].public_bytes(Encoding.PEM))
    return path


def test_read_prints_identity_and_verdict(run: Callable[..., Run], csca: Path, tmp_path: Path) -> None:
    photo = tmp_path / "face.jpg"
    code, out, err = run()(*ACCESS, "--photo", str(photo), "--trust", str(csca))
    assert code == 0, err
    assert "LI XIAO MING  李小明" in out and "11010519851224018X" in out and "上海市黄浦区人民大道200号" in out
    assert "chip genuine · data unaltered · issuer trusted" in out
    assert photo.read_bytes()[:2] == b"\xff\xd8" and f"saved to {photo}" in out


def test_without_trust_the_issuer_is_not_checked(run: Callable[..., Run]) -> None:
    code, out, _ = run()(*ACCESS)
    assert code == 0 and "issuer not checked (no --trust)" in out and "photo" not in out


def test_json(run: Callable[..., Run], csca: Path) -> None:
    code, out, _ = run()(*ACCESS, "--trust", str(csca), "--json")
    got = json.loads(out)
    assert code == 0 and got["full_name"] == "李小明" and got["citizen_id"] == "11010519851224018X"
    assert got["birth_date"] == "1985-12-24" and got["sex"] == "F" and got["photo"] is None
    assert got["verdict"]["genuine"] and got["verdict"]["unaltered"] and got["verdict"]["chain_ok"] is True


def test_wrong_mrz_is_one_line(run: Callable[..., Run]) -> None:
    code, out, err = run()("--doc-number", HOLDER.document_number, "--birth", "850101", "--expiry", "320630")
    assert code == 1 and out == ""
    assert err == "error: access denied: the document number, birth date or expiry does not match this card\n"


def test_bad_date_is_a_usage_error(run: Callable[..., Run]) -> None:
    code, _, err = run()("--doc-number", "E1", "--birth", "1985-12-24", "--expiry", "320630")
    assert code == 2 and "YYMMDD" in err


def test_altered_data_exits_3(run: Callable[..., Run], csca: Path) -> None:
    code, out, _ = run(_tampered_dg11())(*ACCESS, "--trust", str(csca))
    assert code == 3 and "data ALTERED (DG11)" in out and "chip genuine" in out


def test_wrong_csca_exits_3(run: Callable[..., Run], tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(b.make_pki(cn="Other CSCA").csca.public_bytes(Encoding.PEM))
    code, out, _ = run()(*ACCESS, "--trust", str(other), "--json")
    verdict = json.loads(out)["verdict"]
    assert code == 3 and verdict["chain_ok"] is False and "not issued by a trusted CSCA" in verdict["chain_reason"]


def test_a_card_without_the_id_application(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from applets.runtime import new_blank_card

    image = tmp_path / "blank.card"
    save_card(new_blank_card(serial="8986000000000000042"), image)
    code = main(["id", "read", "--reader", f"virtual:{image}", *ACCESS])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: this card has no ID application") and err.count("\n") == 1


def test_the_demo_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY

    image = tmp_path / "demo.card"
    assert main(["card", "new", "--demo", str(image)]) == 0
    capsys.readouterr()
    csca = tmp_path / "csca.pem"
    csca.write_bytes(demo_csca()[1].public_bytes(Encoding.PEM))
    photo = tmp_path / "p.jpg"
    code = main(["id", "read", "--reader", f"virtual:{image}", "--doc-number", DEMO_DOCUMENT_NUMBER,
                 "--birth", DEMO_BIRTH, "--expiry", DEMO_EXPIRY, "--trust", str(csca), "--photo", str(photo)])
    out = capsys.readouterr().out
    assert code == 0 and "ZHANG SAN  张三" in out and "chip genuine · data unaltered · issuer trusted" in out
    assert photo.read_bytes()[:2] == b"\xff\xd8"
    code = main(["id", "read", "--reader", f"virtual:{image}", "--doc-number", DEMO_DOCUMENT_NUMBER,
                 "--birth", "900102", "--expiry", DEMO_EXPIRY])
    assert code == 1 and "access denied" in capsys.readouterr().err
