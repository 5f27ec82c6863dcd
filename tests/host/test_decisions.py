"""Issuer decisions with real cryptograms: every request carries field 55 from a transaction the
demo card ran in process, so the host's ARQC check and ARPC are the real thing."""

from __future__ import annotations

import pytest

from cardkit import tlv
from cardkit.emv import OutcomeKind
from cardkit.issuer.authorization import make_arpc
from cardkit.issuer.demo_keys import demo_issuer
from pos_sim.host import AdditionalAmount, Host, HostMessageError, InProcessHostLink, encode_message

from .kit import DEMO_CREDIT_PAN, DEMO_PAN, NOW, Card, Terminal, new_host, online_via

START = 1_000_000  # the demo debit balance, 10,000.00


def arpc_of(reply: dict[str, str | bytes]) -> bytes:
    raw = reply["55"]
    assert isinstance(raw, bytes)
    (obj,) = tlv.decode(raw)
    assert obj.tag == b"\x91"
    return obj.value


def icc_map(msg: dict[str, str | bytes]) -> dict[int, bytes]:
    raw = msg["55"]
    assert isinstance(raw, bytes)
    data = {int.from_bytes(t, "big"): v for t, v in tlv.flatten(raw).items()}
    data[0x5A] = bytes.fromhex(str(msg["2"]) + "F" * (len(str(msg["2"])) % 2))
    data[0x5F34] = bytes.fromhex(str(msg["23"])[1:])
    return data


def test_approval_debits_and_answers_with_a_verifiable_arpc(host: Host, link: InProcessHostLink,
                                                            terminal: Terminal, debit_card: Card) -> None:
    msg = terminal.financial(debit_card.arqc(1250))
    reply = link.exchange(msg)
    assert reply["39"] == "00"
    assert str(reply["38"]).isdigit() and len(str(reply["38"])) == 6
    assert host.account(DEMO_PAN).balance == START - 1250
    assert AdditionalAmount.parse_all(str(reply["54"])) == [AdditionalAmount("10", "02", "156", START - 1250)]
    assert arpc_of(reply) == make_arpc(demo_issuer(), icc_map(msg), b"00")
    for echoed in ("2", "3", "4", "7", "11", "37", "41", "42", "49"):
        assert reply[echoed] == msg[echoed]


def test_the_card_accepts_the_hosts_arpc_end_to_end(host: Host, link: InProcessHostLink) -> None:
    card = Card()
    card.route = online_via(link, Terminal())
    outcome = card.kernel.run(4321)
    assert outcome.kind is OutcomeKind.APPROVED_ONLINE, outcome.reason
    assert host.account(DEMO_PAN).balance == START - 4321
    declined = card.kernel.run(START + 1)  # 51: the card gets the decline with a valid ARPC
    assert declined.kind is OutcomeKind.DECLINED_ONLINE, declined.reason
    assert host.account(DEMO_PAN).balance == START - 4321


def test_tampered_arqc_is_declined_05_with_an_arpc(host: Host, link: InProcessHostLink, terminal: Terminal,
                                                  debit_card: Card) -> None:
    msg = terminal.financial(debit_card.arqc(1250))
    icc = bytearray(msg["55"])  # type: ignore[arg-type]
    icc[3] ^= 0x01  # inside 9F26
    msg["55"] = bytes(icc)
    reply = link.exchange(msg)
    assert reply["39"] == "05" and "38" not in reply
    assert arpc_of(reply)[-2:] == b"05"
    assert host.account(DEMO_PAN).balance == START


def test_amount_not_covered_by_the_arqc_is_declined(host: Host, link: InProcessHostLink, terminal: Terminal,
                                                   debit_card: Card) -> None:
    msg = terminal.financial(debit_card.arqc(1250), amount=125)
    assert link.exchange(msg)["39"] == "05"


def test_unknown_card_14(terminal: Terminal, debit_card: Card) -> None:
    with Host(clock=lambda: NOW) as empty:
        empty.add_account("6228480000000000999", balance=100)
        assert InProcessHostLink(empty).exchange(terminal.financial(debit_card.arqc(100)))["39"] == "14"


@pytest.mark.parametrize(("card_kind", "amount", "code"), [
    ("debit", START + 1, "51"),
    ("debit", START, "00"),
    ("credit", 2_000_001, "61"),
    ("credit", 2_000_000, "00"),
])
def test_funds_and_limits(link: InProcessHostLink, terminal: Terminal, debit_card: Card, credit_card: Card,
                          card_kind: str, amount: int, code: str) -> None:
    card = credit_card if card_kind == "credit" else debit_card
    assert link.exchange(terminal.financial(card.arqc(amount)))["39"] == code


