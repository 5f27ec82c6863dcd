"""Fare rules of a transit network: flat, distance bands or zones, with the rules around them.

A :class:`FareRules` says what a ride costs (flat; by the distance between the entry and exit
stations in fare bands; or by the number of zones crossed), the maximum fare (charged when a
tap-out or a tap-in is missing), the minimum balance to enter, and the transfer discount (taken off
a ride that starts within a window after the previous one ended). Amounts are int fen. The rules
can be read from TOML (``FareRules.load``); :func:`demo_rules` is the demo metro line.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardkit.errors import ProfileError

__all__ = ["FareKind", "FareRules", "Station", "demo_rules"]


class FareKind(enum.Enum):
    FLAT = "flat"
    DISTANCE = "distance"
    ZONE = "zone"


@dataclass(frozen=True, slots=True)
class Station:
    """One station: its code on the card (two bytes), name, position on its line and zone."""

    code: int
    name: str
    km: float = 0.0
    zone: int = 1
    line: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.code <= 0xFFFF:
            raise ProfileError(f"station code {self.code} must fit two bytes (1..65535)")


@dataclass(frozen=True)
class FareRules:
    """How a network charges.

    Attributes:
        kind: flat, distance or zone.
        flat: the fare of a flat network (and the fare of a ride within one station).
        bands: for distance fares, ``(up to km, fare)`` in increasing order; a ride beyond the
            last band costs the maximum fare.
        zone_fares: for zone fares, the fare by the number of zones travelled (1 = within one zone).
        max_fare: what a ride with a missing tap-in or tap-out costs.
        min_entry_balance: the balance a card needs to pass the entry gate.
        transfer_window_s / transfer_discount: a ride entered within the window after the previous
            exit on another line costs that much less (never below zero).
        stations: by name (the CLI's ``--station``) and by code (the card record).
    """

    kind: FareKind = FareKind.DISTANCE
    flat: int = 200
    bands: tuple[tuple[float, int], ...] = ((6.0, 300), (12.0, 400), (22.0, 500), (32.0, 600))
    zone_fares: tuple[int, ...] = (200, 300, 400)
    max_fare: int = 900
    min_entry_balance: int = 200
    transfer_window_s: int = 90 * 60
    transfer_discount: int = 100
    stations: tuple[Station, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        codes = [s.code for s in self.stations]
        if len(set(codes)) != len(codes):
            raise ProfileError("two stations share a code")
        if any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(self.bands, self.bands[1:], strict=False)):
            raise ProfileError("fare bands must grow in distance and not fall in fare")
        for name in ("flat", "max_fare", "min_entry_balance", "transfer_discount", "transfer_window_s"):
            if getattr(self, name) < 0:
                raise ProfileError(f"{name} must not be negative")

    # ------------------------------------------------------------------------------- lookup
    def station(self, name_or_code: str | int) -> Station:
        """A station by name (case-insensitive) or code.

        Raises:
            ProfileError: no such station (names the known ones).
        """
        for s in self.stations:
            if s.code == name_or_code or (isinstance(name_or_code, str) and s.name.lower() == name_or_code.lower()):
                return s
        known = ", ".join(s.name for s in self.stations) or "none"
        raise ProfileError(f"no station {name_or_code!r} (known: {known})")

    def by_code(self, code: int) -> Station | None:
        return next((s for s in self.stations if s.code == code), None)

    # -------------------------------------------------------------------------------- fares
    def ride(self, entry: Station | None, exit_: Station) -> int:
        """The fare from ``entry`` to ``exit_``; the maximum fare when the entry is unknown."""
        if self.kind is FareKind.FLAT:
            return self.flat
        if entry is None:
            return self.max_fare
        if self.kind is FareKind.ZONE:
            crossed = abs(entry.zone - exit_.zone)
            return self.zone_fares[crossed] if crossed < len(self.zone_fares) else self.max_fare
        distance = abs(entry.km - exit_.km)
        if distance == 0:
            return min(self.flat, self.max_fare)
        for up_to, fare in self.bands:
            if distance <= up_to:
                return min(fare, self.max_fare)
        return self.max_fare

    # ---------------------------------------------------------------------------------- file
    @classmethod
    def load(cls, path: Path) -> FareRules:
        """Read rules from TOML (see docs/transit.md); errors name the key, in one line."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read the fare rules ({exc.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: not valid TOML ({exc})") from None
        try:
            return cls.from_mapping(raw)
        except (ProfileError, TypeError, ValueError, KeyError) as exc:
            raise ProfileError(f"{path}: {exc}") from None

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> FareRules:
        known = {"kind", "flat", "bands", "zone_fares", "max_fare", "min_entry_balance", "transfer_window_s",
                 "transfer_discount", "stations"}
        unknown = set(raw) - known
        if unknown:
            raise ProfileError(f"unknown key {sorted(unknown)[0]} (known: {', '.join(sorted(known))})")
        args: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("kind", "bands", "zone_fares", "stations")}
        if "kind" in raw:
            try:
                args["kind"] = FareKind(raw["kind"])
            except ValueError:
                raise ProfileError(f"kind must be flat, distance or zone, not {raw['kind']!r}") from None
        if "bands" in raw:
            args["bands"] = tuple((float(km), int(fare)) for km, fare in raw["bands"])
        if "zone_fares" in raw:
            args["zone_fares"] = tuple(int(f) for f in raw["zone_fares"])
        if "stations" in raw:
            args["stations"] = tuple(Station(**s) for s in raw["stations"])
        for name, value in args.items():
            if name != "kind" and name not in ("bands", "zone_fares", "stations") and not isinstance(value, int):
                raise ProfileError(f"{name} must be an integer (fen or seconds), not {value!r}")
        return cls(**args)


def demo_rules() -> FareRules:
    """The demo metro: two lines, distance fares 3-6 CNY, 9 CNY maximum, 1 CNY transfer discount."""
    names = [("Xizhimen", 0.0), ("Jishuitan", 2.1), ("Gulou", 3.3), ("Andingmen", 4.4), ("Yonghegong", 5.7),
             ("Dongzhimen", 7.9), ("Dongsi", 10.2), ("Wangfujing", 12.0), ("Qianmen", 14.6), ("Beijingzhan", 17.3)]
    line1 = [Station(0x0101 + i, name, km, zone=1 + int(km // 6), line=1) for i, (name, km) in enumerate(names)]
    line2 = [Station(0x0201 + i, name, km, zone=1 + int(km // 6), line=2) for i, (name, km) in enumerate(
        [("Sanyuanqiao", 0.0), ("Liangmaqiao", 3.0), ("Guomao", 9.5), ("Shuangjing", 11.2), ("Songjiazhuang", 19.0)])]
    return FareRules(stations=tuple(line1 + line2))
