"""Toy applets for runtime tests: a multi-write counter, a refuser, a chaining echo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from applets.runtime import Applet, CommandContext, register_applet, status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

COUNTER_AID = bytes.fromhex("F0000000C0FFEE01")
FIELDS = ("a", "b", "c", "d")


@register_applet("test-counter")
class CounterApplet(Applet):
    """INS 10: bump a,b,c,d in one transaction; 12: in two (a,b)+(c,d); 14: read; 16..1C: bugs."""

    def __init__(self, aid: bytes = COUNTER_AID, *, label: str | None = None, step: int = 1) -> None:
        super().__init__(aid, label=label)
        self.step = step
        self.deselected = 0

    def install(self) -> None:
        for f in FIELDS:
            self.store.set(f, 0)

    def values(self) -> tuple[int, ...]:
        return tuple(self.store.get(f) for f in FIELDS)

    def deselect(self) -> None:
        self.deselected += 1

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        match cmd.ins:
            case 0x10:
                with self.store.transaction():
                    for f in FIELDS:
                        self.store.set(f, self.store.get(f) + self.step)
            case 0x12:
                for group in (FIELDS[:2], FIELDS[2:]):
                    with self.store.transaction():
                        for f in group:
                            self.store.set(f, self.store.get(f) + self.step)
            case 0x14:
                return status(SW.OK, bytes(self.values()))
            case 0x16:
                self.store.set("a", 99)  # bug: outside a transaction
            case 0x18:
                raise ValueError("applet bug")
            case 0x1A:
                self.store.store.begin()
                self.store.set("a", 42)  # bug: returns with the transaction open
            case 0x1C:
                try:
                    with self.store.transaction():
                        self.store.set("a", 7)
                except Exception:  # noqa: BLE001 - a careless applet: must not be able to swallow a tear
                    return status(SW.OK)
            case 0x1E:
                return "not a response"  # type: ignore[return-value]
            case 0x20:
                return status(SW.OK, bytes(range(200)) * 2)  # 400 bytes: longer than any short Ne
            case 0x22:
                return status(SW.OK, bytes([ctx.channel, ctx.secure_messaging, ctx.chained, ctx.proprietary]))
            case _:
                return status(SW.INS_NOT_SUPPORTED)
        return status(SW.OK)

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "step": self.step}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CounterApplet:
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"), step=config["step"])


@register_applet("test-refuser")
class RefuserApplet(Applet):
    """Refuses selection with 6985."""

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        return status(SW.CONDITIONS_NOT_SATISFIED)


@register_applet("test-chainer")
class ChainerApplet(Applet):
    """Supports chaining; single-select only; echoes the chaining flag."""

    supports_chaining = True
    multiselectable = False

    def new_session(self) -> dict[str, Any]:
        return {"buf": b""}

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        ctx.session["buf"] += cmd.data
        if ctx.chained:
            return status(SW.OK)
        out, ctx.session["buf"] = ctx.session["buf"], b""
        return status(SW.OK, out)


@register_applet("test-enum-sw")
class EnumSwApplet(Applet):
    """Answers with ``ResponseAPDU(data, SW.OK)`` — the enum, not an int."""

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        return ResponseAPDU(b"\x01", SW.OK)