def test_credit_card_spends_its_available_credit(host: Host, link: InProcessHostLink, terminal: Terminal,
                                                 credit_card: Card) -> None:
    reply = link.exchange(terminal.financial(credit_card.arqc(150_000)))
    assert reply["39"] == "00"
    account = host.account(DEMO_CREDIT_PAN)
    assert (account.balance, account.available_funds) == (-150_000, 5_000_000 - 150_000)
    assert str(reply["54"]).startswith("3002156C")


def test_expired_card_54(host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    assert link.exchange(terminal.financial(debit_card.arqc(100), **{"14": "2604"}))["39"] == "54"
    assert link.exchange(terminal.financial(debit_card.arqc(100), **{"14": "2605"}))["39"] == "00"
    host.add_account(DEMO_PAN, balance=START, expiry="2512")
    assert link.exchange(terminal.financial(debit_card.arqc(100)))["39"] == "54"


def test_online_pin_right_wrong_and_exhausted(host: Host, link: InProcessHostLink, terminal: Terminal,
                                              debit_card: Card) -> None:
    assert link.exchange(terminal.financial(debit_card.arqc(100), pin="123456"))["39"] == "00"
    codes = [link.exchange(terminal.financial(debit_card.arqc(100), pin="654321"))["39"] for _ in range(2)]
    assert codes == ["55", "55"] and host.account(DEMO_PAN).pin_tries_left == 1
    assert link.exchange(terminal.financial(debit_card.arqc(100), pin="123456"))["39"] == "00"
    assert host.account(DEMO_PAN).pin_tries_left == 3  # a right PIN resets the counter
    codes = [link.exchange(terminal.financial(debit_card.arqc(100), pin="000000"))["39"] for _ in range(3)]
    assert codes == ["55", "55", "75"]
    assert link.exchange(terminal.financial(debit_card.arqc(100), pin="123456"))["39"] == "75"
    assert host.account(DEMO_PAN).balance == START - 200


def test_pin_block_under_another_key_is_a_wrong_pin(host: Host, link: InProcessHostLink, terminal: Terminal,
                                                    debit_card: Card) -> None:
    from .kit import pin_block

    msg = terminal.financial(debit_card.arqc(100), **{"52": pin_block("123456", zpk=bytes(range(16)))})
    assert link.exchange(msg)["39"] == "55"


def test_issuer_unavailable_91(host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    host.faults.unavailable = True
    reply = link.exchange(terminal.financial(debit_card.arqc(100)))
    assert reply["39"] == "91" and "55" not in reply
    assert link.exchange(terminal.base("0800") | {"70": "301"})["39"] == "00"  # the switch itself is up
    host.faults.unavailable = False
    host.add_account(DEMO_PAN, balance=START, expiry="3012", available=False)
    assert link.exchange(terminal.financial(debit_card.arqc(100)))["39"] == "91"
    assert host.account(DEMO_PAN).balance == START


def test_duplicates_94_by_stan_and_by_rrn(host: Host, link: InProcessHostLink, terminal: Terminal,
                                          debit_card: Card) -> None:
    first = terminal.financial(debit_card.arqc(1000))
    assert link.exchange(first)["39"] == "00"
    assert link.exchange(first)["39"] == "94"  # same TID + STAN + transmission date-time
    same_rrn = terminal.financial(debit_card.arqc(1000), **{"37": first["37"]})
    assert link.exchange(same_rrn)["39"] == "94"
    other_terminal = Terminal("TERM0002").financial(debit_card.arqc(1000), stan=str(first["11"]))
    assert link.exchange(other_terminal)["39"] == "00"  # the key includes the TID
    assert host.account(DEMO_PAN).balance == START - 2000
    assert host.ledger.count("state = 'posted'") == 2


def test_balance_inquiry(host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    reply = link.exchange(terminal.financial(debit_card.arqc(0, 0x30), proc="300000", pin="123456"))
    assert reply["39"] == "00"
    assert AdditionalAmount.parse_all(str(reply["54"]))[0].amount == START
    assert host.account(DEMO_PAN).balance == START


def test_preauth_and_completion(host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    pre = link.exchange(terminal.financial(debit_card.arqc(50_000), mti="0100", proc="030000"))
    assert pre["t"] == "0110" and pre["39"] == "00"
    account = host.account(DEMO_PAN)
    assert (account.balance, account.held, account.available_funds) == (START, 50_000, START - 50_000)
    too_much = terminal.financial(amount=50_001, **{"25": "06", "38": pre["38"]})
    assert link.exchange(too_much)["39"] == "13"
    unknown = terminal.financial(amount=100, **{"25": "06", "38": "999999"})
    assert link.exchange(unknown)["39"] == "25"
    done = link.exchange(terminal.financial(amount=42_000, **{"25": "06", "38": pre["38"]}))
    assert done["39"] == "00"
    account = host.account(DEMO_PAN)
    assert (account.balance, account.held) == (START - 42_000, 0)
    again = terminal.financial(amount=1_000, **{"25": "06", "38": pre["38"]})
    assert link.exchange(again)["39"] == "25"  # a pre-authorization completes once


def test_void_and_refund(host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    sale = terminal.financial(debit_card.arqc(3_000))
    assert link.exchange(sale)["39"] == "00"
    ref = f"{sale['11']}{sale['7']}"
    assert link.exchange(terminal.financial(amount=2_999, proc="020000", **{"61": ref}))["39"] == "13"
    assert link.exchange(terminal.financial(amount=3_000, proc="020000", **{"61": ref}))["39"] == "00"
    assert host.account(DEMO_PAN).balance == START
    assert link.exchange(terminal.financial(amount=3_000, proc="020000", **{"61": ref}))["39"] == "25"
    assert link.exchange(terminal.financial(amount=3_000, proc="020000"))["39"] == "30"  # no field 61

    sale = terminal.financial(debit_card.arqc(5_000))
    assert link.exchange(sale)["39"] == "00"
    ref = f"{sale['11']}{sale['7']}{terminal.tid}"
    assert link.exchange(terminal.financial(amount=4_000, proc="200000", **{"61": ref}))["39"] == "00"
    assert link.exchange(terminal.financial(amount=1_001, proc="200000", **{"61": ref}))["39"] == "13"
    assert link.exchange(terminal.financial(amount=700, proc="200000"))["39"] == "00"  # refund without original
    assert host.account(DEMO_PAN).balance == START - 5_000 + 4_000 + 700


def test_electronic_cash_load_debits_the_account_and_scripts_the_new_balance(
        host: Host, link: InProcessHostLink, terminal: Terminal, debit_card: Card) -> None:
    request = terminal.financial(debit_card.arqc(20_000), proc="280000", pin="123456")
    without_balance = link.exchange(dict(request))
    assert without_balance["39"] == "30" and host.account(DEMO_PAN).balance == START  # nothing taken
    request = terminal.financial(debit_card.arqc(20_000), proc="280000", pin="123456")
    request["55"] = bytes(request["55"]) + tlv.build(0x9F79, bytes.fromhex("000000050000"))  # 500.00 on the card
    reply = link.exchange(request)
    arpc = tlv.find(tlv.decode(bytes(reply["55"])), 0x91)
    assert reply["39"] == "00" and arpc is not None and arpc.value[-2:] == b"00"
    assert host.account(DEMO_PAN).balance == START - 20_000
    script = tlv.find(tlv.decode(bytes(reply["55"])), [0x72, 0x86])
    assert script is not None and script.value[:4] == bytes.fromhex("84DA9F79")  # PUT DATA 9F79, CLA 84: SM
    assert script.value[5:11] == bytes.fromhex("000000070000")  # 500.00 + 200.00


def test_format_errors_and_unknown_requests(link: InProcessHostLink, host: Host, terminal: Terminal) -> None:
    no_tid = terminal.financial(amount=100)
    del no_tid["41"]
    assert link.exchange(no_tid)["39"] == "30"
    assert link.exchange(terminal.financial(amount=100, proc="990000"))["39"] == "30"
    other = host.handle(encode_message({"t": "0300", "11": "000001"}))
    assert other.startswith(b"0310")
    with pytest.raises(HostMessageError, match="not a request"):
        host.handle(encode_message({"t": "0210", "11": "000001"}))
    with pytest.raises(HostMessageError):
        host.handle(b"\x00garbage")


def test_network_management(link: InProcessHostLink, terminal: Terminal) -> None:
    for code, answer in (("001", "00"), ("301", "00"), ("002", "00"), ("161", "12")):
        reply = link.exchange(terminal.base("0800") | {"70": code})
        assert (reply["t"], reply["39"], reply["70"]) == ("0810", answer, code)
    assert link.exchange(terminal.base("0800"))["39"] == "30"


def test_seeding_twice_changes_nothing(host: Host) -> None:
    host.ledger.set_available(DEMO_PAN, False)
    host.seed_demo_accounts()
    assert not host.account(DEMO_PAN).available
    with pytest.raises(KeyError):
        host.account("0000")


def test_a_file_ledger_survives_a_restart(tmp_path: object, terminal: Terminal, debit_card: Card) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "host.sqlite"
    with new_host(db_path=db) as first:
        assert InProcessHostLink(first).exchange(terminal.financial(debit_card.arqc(777)))["39"] == "00"
    with Host(db, clock=lambda: NOW) as again:
        again.seed_demo_accounts()
        assert again.account(DEMO_PAN).balance == START - 777
        assert again.ledger.count("state = 'posted'") == 1
