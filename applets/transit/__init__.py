"""The card side of the transit electronic purse (PBOC ED/EP as JT/T 978 uses it; docs/transit-card.md).

* :class:`TransitApplet` (type ``"transit"``): personalize with the DGIs of docs/transit-card.md,
  then it answers INITIALIZE FOR LOAD / PURCHASE / CAPP PURCHASE, CREDIT FOR LOAD, UPDATE CAPP
  DATA CACHE, DEBIT FOR PURCHASE, GET BALANCE and GET TRANSACTION PROVE, and READ BINARY /
  READ RECORD of its four files (SFI 15, 16, 17, 18).
* :func:`install_transit`: all of it on a card in one call.
"""

from applets.transit.applet import TRANSIT_AID, TransitApplet
from applets.transit.install import install_transit
from applets.transit.layout import LogRecord
from applets.transit.profile import Profile, PurseParameters, parse_dgis
from applets.transit.state import LastTransaction, PurseState

__all__ = [
    "TRANSIT_AID",
    "LastTransaction",
    "LogRecord",
    "Profile",
    "PurseParameters",
    "PurseState",
    "TransitApplet",
    "install_transit",
    "parse_dgis",
]
