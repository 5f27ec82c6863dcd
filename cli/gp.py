"""``cardkit gp``: GlobalPlatform card management — what the card is, its registry, keys, life cycle.

Works on the simulated card manager (``virtual:IMAGE``) and on a real GlobalPlatform card in a
PC/SC reader. Keys come from ``--key`` (one key for ENC, MAC and DEK) or ``--key-enc/--key-mac/
--key-dek``; without them the published test keys 40..4F are used, with a warning. Keys are
never printed, only their KCVs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cardkit.errors import CardkitError
from cli._app import cli, console, errors

if TYPE_CHECKING:
    from cardkit.gp import GpSession, RegistryEntry, SecurityLevel, StaticKeys
    from cardkit.readers import CardChannel

F = TypeVar("F", bound=Callable[..., Any])

STATES = {"initialized": 0x07, "secured": 0x0F, "card-locked": 0x7F, "terminated": 0xFF}
_LOCK_APP, _UNLOCK_APP = 0x80, 0x00  # SET STATUS P2 for an application: b8 set locks, clear unlocks


@cli.group("gp")
def gp_group() -> None:
    """GlobalPlatform: card info, the registry, key sets, locking and the card life cycle."""


# --------------------------------------------------------------------------------- options
def _byte(value: str | int | None, name: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        n = int(value, 0)
    except ValueError:
        raise click.BadParameter(f"{name} {value!r} is not a number (48 or 0x30)") from None
    if not 0 <= n <= 0xFF:
        raise click.BadParameter(f"{name} {value!r} is not a byte (0..255)")
    return n


def _key(value: str, option: str) -> bytes:
    """A key from hex; the message never repeats the value."""
    try:
        key = bytes.fromhex(value.replace(" ", "").replace(":", ""))
    except ValueError:
        raise click.BadParameter(f"{option} is not hexadecimal (the value is not shown)") from None
    if len(key) not in (16, 24, 32):
        raise click.BadParameter(f"{option} must be 16, 24 or 32 bytes of hex, got {len(key)} bytes")
    return key


def _key_set(single: str | None, enc: str | None, mac: str | None, dek: str | None, kvn: int, prefix: str,
             *, warn: bool) -> StaticKeys | None:
    """Keys from ``--{prefix}key`` or the three ``--{prefix}key-*``; ``None`` when none is given."""
    from cardkit.gp import StaticKeys

    parts = (enc, mac, dek)
    if single is not None and any(p is not None for p in parts):
        raise click.UsageError(f"give --{prefix}key or --{prefix}key-enc/-mac/-dek, not both")
    if single is not None:
        return StaticKeys.single(_key(single, f"--{prefix}key"), kvn)
    if any(p is not None for p in parts):
        if not all(p is not None for p in parts):
            raise click.UsageError(f"--{prefix}key-enc, --{prefix}key-mac and --{prefix}key-dek go together")
        keys = [_key(p, f"--{prefix}key-{n}") for p, n in zip(parts, ("enc", "mac", "dek"), strict=True)
                if p is not None]
        return StaticKeys(keys[0], keys[1], keys[2], kvn)
    if warn:
        errors.print("warning: no --key given: using the published GlobalPlatform test keys 40..4F")
    return None


def _auth_keys(params: dict[str, Any]) -> StaticKeys:
    from cardkit.gp import StaticKeys

    kvn = _byte(params.pop("kvn"), "--kvn") or 0
    keys = _key_set(params.pop("key"), params.pop("key_enc"), params.pop("key_mac"), params.pop("key_dek"), kvn, "",
                    warn=True)
    return keys if keys is not None else StaticKeys.default(kvn)


def _level(name: str) -> SecurityLevel:
    from cardkit.gp import SecurityLevel

    return SecurityLevel.C_MAC | (SecurityLevel.C_DEC if name == "mac+enc" else SecurityLevel(0))


def _common(kvn_option: str = "--kvn") -> Callable[[F], F]:
    def decorate(f: F) -> F:
        for option in reversed([
            click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>."),
            click.option("--key", metavar="HEX", help="One key for ENC, MAC and DEK (16/24/32 bytes)."),
            click.option("--key-enc", metavar="HEX", help="K-ENC (with --key-mac and --key-dek)."),
            click.option("--key-mac", metavar="HEX", help="K-MAC."),
            click.option("--key-dek", metavar="HEX", help="K-DEK."),
            click.option(kvn_option, "kvn", metavar="N", help="Key version number to open with (default: the card's)."),
            click.option("--issuer", "issuer_dir", type=click.Path(file_okay=False, exists=True),
                         help="Open with this card's own keys, derived from the issuer's card manager master key "
                              "(cardkit issue made the card; the secret from $CARDKIT_ISSUER_SECRET)."),
            click.option("--scp-level", type=click.Choice(["mac", "mac+enc"]), default="mac+enc", show_default=True,
                         help="C-MAC only, or C-MAC and encrypted command data."),
        ]):
            f = option(f)
        return f
    return decorate


_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


class _Card:
    """The reader connection, the channel and (opened on demand) the secure channel."""

    def __init__(self, params: dict[str, Any]) -> None:
        from cardkit.readers import open_reader

        self.issuer_dir: str | None = params.pop("issuer_dir")
        self.keys: StaticKeys | None = None  # with --issuer: the card's own, derived when a session opens
        if self.issuer_dir is None:
            self.keys = _auth_keys(params)
        else:
            params.pop("kvn")  # the card's own key set is KVN 01
            if any([params.pop(k) for k in ("key", "key_enc", "key_mac", "key_dek")]):
                raise click.UsageError("give --issuer or --key..., not both")
        self.level = _level(params.pop("scp_level"))
        self._conn = open_reader(params.pop("reader_name")).connect()

    def __enter__(self) -> _Card:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()

    @property
    def channel(self) -> CardChannel:
        from cardkit.readers import CardChannel

        return CardChannel(self._conn)

    def session(self) -> GpSession:
        from cardkit.gp import open_secure_channel

        if self.keys is None:
            assert self.issuer_dir is not None
            self.keys = self._issued_card_keys(self.issuer_dir)
        return open_secure_channel(self.channel, self.keys, level=self.level)

    def _issued_card_keys(self, issuer_dir: str) -> StaticKeys:
        """The card's key set KVN 01: the issuer's master key diversified by the card's data."""
        from cardkit.apdu import CommandAPDU
        from cardkit.gp import ISD_AID, get_data, select_aid
        from cardkit.issuer.issuer import Issuer
        from cardkit.issuer.personalize import card_keys
        from cli._keys import issuer_secret

        channel = self.channel
        select_aid(channel, ISD_AID)
        try:
            diversification = get_data(channel, 0x00CF)[-10:]
        except CardkitError:  # not every card answers GET DATA CF: the INITIALIZE UPDATE answer starts with it
            diversification = channel.transmit(CommandAPDU(0x80, 0x50, 0x00, 0x00, bytes(8), le=256)).data[:10]
        with Issuer.open(issuer_dir, issuer_secret()) as issuer:
            return card_keys(issuer.card_manager_master(), diversification)


