"""Put the ID application on a card: register, personalize, list in EF.DIR."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from applets.eid.applet import EidApplet
from applets.eid.layout import EID_AID
from applets.eid.profile import parse_dgis
from applets.runtime import SimulatedCard, install_personalized

__all__ = ["install_eid"]


def install_eid(card: SimulatedCard, personalization: Mapping[int, bytes], *, aid: bytes = EID_AID,
                random: Callable[[int], bytes] | None = None) -> EidApplet:
    """Install and personalize the ID application.

    Args:
        card: the card (e.g. from :func:`applets.runtime.new_blank_card`); if it has an MF, the
            application is also listed in EF.DIR (label "ID").
        personalization: the DGI map of docs/eid-card.md, e.g. from
            :func:`cardkit.issuer.eid_data.prepare_eid`.
        aid: the application's AID (eMRTD LDS1 by default).
        random: the card's random source for RND.IC and K.IC (tests fix it).

    Raises:
        ProfileError: the DGI map is invalid (naming the DGI); nothing was installed.
        ValueError: an application with this AID is already on the card.
    """
    return install_personalized(card, EidApplet(aid, random=random), personalization, parse_dgis)
