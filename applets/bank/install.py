"""Put the bank applications on a card: register, personalize, list in PSE, PPSE and EF.DIR.

The one call data preparation and the demo card need (docs/bank.md "Installing on a card").
Every DGI map is validated before the card is touched, so a bad one leaves the card as it was.
"""

from __future__ import annotations

from collections.abc import Mapping

from applets.bank.applet import BankApplet
from applets.bank.directory import PPSE_NAME, PSE_NAME, DirectoryEntry, PpseApplet, PseApplet
from applets.bank.profile import parse_dgis
from applets.runtime import SimulatedCard, list_application
from cardkit.errors import ProfileError

__all__ = ["install_bank"]


def install_bank(card: SimulatedCard, dgis_by_aid: Mapping[bytes, Mapping[int, bytes]]) -> tuple[BankApplet, ...]:
    """Install and personalize one bank application per AID, plus the PSE and PPSE listing them.

    Args:
        card: the card (e.g. from :func:`applets.runtime.new_blank_card`); if it has an MF, each
            application is also listed in EF.DIR. A PSE/PPSE already on the card gets the new
            entries appended instead of a second directory.
        dgis_by_aid: the DGI map of docs/bank.md per application AID, in the order the
            directories should list them (debit first, then credit, by convention).

    Returns:
        The personalized applets, in ``dgis_by_aid`` order.

    Raises:
        ProfileError: a DGI map is invalid (naming the AID and the DGI); nothing was installed.
        ValueError: an application with one of these AIDs is already on the card.
    """
    existing = {a.aid for a in card.applets}
    for aid, dgis in dgis_by_aid.items():
        if aid in existing:
            raise ValueError(f"an application with AID {aid.hex().upper()} is already on the card")
        try:
            parse_dgis(dgis)
        except ProfileError as exc:
            raise ProfileError(f"application {aid.hex().upper()}: {exc}") from None
    installed: list[BankApplet] = []
    has_mf = any(getattr(a, "is_master_file", False) for a in card.applets)
    for aid, dgis in dgis_by_aid.items():
        applet = BankApplet(aid)
        card.register(applet)
        applet.personalize(dgis)
        if has_mf:
            list_application(card, applet.aid, applet.label)
        installed.append(applet)
    entries = [DirectoryEntry(a.aid, a.label, a.priority) for a in installed]
    for name, kind in ((PSE_NAME, PseApplet), (PPSE_NAME, PpseApplet)):
        current = next((a for a in card.applets if a.aid == name), None)
        if isinstance(current, (PseApplet, PpseApplet)):
            current.entries = current.entries + tuple(entries)
        elif current is None:
            card.register(kind(entries=entries))
        else:
            raise ValueError(f"{name.decode()} on this card is not a cardkit directory applet")
    return tuple(installed)