def _hex(b: bytes | None) -> str | None:
    return None if b is None else b.hex().upper()


# ------------------------------------------------------------------------------------ info
@gp_group.command("info")
@_common()
@_json
def info_cmd(as_json: bool, **params: Any) -> None:
    """CPLC, card data, IIN/CIN and key information (no secure channel), and the card life cycle."""
    import datetime as dt

    from cardkit.errors import CardError, CardkitError
    from cardkit.gp import (
        ISD_AID,
        Scope,
        get_card_data,
        get_cplc,
        get_data,
        get_key_information,
        get_status,
        select_aid,
    )

    report: dict[str, Any] = {}
    with _Card(params) as card:
        channel = card.channel
        select_aid(channel, ISD_AID)
        today = dt.date.today()
        try:
            cplc = get_cplc(channel)
            dates = cplc.dates()
            report["cplc"] = {name: {"value": value.hex().upper(),
                                     "date": (d.resolve(today).isoformat() if (d := dates.get(name)) else None)}
                              if name in dates else value.hex().upper()
                              for name, value in cplc.fields().items()}
        except CardError as exc:
            report["cplc"] = None
            report["cplc_error"] = str(exc)
        try:
            cd = get_card_data(channel)
            report["card_data"] = {"gp_version": cd.gp_version,
                                   "scp": [f"SCP{p:02X} i={i:02X}" for p, i in cd.scp],
                                   "oids": [{"tag": t, "oid": o} for t, o in cd.oids]}
        except CardkitError as exc:
            report["card_data"] = None
            report["card_data_error"] = str(exc)
        for name, tag in (("iin", 0x0042), ("cin", 0x0045)):
            try:
                report[name] = get_data(channel, tag).hex().upper()
            except CardError:
                report[name] = None
        try:
            report["keys"] = [{"kvn": k.kvn, "key_id": k.key_id, "type": k.type_name, "length": k.length}
                              for k in get_key_information(channel)]
        except CardkitError as exc:
            report["keys"] = []
            report["keys_error"] = str(exc)
        try:
            (isd, *_) = get_status(card.session(), Scope.ISD)
            report["life_cycle"] = isd.state
        except (CardkitError, ValueError) as exc:
            report["life_cycle"] = None
            report["life_cycle_error"] = str(exc)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print_info(report)


