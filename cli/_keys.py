"""Where the CLI's keys come from: the issuer's secret, and the terminal SAMs that hold issuer keys.

A terminal command works with the published demo keys unless ``--issuer DIR`` names an issuer
(``cardkit issuer init``): then its SAM holds that issuer's keys, used inside its keystore.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardkit.errors import CardkitError

if TYPE_CHECKING:
    from cardkit.crypto.hazmat.keys import MasterKey
    from cardkit.social import SocialSam

SECRET_ENV = "CARDKIT_ISSUER_SECRET"

issuer_option = click.option(
    "--issuer", "issuer_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help=f"Use this issuer's keys (cardkit issuer init) instead of the demo keys; its secret from ${SECRET_ENV}.")


def issuer_secret(*, confirm: bool = False, what: str = "keystore passphrase") -> str:
    """The keystore passphrase or token PIN: ``$CARDKIT_ISSUER_SECRET``, else asked for (hidden)."""
    value = os.environ.get(SECRET_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CardkitError(f"no {what}: set {SECRET_ENV} or run in a terminal")
    return str(click.prompt(what.capitalize(), hide_input=True, confirmation_prompt=confirm))


@contextmanager
def social_sam(issuer_dir: Path | None, terminal_id: bytes) -> Iterator[SocialSam]:
    """A clinic terminal's SAM: the demo social insurance keys, or an issuer's (kept in its keystore)."""
    from cardkit.social import SocialSam

    if issuer_dir is None:
        from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK

        yield SocialSam(DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, terminal_id)
        return
    from cardkit.issuer.issuer import Issuer

    with Issuer.open(issuer_dir, issuer_secret()) as issuer:
        mak, mpk, mtk, _ = issuer.social_masters()
        yield SocialSam(mak, mpk, mtk, terminal_id)


@contextmanager
def purse_keys(issuer_dir: Path | None) -> Iterator[tuple[MasterKey, MasterKey] | None]:
    """A gate PSAM's purchase and TAC master keys: ``None`` for the demo keys, or an issuer's."""
    if issuer_dir is None:
        yield None
        return
    from cardkit.issuer.issuer import Issuer

    with Issuer.open(issuer_dir, issuer_secret()) as issuer:
        _, mpk, mtk = issuer.purse_masters()
        yield mpk, mtk
