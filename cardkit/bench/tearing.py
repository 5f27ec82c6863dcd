"""The tearing suite: power lost at every persistent write of a transaction, then recovery.

Only for ``virtual:`` readers: the card image is loaded afresh for every tear point, so the card
in the reader (and its image file) is never touched. For each transaction (an EMV contactless
purchase; a transit load, purchase and CAPP tap; a social insurance payment) a clean run counts
the store writes W the transaction makes; then for every k in 1..W a fresh card is torn at write
k (``SimulatedCard.arm_tear``, as tests/transit/test_tear.py does), powered again, and the client's
recovery runs (``PurseClient.recover`` after an interrupted purse command; otherwise a fresh
transaction). The invariants: the balance is the old or the new one, the log agrees with it (one
entry more exactly when the balance moved), the counter did not go back, and the card works after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cardkit.apdu import CommandAPDU
from cardkit.bench.checks import Check, Context, Failed, Skipped
from cardkit.errors import CardkitError, CardTornError, TransportError
from cardkit.readers import CardChannel, VirtualReader

__all__ = ["SCENARIOS", "State", "tearing_checks"]

WHEN = datetime(2026, 12, 1, 8, 0, 0)
TERMINAL = bytes.fromhex("000100000101")


@dataclass(frozen=True)
class State:
    """What a client sees: the balance, the log's length and the transaction counter."""

    balance: int
    log: int
    counter: int


class Scenario:
    """One transaction: ``prepare`` (untorn), ``act`` (torn), ``state``, ``recover`` after the tear."""

    name = ""

    def __init__(self, channel: CardChannel) -> None:
        self.channel = channel

    def prepare(self) -> None: ...

    def act(self) -> None:
        raise NotImplementedError

    def state(self) -> State:
        raise NotImplementedError

    def recover(self) -> None:
        self.act()  # a fresh transaction


class EmvContactless(Scenario):
    name = "EMV contactless purchase"

    def _kernel(self) -> Any:
        from cardkit.bench.suites import _kernel

        ctx = Context("", self.channel.connection, self.channel)
        return _kernel(ctx)

    def act(self) -> None:
        outcome = self._kernel().run(1, contactless=True)
        if not outcome.approved:
            raise Failed(f"declined: {outcome.reason}")

    def state(self) -> State:
        from cardkit.bench.suites import DEBIT_AID

        self.channel.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, DEBIT_AID, le=256))
        balance = self.channel.transmit_ok(CommandAPDU(0x80, 0xCA, 0x9F, 0x79, le=256)).data[-6:]
        atc = self.channel.transmit_ok(CommandAPDU(0x80, 0xCA, 0x9F, 0x36, le=256)).data[-2:]
        money = int(balance.hex())
        return State(money, -money, int.from_bytes(atc, "big"))  # no log read: the balance is its own log


class _Purse(Scenario):
    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)
        from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK
        from cardkit.purse import Psam, PurseClient

        self.client = PurseClient(channel)
        self.psam = Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=TERMINAL)

    def state(self) -> State:
        info = self.client.select()
        entries = self.client.log()
        return State(info.balance, len(entries), max((e.counter for e in entries), default=0))

    def recover(self) -> None:
        for init in self.client.pending:
            self.client.recover(init, self.psam)
        self.act()


class TransitLoad(_Purse):
    name = "transit load"

    def act(self) -> None:
        from cardkit.issuer.demo_keys import DEMO_PURSE_MLK
        from cardkit.purse.issuer import load_mac2

        self.client.select()
        self.client.load(100, TERMINAL, lambda info, init, when: load_mac2(DEMO_PURSE_MLK, info, init, when), WHEN)


class TransitPurchase(_Purse):
    name = "transit purchase"

    def act(self) -> None:
        self.client.select()
        self.client.purchase(100, self.psam, WHEN)


