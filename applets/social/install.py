"""Put the social insurance application on a card: register, personalize, list in EF.DIR.

The DGI map is validated before the card is touched, so a bad one leaves the card as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from applets.runtime import SimulatedCard, install_personalized
from applets.social.applet import SocialApplet
from applets.social.layout import SOCIAL_AID
from applets.social.profile import parse_dgis

__all__ = ["install_social"]


def install_social(card: SimulatedCard, personalization: Mapping[int, bytes], *, aid: bytes = SOCIAL_AID,
                   random: Callable[[int], bytes] | None = None) -> SocialApplet:
    """Install and personalize the social insurance application.

    Args:
        card: the card; if it has an MF, the application is listed in EF.DIR (label "SOCIAL").
        personalization: the DGI map of docs/social.md, e.g. from
            :func:`cardkit.issuer.social_data.prepare_social`.
        aid: the application's AID (cardkit's ``D156000005010100`` by default).
        random: the card's random source (tests fix it; ``secrets.token_bytes`` otherwise).

    Raises:
        ProfileError: the DGI map is invalid (naming the DGI); nothing was installed.
        ValueError: an application with this AID is already on the card.
    """
    return install_personalized(card, SocialApplet(aid, random=random), personalization, parse_dgis)
