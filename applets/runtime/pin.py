"""PIN objects with persistent try counters: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER.

ISO/IEC 7816-4 §11.5.6 (VERIFY, INS 20), §11.5.7 (CHANGE REFERENCE DATA, INS 24) and §11.5.10
(RESET RETRY COUNTER, INS 2C). A PIN lives in the store under ``pin/<ref>`` as one mapping, so every
change to it is a single persistent write.

PIN format: the reference data is the exact bytes the terminal sends. ``ascii`` PINs (the default)
are 4..12 ASCII digits with no padding (``b"1234"``); ``bcd`` PINs are packed digits, padded with
``F`` to whole bytes (``12 34 56`` or ``12 34 5F``). New PINs are checked against the format (6A80).

Try counters follow the OwnerPIN discipline (Java Card API ``OwnerPIN.check``): the counter is
decremented and *committed* before the comparison result is used, and set back to the maximum after
a match. A tear during VERIFY therefore costs a try, never gives one away. Comparison is constant
time (``hmac.compare_digest``). Whether a PIN is verified is transient, per channel session.
"""

from __future__ import annotations

import hmac
from typing import Any

from applets.runtime.applet import status
from applets.runtime.store import StoreView
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["INS_CHANGE_REFERENCE_DATA", "INS_RESET_RETRY_COUNTER", "INS_VERIFY", "Pins"]

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_RESET_RETRY_COUNTER = 0x2C
_MAX_TRIES = 15  # 63Cx can only report 0..15


def _tries_sw(left: int) -> ResponseAPDU:
    return status(0x63C0 | left)


def _valid(value: bytes, fmt: str, min_len: int, max_len: int) -> bool:
    if fmt == "ascii":
        return min_len <= len(value) <= max_len and all(0x30 <= b <= 0x39 for b in value)
    if fmt == "bcd":
        digits = value.hex().upper().rstrip("F")
        return min_len <= len(digits) <= max_len and digits.isdigit() and len(value) == (len(digits) + 1) // 2
    return False


