"""One BAC secure-messaging session: the session keys and the send sequence counter (9303-11 §9.8).

:class:`BacSession` fits :class:`cardkit.readers.SecureMessaging` (``wrap`` / ``unwrap``). Once a
response fails its MAC, arrives in plain, or the card says 6987/6988, the session is over: the
chip has dropped its keys too (9303-11 §9.8.6), and every later command raises.
"""

from __future__ import annotations

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import icao
from cardkit.eid.errors import EidError, SecureMessagingError
from cardkit.errors import CryptoError

__all__ = ["BacSession"]

_ENDED = "the secure-messaging session has ended: open the document again"


class BacSession:
    """3DES secure messaging with KS_enc, KS_mac and the SSC; ``repr`` shows none of them."""

    def __init__(self, keys: icao.BacKeys, ssc: int) -> None:
        self._keys = keys
        self._ssc = ssc
        self.alive = True

    def __repr__(self) -> str:
        return f"BacSession(alive={self.alive})"

    def end(self) -> None:
        """Forget the keys: nothing can be sent under this session any more."""
        self.alive = False
        self._keys = icao.BacKeys(b"", b"")
        self._ssc = 0

    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        """Protect a plain short command (9303-11 §9.8.4)."""
        if not self.alive:
            raise SecureMessagingError(_ENDED)
        try:
            protected, self._ssc = icao.protect_command(self._keys, self._ssc, command.to_bytes())
        except CryptoError as exc:
            raise EidError(f"secure messaging cannot carry this command: {exc}") from None
        return CommandAPDU.parse(protected)

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        """Verify and open a protected response (9303-11 §9.8.5).

        Raises:
            SecureMessagingError: the card ended the session (6987 / 6988 in plain), answered
                without a MAC, or the MAC does not verify. The session is over either way.
        """
        if not self.alive:
            raise SecureMessagingError(_ENDED)
        if not response.data:
            self.end()
            if response.sw in (SW.SM_DATA_OBJECTS_MISSING, SW.SM_DATA_OBJECTS_INCORRECT):
                raise SecureMessagingError(f"the card ended secure messaging ({response.sw:04X}: it found the "
                                           "command's secure-messaging objects missing or wrong)")
            raise SecureMessagingError(f"the card answered {response.sw:04X} without secure messaging; "
                                       "the session has ended")
        try:
            data, sw, self._ssc = icao.unprotect_response(self._keys, self._ssc, response.to_bytes())
        except CryptoError:
            self.end()
            raise SecureMessagingError("secure messaging: the card's response does not verify (wrong MAC or "
                                       "malformed objects); the session has ended") from None
        return ResponseAPDU(data, int.from_bytes(sw, "big"))
