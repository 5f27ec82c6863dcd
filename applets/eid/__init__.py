"""The card side of the ID application: ICAO 9303 LDS1 with BAC, secure messaging and active
authentication (docs/eid-card.md).

* :class:`EidApplet` (type ``"eid"``): personalize with the DGIs of docs/eid-card.md, then it
  answers GET CHALLENGE and MUTUAL AUTHENTICATE (BAC), and under 3DES secure messaging SELECT /
  READ BINARY of EF.COM, DG1, DG2, DG11, DG15, EF.SOD and INTERNAL AUTHENTICATE (ECDSA P-256).
* :func:`install_eid`: all of it on a card in one call.
"""

from applets.eid.applet import EidApplet
from applets.eid.install import install_eid
from applets.eid.layout import EID_AID, FILES, EidFile
from applets.eid.profile import Profile, parse_dgis

__all__ = ["EID_AID", "FILES", "EidApplet", "EidFile", "Profile", "install_eid", "parse_dgis"]