class Pins:
    """The PIN objects of one applet (or one file system), keyed by reference number 1..31."""

    def __init__(self, store: StoreView) -> None:
        self._store = store

    # -- issuing ---------------------------------------------------------------------------------
    def create(
        self,
        ref: int,
        value: bytes,
        *,
        tries: int = 3,
        puk: bytes | None = None,
        puk_tries: int = 10,
        fmt: str = "ascii",
        min_len: int = 4,
        max_len: int = 12,
    ) -> None:
        """Create or replace PIN ``ref``; call inside a transaction (personalisation)."""
        if not 1 <= ref <= 31:
            raise ValueError("PIN reference must be 1..31 (ISO 7816-4 P2 b5-b1)")
        if not 1 <= tries <= _MAX_TRIES or not 1 <= puk_tries <= _MAX_TRIES:
            raise ValueError(f"try limits must be 1..{_MAX_TRIES}")
        if not _valid(value, fmt, min_len, max_len):
            raise ValueError(f"PIN {ref} does not match its format {fmt} ({min_len}..{max_len} digits)")
        self._store.set(f"pin/{ref}", {
            "value": value, "tries": tries, "max": tries, "format": fmt, "min": min_len, "max_len": max_len,
            "puk": puk, "puk_tries": puk_tries if puk else 0, "puk_max": puk_tries if puk else 0,
        })

    def exists(self, ref: int) -> bool:
        return f"pin/{ref}" in self._store

    def tries_left(self, ref: int) -> int:
        return int(self._get(ref)["tries"])

    def puk_tries_left(self, ref: int) -> int:
        return int(self._get(ref)["puk_tries"])

    def _get(self, ref: int) -> dict[str, Any]:
        obj = self._store.get(f"pin/{ref}")
        if obj is None:
            raise KeyError(ref)
        return dict(obj)

    def _put(self, ref: int, obj: dict[str, Any]) -> None:
        with self._store.transaction():
            self._store.set(f"pin/{ref}", obj)

    def _check(self, ref: int, obj: dict[str, Any], counter: str, secret_key: str, offered: bytes) -> bool:
        """Decrement ``counter``, commit, then compare — OwnerPIN order, so a tear never refunds a try."""
        obj[counter] -= 1
        self._put(ref, obj)
        return hmac.compare_digest(offered, obj[secret_key])

    # -- commands --------------------------------------------------------------------------------
    def process(self, cmd: CommandAPDU, verified: set[int]) -> ResponseAPDU | None:
        """Handle VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER; ``None`` for other INS.

        ``verified`` is the session's set of verified PIN references, updated in place.
        """
        if cmd.ins not in (INS_VERIFY, INS_CHANGE_REFERENCE_DATA, INS_RESET_RETRY_COUNTER):
            return None
        # P2: b8 = global (0) / specific (1) reference, b7-b6 = 00, b5-b1 = number (ISO 7816-4 §11.5.6)
        if cmd.p2 & 0x60 or not cmd.p2 & 0x1F:
            return status(SW.INCORRECT_P1P2)
        ref = cmd.p2 & 0x1F
        if not self.exists(ref):
            return status(SW.REFERENCED_DATA_NOT_FOUND)
        if cmd.ins == INS_VERIFY:
            return self._verify(cmd, ref, verified)
        if cmd.ins == INS_CHANGE_REFERENCE_DATA:
            return self._change(cmd, ref, verified)
        return self._reset(cmd, ref, verified)

    def _verify(self, cmd: CommandAPDU, ref: int, verified: set[int]) -> ResponseAPDU:
        obj = self._get(ref)
        if cmd.p1 == 0xFF and not cmd.data:  # ISO 7816-4:2013 §11.5.6: P1 FF resets the status
            verified.discard(ref)
            return status(SW.OK)
        if cmd.p1 != 0x00:
            return status(SW.INCORRECT_P1P2)
        if not cmd.data:  # "how many tries are left?" — or 9000 if already verified
            if obj["tries"] == 0:
                return status(SW.AUTH_METHOD_BLOCKED)
            return status(SW.OK) if ref in verified else _tries_sw(obj["tries"])
        if obj["tries"] == 0:
            return status(SW.AUTH_METHOD_BLOCKED)
        if not self._check(ref, obj, "tries", "value", cmd.data):
            verified.discard(ref)
            return _tries_sw(obj["tries"])
        obj["tries"] = obj["max"]
        self._put(ref, obj)
        verified.add(ref)
        return status(SW.OK)

    def _change(self, cmd: CommandAPDU, ref: int, verified: set[int]) -> ResponseAPDU:
        obj = self._get(ref)
        if obj["tries"] == 0:
            return status(SW.AUTH_METHOD_BLOCKED)
        if cmd.p1 == 0x00:  # data = current PIN || new PIN; the card knows the current length
            cut = len(obj["value"])
            if not self._check(ref, obj, "tries", "value", cmd.data[:cut]):
                verified.discard(ref)
                return _tries_sw(obj["tries"])
            obj["tries"] = obj["max"]
            new = cmd.data[cut:]
            if not new:
                self._put(ref, obj)
                return status(SW.WRONG_LENGTH)
        elif cmd.p1 == 0x01:  # data = new PIN only; the PIN must have been verified in this session
            if ref not in verified:
                return status(SW.SECURITY_STATUS_NOT_SATISFIED)
            new = cmd.data
        else:
            return status(SW.INCORRECT_P1P2)
        if not _valid(new, obj["format"], obj["min"], obj["max_len"]):
            self._put(ref, obj)  # keep the refreshed counter; the PIN itself stays
            return status(SW.WRONG_DATA)
        obj["value"] = new
        self._put(ref, obj)
        verified.add(ref)
        return status(SW.OK)

    def _reset(self, cmd: CommandAPDU, ref: int, verified: set[int]) -> ResponseAPDU:
        obj = self._get(ref)
        if cmd.p1 not in (0x00, 0x01):  # 00: PUK || new PIN, 01: PUK only
            return status(SW.INCORRECT_P1P2)
        if not obj["puk"]:
            return status(SW.REFERENCE_DATA_NOT_USABLE)
        if obj["puk_tries"] == 0:
            return status(SW.AUTH_METHOD_BLOCKED)
        cut = len(obj["puk"])
        if not self._check(ref, obj, "puk_tries", "puk", cmd.data[:cut]):
            return _tries_sw(obj["puk_tries"])
        new = cmd.data[cut:]
        obj["puk_tries"] = obj["puk_max"]
        if cmd.p1 == 0x00:
            if not _valid(new, obj["format"], obj["min"], obj["max_len"]):
                self._put(ref, obj)
                return status(SW.WRONG_DATA)
            obj["value"] = new
        elif new:
            self._put(ref, obj)
            return status(SW.WRONG_LENGTH)
        obj["tries"] = obj["max"]
        self._put(ref, obj)
        verified.discard(ref)
        return status(SW.OK)
