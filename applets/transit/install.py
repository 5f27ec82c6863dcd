"""Put the transit application on a card: register, personalize, list in EF.DIR.

The one call data preparation and the demo card need (docs/transit-card.md "Installing").
The DGI map is validated before the card is touched, so a bad one leaves the card as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from applets.runtime import SimulatedCard, install_personalized
from applets.transit.applet import TRANSIT_AID, TransitApplet
from applets.transit.profile import parse_dgis

__all__ = ["install_transit"]


def install_transit(card: SimulatedCard, personalization: Mapping[int, bytes], *, aid: bytes = TRANSIT_AID,
                    random: Callable[[int], bytes] | None = None) -> TransitApplet:
    """Install and personalize the transit application.

    Args:
        card: the card (e.g. from :func:`applets.runtime.new_blank_card`); if it has an MF, the
            application is also listed in EF.DIR (label "TRANSIT"). It is not put in the PPSE.
        personalization: the DGI map of docs/transit-card.md, e.g. from
            :func:`cardkit.issuer.transit_data.prepare_transit`.
        aid: the application's AID (T-Union by default).
        random: the card's random source (tests fix it; ``secrets.token_bytes`` otherwise).

    Raises:
        ProfileError: the DGI map is invalid (naming the DGI); nothing was installed.
        ValueError: an application with this AID is already on the card.
    """
    return install_personalized(card, TransitApplet(aid, random=random), personalization, parse_dgis)