class CappTap(_Purse):
    name = "transit CAPP tap-out"

    def _tap(self, station: str, minutes: int) -> None:
        from pos_sim.transit import Validator, demo_rules

        rules = replace(demo_rules(), bands=((100.0, 1),), max_fare=1, min_entry_balance=0, transfer_discount=0)
        when = WHEN + timedelta(minutes=minutes)
        tap = Validator(rules, self.psam, rules.station(station), clock=lambda: when).tap(self.channel)
        if not tap.gate_open:
            raise Failed(f"the gate stayed closed: {tap.reason}")

    def prepare(self) -> None:
        self._tap("Xizhimen", 0)

    def act(self) -> None:
        self._tap("Dongzhimen", 20)

    def recover(self) -> None:
        self._tap("Xizhimen", 40)  # the next tap works, whichever way the torn one went


class SocialPayment(Scenario):
    name = "social insurance payment"

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)
        from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK
        from cardkit.social import SocialClient, SocialSam

        self.client = SocialClient(channel)
        self.sam = SocialSam(DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, TERMINAL)

    def act(self) -> None:
        from pos_sim.demo_card import DEMO_PIN

        self.client.select()
        self.client.verify_pin(DEMO_PIN)
        self.client.pay(100, self.sam, WHEN)

    def state(self) -> State:
        self.client.select()
        self.client.authenticate_terminal(self.sam)
        entries = self.client.log()
        return State(self.client.balance(), len(entries), max((e.counter for e in entries), default=0))


SCENARIOS: tuple[type[Scenario], ...] = (EmvContactless, TransitLoad, TransitPurchase, CappTap, SocialPayment)


def _fresh(image: Path, scenario: type[Scenario]) -> tuple[Any, Scenario]:
    from applets.runtime import load_card

    card = load_card(image)
    channel = CardChannel(VirtualReader(card, name=f"tear copy of {image}").connect())
    run = scenario(channel)
    run.prepare()
    return card, run


def _clean(image: Path, scenario: type[Scenario]) -> tuple[int, State, State]:
    """The writes of one untorn run and the states before and after it."""
    card, run = _fresh(image, scenario)
    old = run.state()
    before = card.store.writes
    run.act()
    writes = card.store.writes - before
    return writes, old, run.state()


def _consistent(what: str, old: State, new: State, seen: State) -> None:
    if (seen.balance, seen.log) not in ((old.balance, old.log), (new.balance, new.log)):
        raise Failed(f"{what}: balance {seen.balance} with {seen.log} log entries; expected {old.balance}/"
                     f"{old.log} (old) or {new.balance}/{new.log} (new)")
    if not old.counter <= seen.counter <= new.counter:
        raise Failed(f"{what}: counter {seen.counter} outside {old.counter}..{new.counter}")


def _tear_check(image: Path, scenario: type[Scenario], k: int, writes: int, old: State,
                new: State) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        card, run = _fresh(image, scenario)
        card.arm_tear(k)
        try:
            run.act()
        except (CardTornError, TransportError, CardkitError):
            pass
        else:
            raise Failed(f"the tear at write {k} of {writes} did not fire")
        finally:
            card.disarm_tear()
        run.channel.connection.reconnect(reset=False)
        seen = run.state()
        _consistent("after the tear", old, new, seen)
        went = "new" if seen.balance == new.balance else "old"
        run.recover()
        after = run.state()
        if after.balance == seen.balance and after.log == seen.log:
            raise Failed("the recovery transaction did not change the card")
        return f"write {k}/{writes}: {went} state kept; recovery ran"
    return check


def tearing_checks(image: Path | None) -> list[Check]:
    """One check per (transaction, write point); one skipped check when there is no card image."""
    if image is None:
        def skip(_ctx: Context) -> str:
            raise Skipped("tearing needs a virtual: reader (a simulated card image)")
        return [Check("tearing", skip)]
    checks: list[Check] = []
    for scenario in SCENARIOS:
        try:
            writes, old, new = _clean(image, scenario)
        except CardkitError as exc:
            message = f"{scenario.name}: the clean run failed ({exc})"

            def failed(_ctx: Context, message: str = message) -> str:
                raise Failed(message)
            checks.append(Check(f"{scenario.name}: clean run", failed))
            continue
        checks += [Check(f"{scenario.name}: tear at write {k}/{writes}",
                         _tear_check(image, scenario, k, writes, old, new)) for k in range(1, writes + 1)]
    return checks
