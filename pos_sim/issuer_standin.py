"""An in-process issuer that checks the ARQC and approves: `cardkit emv pay` until the host exists.

It is the issuer's half of a CVN 01 transaction (``cardkit.issuer.authorization``) without the
network, accounts or ISO 8583 of the POS host: the ARQC is verified for real (a wrong key or a
tampered field declines), the ARPC is real, and issuer scripts can be queued for the next
approval, so a test can block an application the way an issuer does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cardkit.emv.online import OnlineRequest, OnlineResponse
from cardkit.errors import CryptoError
from cardkit.issuer.authorization import IssuerScript, ScriptCommand, issuer_script, make_arpc, verify_arqc
from cardkit.issuer.keys import IssuerKeys

__all__ = ["Authorization", "IssuerStandIn"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Authorization:
    """The issuer's answer, as the host will carry it in fields 38, 39 and 55."""

    response_code: str  # ISO 8583 field 39, e.g. "00"
    reason: str
    auth_code: str = ""  # field 38, approvals only
    issuer_auth_data: bytes = b""  # tag 91: ARPC || ARC
    scripts: tuple[IssuerScript, ...] = ()

    @property
    def approved(self) -> bool:
        return self.response_code in ("00", "10", "11")

    @property
    def arc(self) -> bytes:
        """Authorisation response code (8A): the response code as two ASCII characters."""
        return self.response_code.encode("ascii")


@dataclass
class IssuerStandIn:
    """Approve every transaction whose ARQC verifies, or decline with ``decline_code``.

    ``queue_script`` adds a script (e.g. APPLICATION BLOCK) to the next authorization's answer.
    """

    issuer: IssuerKeys
    decline_code: str | None = None
    _pending: list[tuple[ScriptCommand, dict[str, Any], int]] = field(default_factory=list, repr=False)
    _auth_codes: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def queue_script(self, command: ScriptCommand, *, template: int = 0x72, **kwargs: Any) -> None:
        self._pending.append((command, kwargs, template))

    def authorize(self, icc_data: Mapping[int, bytes]) -> Authorization:
        try:
            verify_arqc(self.issuer, icc_data)
        except CryptoError as exc:
            log.info("ARQC rejected: %s", exc)
            return Authorization("05", f"ARQC rejected: {exc}")
        code = self.decline_code or "00"
        scripts = tuple(
            IssuerScript(issuer_script(self.issuer, icc_data, command, **kwargs), template)
            for command, kwargs, template in self._pending
        )
        self._pending.clear()
        answer = Authorization(
            code,
            "approved" if code == "00" else f"declined by the stand-in ({code})",
            auth_code=f"{next(self._auth_codes):06d}" if code == "00" else "",
            issuer_auth_data=make_arpc(self.issuer, icc_data, code.encode("ascii")),
            scripts=scripts,
        )
        log.info("authorization %s, %d script(s)", answer.response_code, len(scripts))
        return answer

    def online(self, request: OnlineRequest) -> OnlineResponse:
        """The kernel's online callback (``Kernel(..., online=standin.online)``)."""
        answer = self.authorize(request.data)
        return OnlineResponse(
            answer.response_code,
            arpc=answer.issuer_auth_data or None,
            scripts=b"".join(script.tlv() for script in answer.scripts),
            auth_code=answer.auth_code,
        )