def _print_info(report: dict[str, Any]) -> None:
    from rich.table import Table

    if report["cplc"] is not None:
        table = Table("CPLC field", "value", "date", title="Card Production Life Cycle (9F7F)")
        for name, value in report["cplc"].items():
            if isinstance(value, dict):
                table.add_row(name, value["value"], value["date"] or "-")
            else:
                table.add_row(name, value, "")
        console.print(table)
    else:
        console.print(f"CPLC: not available ({report['cplc_error']})")
    cd = report["card_data"]
    if cd is not None:
        console.print(f"card data: GlobalPlatform {cd['gp_version'] or '?'}, {', '.join(cd['scp']) or 'no SCP listed'}")
    console.print(f"IIN: {report['iin'] or '-'}   CIN: {report['cin'] or '-'}")
    if report["keys"]:
        table = Table("KVN", "key id", "type", "length", title="Key information (00E0)")
        for k in report["keys"]:
            table.add_row(f"{k['kvn']:02X}", f"{k['key_id']:02X}", k["type"], str(k["length"]))
        console.print(table)
    else:
        console.print(f"key information: not available ({report.get('keys_error', 'empty')})")
    if report["life_cycle"] is not None:
        console.print(f"card life cycle: [bold]{report['life_cycle']}[/]")
    else:
        console.print(f"card life cycle: unknown (secure channel: {report['life_cycle_error']})")


# ------------------------------------------------------------------------------------ list
def _kind(entry: RegistryEntry) -> str:
    from cardkit.gp import Scope

    if entry.scope == Scope.ISD:
        return "ISD"
    if entry.scope == Scope.APPLICATIONS:
        return "SD" if entry.privileges[:1] and entry.privileges[0] & 0x80 else "APP"
    return "LOAD FILE"


@gp_group.command("list")
@_common()
@_json
def list_cmd(as_json: bool, **params: Any) -> None:
    """The registry: the ISD, applications and security domains, load files with their modules."""
    from cardkit.errors import CardError
    from cardkit.gp import Scope, get_status

    with _Card(params) as card:
        session = card.session()
        entries = get_status(session, Scope.ISD) + get_status(session, Scope.APPLICATIONS)
        try:
            entries += get_status(session, Scope.LOAD_FILES_AND_MODULES)
        except CardError:  # GP 2.1 cards without the modules listing
            entries += get_status(session, Scope.LOAD_FILES)
    rows: list[dict[str, Any]] = [
        {"kind": _kind(e), "aid": _hex(e.aid), "life_cycle": e.state, "state": f"{e.life_cycle:02X}",
         "privileges": e.privilege_names, "modules": [_hex(m) for m in e.modules],
         "load_file": _hex(e.load_file), "security_domain": _hex(e.security_domain)} for e in entries]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("kind", "AID", "life cycle", "privileges", title="GlobalPlatform registry")
    for r in rows:
        table.add_row(r["kind"], r["aid"], r["life_cycle"], ", ".join(r["privileges"]) or "-")
        for m in r["modules"]:
            table.add_row("  module", m, "", "")
    console.print(table)


