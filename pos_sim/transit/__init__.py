"""Transit at the POS and at the gate: fare rules, the validator, the card's transit record, top-ups.

``Validator(rules, psam, station).tap(channel)`` serves one card at a gate (docs/transit.md);
``top_up(client, amount, ...)`` loads its purse online through the host.
"""

from pos_sim.transit.fares import FareKind, FareRules, Station, demo_rules
from pos_sim.transit.record import RideState, TransitRecord
from pos_sim.transit.topup import TopUpResult, purse_terminal_id, top_up
from pos_sim.transit.validator import TapAction, TapResult, Validator, demo_gate_psam

__all__ = [
    "FareKind",
    "FareRules",
    "RideState",
    "Station",
    "TapAction",
    "TapResult",
    "TopUpResult",
    "TransitRecord",
    "Validator",
    "demo_gate_psam",
    "demo_rules",
    "purse_terminal_id",
    "top_up",
]
