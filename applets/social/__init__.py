"""The card side of the social insurance application (社会保障卡 style; docs/social.md).

* :class:`SocialApplet` (type ``"social"``): personalize with the DGIs of docs/social.md, then it
  answers READ RECORD of its four record EFs (SFI 05 public, 06/07/08 after terminal
  authentication), VERIFY / CHANGE REFERENCE DATA of its 6-digit PIN, GET CHALLENGE, EXTERNAL
  AUTHENTICATE, the issuer's MACed PIN unblock, GET BALANCE, INITIALIZE and DEBIT.
* :func:`install_social`: all of it on a card in one call.
"""

from applets.social.account import AccountState
from applets.social.applet import SocialApplet
from applets.social.install import install_social
from applets.social.layout import SOCIAL_AID, LogRecord
from applets.social.profile import Profile, parse_dgis

__all__ = ["SOCIAL_AID", "AccountState", "LogRecord", "Profile", "SocialApplet", "install_social", "parse_dgis"]