# --------------------------------------------------------------------------------- keys
@gp_group.command("put-key")
@_common()
@click.option("--new-key", metavar="HEX", help="One new key for ENC, MAC and DEK.")
@click.option("--new-key-enc", metavar="HEX", help="New K-ENC (with --new-key-mac and --new-key-dek).")
@click.option("--new-key-mac", metavar="HEX", help="New K-MAC.")
@click.option("--new-key-dek", metavar="HEX", help="New K-DEK.")
@click.option("--new-kvn", required=True, metavar="N", help="Key version number of the new set (1..127).")
@click.option("--replace-kvn", metavar="N", help="Replace this key set instead of adding one.")
@_json
def put_key_cmd(new_key: str | None, new_key_enc: str | None, new_key_mac: str | None, new_key_dek: str | None,
                new_kvn: str, replace_kvn: str | None, as_json: bool, **params: Any) -> None:
    """Write a key set (PUT KEY); the card's KCVs are checked against ours."""
    from cardkit.gp import put_key

    kvn = _byte(new_kvn, "--new-kvn")
    assert kvn is not None
    new = _key_set(new_key, new_key_enc, new_key_mac, new_key_dek, kvn, "new-", warn=False)
    if new is None:
        raise click.UsageError("give the new keys: --new-key HEX or --new-key-enc/-mac/-dek")
    replace = _byte(replace_kvn, "--replace-kvn")
    with _Card(params) as card:
        kcvs = put_key(card.session(), new, replace_kvn=replace)
    k = {"enc": kcvs[:3].hex().upper(), "mac": kcvs[3:6].hex().upper(), "dek": kcvs[6:].hex().upper()}
    if as_json:
        click.echo(json.dumps({"kvn": kvn, "replaced": replace, "kcv": k}, indent=2))
        return
    how = f"replacing KVN {replace:02X}" if replace is not None else "added"
    console.print(f"key set KVN {kvn:02X} written ({how}); card KCVs ENC {k['enc']} MAC {k['mac']} DEK {k['dek']} "
                  "match")


@gp_group.command("delete-key")
@_common(kvn_option="--auth-kvn")
@click.option("--kvn", "target_kvn", required=True, metavar="N", help="The key set to delete.")
@click.option("--key-id", metavar="N", help="Only this key of the set.")
def delete_key_cmd(target_kvn: str, key_id: str | None, **params: Any) -> None:
    """Delete a key set (DELETE D2 KVN), or one key of it."""
    from cardkit.gp import delete_key

    kvn = _byte(target_kvn, "--kvn")
    assert kvn is not None
    kid = _byte(key_id, "--key-id")
    with _Card(params) as card:
        delete_key(card.session(), kvn, kid)
    console.print(f"key set KVN {kvn:02X} deleted" if kid is None else f"key {kid:02X} of KVN {kvn:02X} deleted")


# --------------------------------------------------------------------------------- life cycle
def _aid(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise click.BadParameter(f"--aid {value!r} is not hexadecimal") from None


def _lock(params: dict[str, Any], aid_hex: str | None, lock: bool) -> None:
    from cardkit.gp import CardLifeCycle, Scope, set_status

    aid = _aid(aid_hex)
    with _Card(params) as card:
        session = card.session()
        if aid is None:
            set_status(session, Scope.ISD, CardLifeCycle.CARD_LOCKED if lock else CardLifeCycle.SECURED)
        else:
            set_status(session, Scope.APPLICATIONS, _LOCK_APP if lock else _UNLOCK_APP, aid)
    what = "card" if aid is None else f"application {aid.hex().upper()}"
    console.print(f"{what} {'locked' if lock else 'unlocked'}")


@gp_group.command("lock")
@_common()
@click.option("--aid", "aid_hex", metavar="HEX", help="Lock this application instead of the card.")
def lock_cmd(aid_hex: str | None, **params: Any) -> None:
    """Lock the card (CARD_LOCKED) or, with --aid, one application."""
    _lock(params, aid_hex, True)


@gp_group.command("unlock")
@_common()
@click.option("--aid", "aid_hex", metavar="HEX", help="Unlock this application instead of the card.")
def unlock_cmd(aid_hex: str | None, **params: Any) -> None:
    """Unlock the card (back to SECURED) or, with --aid, one application."""
    _lock(params, aid_hex, False)


@gp_group.command("set-status")
@click.argument("state", type=click.Choice(sorted(STATES)))
@_common()
@click.option("--yes", is_flag=True, help="Do not ask before terminating the card.")
def set_status_cmd(state: str, yes: bool, **params: Any) -> None:
    """Move the card to STATE: initialized, secured, card-locked or terminated (for good)."""
    from cardkit.gp import Scope, set_status

    if state == "terminated" and not yes:
        click.confirm("TERMINATED is final: the card will never work again. Terminate it?", abort=True, err=True)
    with _Card(params) as card:
        set_status(card.session(), Scope.ISD, STATES[state])
    console.print(f"card life cycle set to {state.upper().replace('-', '_')}")
