"""Issue one card: prepare it, then personalize a blank card in a reader or a new virtual card.

Both targets get the same APDUs (:func:`~cardkit.issuer.personalize.personalize`); only where the
blank card comes from differs. A virtual card is made by the card runtime (``applets.runtime``),
imported inside :func:`issue_virtual` as :class:`~cardkit.readers.virtual.StatePersister` does, so
``cardkit`` still does not depend on ``applets`` at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardkit.issuer._files import write_atomically
from cardkit.issuer.keystore import SecretKey
from cardkit.issuer.personalize import PersonalizationReport, personalize
from cardkit.issuer.prepare import CardPlan
from cardkit.readers import open_reader
from cardkit.readers.channel import CardChannel
from cardkit.readers.virtual import VirtualReader

__all__ = ["IssuedCard", "issue_to_reader", "issue_virtual", "write_pin_mailer"]


@dataclass(frozen=True, slots=True)
class IssuedCard:
    plan: CardPlan
    report: PersonalizationReport
    card: Any = None  # the SimulatedCard, for a virtual card


def issue_virtual(plan: CardPlan, card_manager_master: SecretKey | bytes, out: str | Path | None = None,
                  ) -> IssuedCard:
    """Personalize a new blank virtual card with ``plan``; save its image to ``out`` when given.

    The image is written only once the card is SECURED (atomically, mode 0600), so an
    interrupted issuance leaves no half-made card behind.
    """
    from applets.runtime import new_blank_card, save_card

    card = new_blank_card(serial=plan.card_serial)
    with VirtualReader(card, name="issuance").connect() as connection:
        report = personalize(CardChannel(connection), plan, card_manager_master)
    if out is not None:
        save_card(card, Path(out))
    return IssuedCard(plan, report, card)


def issue_to_reader(reader_name: str, plan: CardPlan, card_manager_master: SecretKey | bytes, *,
                    timeout: float = 10.0) -> IssuedCard:
    """Personalize the blank card in ``reader_name`` (``pcsc:0``, ``nfc:usb``, ``virtual:blank.card``)."""
    reader = open_reader(reader_name)
    reader.wait_for_card(timeout)
    with reader.connect() as connection:
        report = personalize(CardChannel(connection), plan, card_manager_master)
    return IssuedCard(plan, report)


def write_pin_mailer(plan: CardPlan, path: str | Path) -> None:
    """The holder's PINs, for the PIN mailer: a 0600 file beside the card, never a log line."""
    lines = [f"holder {plan.holder_id}", f"card {plan.card_serial}"]
    lines += [f"{app} PIN {pin}" for app, pin in plan.pins.items()]
    write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"), 0o600)
