"""``cardkit id``: the ID application — read the holder's identity and check the card (ICAO 9303).

The module is ``id_card`` (``id`` would shadow the builtin); the command group is ``id``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import cli, console
from cli.emv import EXIT_NOT_APPROVED

if TYPE_CHECKING:
    from cardkit.eid import Identity, Verdict


@cli.group("id")
def id_group() -> None:
    """The ID application: read the identity, check the chip and the data (ICAO 9303)."""


def _yymmdd(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise click.BadParameter(f"{value!r} is not YYMMDD (as in the MRZ: 900307 for 7 March 1990)")
    return value


def verdict_lines(verdict: Verdict) -> list[tuple[bool | None, str]]:
    """(good, text) for the chip, the data and the issuer; ``None`` = not checked."""
    if verdict.active_ok is None:
        chip: tuple[bool | None, str] = (None, f"chip not checked ({verdict.active_reason})")
    else:
        chip = (True, "chip genuine") if verdict.genuine else (False, f"chip NOT genuine ({verdict.active_reason})")
    if verdict.unaltered:
        data: tuple[bool | None, str] = (True, "data unaltered")
    elif verdict.altered:
        data = (False, "data ALTERED (" + ", ".join(f"DG{n}" for n in verdict.altered) + ")")
    else:
        data = (False, f"data NOT verified ({verdict.passive_reason})")
    if verdict.chain_ok is None:
        issuer: tuple[bool | None, str] = (None, "issuer not checked (no --trust)")
    elif verdict.chain_ok:
        issuer = (True, "issuer trusted")
    else:
        issuer = (False, f"issuer NOT trusted ({verdict.chain_reason})")
    return [chip, data, issuer]


def _json(identity: Identity, verdict: Verdict, photo: Path | None) -> dict[str, Any]:
    mrz = identity.mrz
    return {
        "document_number": mrz.document_number, "document_code": mrz.document_code,
        "issuing_state": mrz.issuing_state, "surname": mrz.surname, "given_names": mrz.given_names,
        "full_name": identity.full_name, "nationality": mrz.nationality, "sex": mrz.sex,
        "birth_date": mrz.birth_date.isoformat(), "expiry_date": mrz.expiry_date.isoformat(),
        "citizen_id": identity.citizen_id, "address": identity.address,
        "photo": str(photo) if photo else None,
        "verdict": {
            "genuine": verdict.genuine, "unaltered": verdict.unaltered, "trusted": verdict.trusted,
            "active_ok": verdict.active_ok, "active_reason": verdict.active_reason,
            "passive_ok": verdict.passive_ok, "passive_reason": verdict.passive_reason,
            "chain_ok": verdict.chain_ok, "chain_reason": verdict.chain_reason,
            "altered": [f"DG{n}" for n in verdict.altered],
        },
    }


@id_group.command("read")
@click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
@click.option("--doc-number", "-n", required=True, help="The document number, as printed (BAC access data).")
@click.option("--birth", required=True, callback=_yymmdd, help="The holder's birth date, YYMMDD.")
@click.option("--expiry", required=True, callback=_yymmdd, help="The document's expiry date, YYMMDD.")
@click.option("--photo", "photo_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Read DG2 and save the face image (JPEG) there.")
@click.option("--trust", "trust_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSCA certificate(s), PEM or DER: check that they issued the document signer.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def read_cmd(reader_name: str, doc_number: str, birth: str, expiry: str, photo_path: Path | None,
             trust_path: Path | None, as_json: bool) -> None:
    """Open the ID application with the MRZ data (BAC), read the identity and verify the card.

    Exits 3 when the chip is not genuine, the data is altered or the issuer is not trusted.
    """
    from rich.markup import escape

    from cardkit.eid import load_trust, read_id
    from cardkit.readers import CardChannel, open_reader

    trust = load_trust(trust_path.read_bytes()) if trust_path else []
    with open_reader(reader_name).connect() as conn:
        identity, verdict = read_id(CardChannel(conn), doc_number, birth, expiry, trust=trust,
                                    photo=photo_path is not None)
    saved = None
    if photo_path is not None and identity.photo is not None:
        photo_path.write_bytes(identity.photo)
        saved = photo_path
    lines = verdict_lines(verdict)
    if as_json:
        click.echo(json.dumps(_json(identity, verdict, saved), indent=2, ensure_ascii=False))
    else:
        mrz = identity.mrz
        rows = [("name", f"{mrz.surname} {mrz.given_names}".strip() + (f"  {identity.full_name}"
                                                                        if identity.full_name else "")),
                ("citizen ID", identity.citizen_id), ("sex", mrz.sex),
                ("born", f"{mrz.birth_date:%Y-%m-%d}"), ("nationality", mrz.nationality),
                ("document", f"{mrz.document_code} {mrz.document_number} ({mrz.issuing_state}), "
                             f"expires {mrz.expiry_date:%Y-%m-%d}")]
        if identity.address:
            rows.append(("address", identity.address))
        if photo_path is not None:
            rows.append(("photo", f"saved to {saved} ({len(identity.photo or b'')} bytes)" if saved
                         else "the card's face image is not a JPEG: not saved"))
        for label, value in rows:
            console.print(f"{label:<12} {value}", markup=False, highlight=False, soft_wrap=True)
        colour = {True: "green", False: "red", None: "yellow"}
        console.print(" · ".join(f"[{colour[good]}]{escape(text)}[/]" for good, text in lines), soft_wrap=True)
    if any(good is False for good, _ in lines):
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)
