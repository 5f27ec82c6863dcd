"""``cardkit issuer init``, ``cardkit issue``, ``cardkit issue-batch``: the card issuer's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cardkit.errors import CardkitError
from cli._app import cli, console
from cli._keys import issuer_secret


# ----------------------------------------------------------------------------------------- issuer
@cli.group("issuer")
def issuer_group() -> None:
    """The issuer's keys and settings."""


@issuer_group.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--pkcs11", "module", help="PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so): keys on a token.")
@click.option("--token", "token", help="Label of the (initialized) token for --pkcs11.")
@click.option("--name", default="cardkit TEST issuer", show_default=True, help="Issuer name (certificates).")
@click.option("--bin", "bin_", default="622848", show_default=True, help="Bank IIN the PANs start with.")
@click.option("--demo-keys", is_flag=True,
              help="Import the published demo keys instead (TEST cards the demo terminal, PSAM and host accept).")
def issuer_init(directory: Path, module: str | None, token: str | None, name: str, bin_: str,
                demo_keys: bool) -> None:
    """Create an issuer: every key generated in its keystore, test CA, ID PKI, settings.

    With --pkcs11 the keys are generated on the token and never leave it; otherwise they go into
    an encrypted file keystore (scrypt + AES-GCM) in DIRECTORY.
    """
    from cardkit.issuer.issuer import KEY_NAMES, IssuerSettings, init_issuer

    if (module is None) != (token is None):
        raise click.UsageError("--pkcs11 and --token go together")
    secret = issuer_secret(confirm=module is None, what="token PIN" if module else "new keystore passphrase")
    settings = IssuerSettings(name=name, bin=bin_)
    with console.status("generating keys..."):
        issuer = init_issuer(directory, secret=secret, settings=settings, pkcs11_module=module, token_label=token,
                             demo_keys=demo_keys)
    with issuer:
        table = Table("key", "kind", "for", title=f"issuer {name} in {directory} ({issuer.keystore.backend} keystore)")
        for key, (kind, algorithm, purpose) in KEY_NAMES.items():
            table.add_row(key, f"{kind} {algorithm}", purpose)
        console.print(table)
        console.print(f"test CA public key for terminals: {directory / 'capk.json'} "
                      f"(RID {issuer.capk.rid.hex().upper()}, index {issuer.capk.index:02X})")


@issuer_group.command("info")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def issuer_info(directory: Path) -> None:
    """Show an issuer's settings, keys (check values only) and numbers handed out."""
    from cardkit.issuer.issuer import KEY_NAMES, Issuer

    with Issuer.open(directory, issuer_secret()) as issuer:
        s = issuer.settings
        console.print(f"{s.name} · {issuer.keystore.backend} keystore · BIN {s.bin} · "
                      f"CAPK {s.capk_rid.hex().upper()}/{s.capk_index:02X}")
        table = Table("key", "kind", "check value")
        for key, (kind, algorithm, _) in KEY_NAMES.items():
            kcv = issuer.keystore.secret(key).kcv.hex().upper() if kind == "secret" else ""
            table.add_row(key, f"{kind} {algorithm}", kcv)
        console.print(table)
        counts = issuer.numbers.counts()
        console.print("handed out: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


# ------------------------------------------------------------------------------------------ issue
@cli.command("issue")
@click.option("--issuer", "issuer_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--holder", "holder_file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The holder profile (YAML).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write a new virtual card image here.")
@click.option("--reader", help="Personalize the blank card in this reader instead (pcsc:0, nfc:usb ...).")
@click.option("--pins", "pin_file", type=click.Path(dir_okay=False, path_type=Path),
              help="PIN mailer file (mode 0600); default: beside --out as .pin.")
def issue(issuer_dir: Path, holder_file: Path, out: Path | None, reader: str | None, pin_file: Path | None) -> None:
    """Issue one card for a holder: data preparation, then personalization through SCP03.

    The keystore passphrase or token PIN is read from $CARDKIT_ISSUER_SECRET, else asked for.
    """
    from cardkit.issuer.holder import load_holder
    from cardkit.issuer.issue import issue_to_reader, issue_virtual, write_pin_mailer
    from cardkit.issuer.issuer import Issuer
    from cardkit.issuer.prepare import prepare_card

    if (out is None) == (reader is None):
        raise click.UsageError("give exactly one of --out IMAGE and --reader NAME")
    if out is not None and out.exists():
        raise CardkitError(f"{out} already exists: a card image is never overwritten")
    profile = load_holder(holder_file)
    with Issuer.open(issuer_dir, issuer_secret()) as issuer:
        done = issuer.numbers.issued_card(profile.holder_id)
        if done is not None:
            raise CardkitError(f"holder {profile.holder_id} already has card {done[0]}: nothing issued")
        with console.status("preparing card data..."):
            plan = prepare_card(profile, issuer)
        with console.status("personalizing..."):
            if reader is not None:
                issued = issue_to_reader(reader, plan, issuer.card_manager_master())
            else:
                issued = issue_virtual(plan, issuer.card_manager_master(), out)
        # the PINs are safe on disk before the holder counts as issued (a second card is refused)
        target = pin_file or (out.with_suffix(".pin") if out is not None else Path(f"{plan.card_serial}.pin"))
        write_pin_mailer(plan, target)
        issuer.numbers.mark_issued(profile.holder_id, plan.card_serial, str(out or reader))
    console.print(f"issued {plan.describe()}")
    console.print(f"  to {out or reader}: {issued.report.store_data_commands} STORE DATA commands, "
                  f"{sum(issued.report.seconds.values()) * 1000:.0f} ms personalization")
    console.print(f"  card manager SECURED under the card's own keys; PIN mailer {target} (0600)")


# ------------------------------------------------------------------------------------ issue-batch
@cli.command("issue-batch")
@click.argument("holders_csv", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--issuer", "issuer_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Directory of card images.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256), help="Worker processes.")
@click.option("--example", "example", type=click.IntRange(1, 10_000_000),
              help="Write a CSV of N synthetic holders to stdout instead (its columns: docs/holders.md).")
@click.option("--seed", default=0, show_default=True, help="Seed of --example.")
@click.option("--check", is_flag=True, help="Only validate HOLDERS_CSV and list every invalid row.")
def issue_batch(holders_csv: Path | None, issuer_dir: Path | None, out_dir: Path | None, workers: int,
                example: int | None, seed: int, check: bool) -> None:
    """Issue one card per row of HOLDERS_CSV into --out; rerun the same command to resume.

    The keystore passphrase or token PIN is read from $CARDKIT_ISSUER_SECRET, else asked for.
    """
    if example is not None:
        from cardkit.issuer.holder_csv import write_holders
        from cardkit.issuer.holder_example import example_holders

        write_holders(example_holders(example, seed=seed), sys.stdout)
        return
    if holders_csv is None or (not check and (issuer_dir is None or out_dir is None)):
        raise click.UsageError("give HOLDERS_CSV, --issuer DIR and --out DIR (or --example N, or --check)")
    from cardkit.issuer.batch import BatchResult, run_batch
    from cardkit.issuer.holder_csv import HolderFileErrors, validate_holders
    from cardkit.issuer.issuer import Issuer

    try:
        total = validate_holders(holders_csv)
    except HolderFileErrors as exc:
        if check:
            for error in exc.errors:
                click.echo(str(error), err=True)
            if exc.total > len(exc.errors):
                click.echo(f"... and {exc.total - len(exc.errors)} more", err=True)
            raise click.exceptions.Exit(1) from None
        more = f" (and {exc.total - 1} more; --check lists them)" if exc.total > 1 else ""
        raise CardkitError(f"{exc.errors[0]}{more}: nothing issued") from None
    if check:
        console.print(f"{holders_csv}: {total} holders, all valid")
        return
    assert issuer_dir is not None and out_dir is not None  # checked above
    secret = issuer_secret()
    with Issuer.open(issuer_dir, secret) as issuer, Progress(
        TextColumn("[bold]issuing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task("cards", total=total, status="")

        def step(result: BatchResult | None) -> None:
            status = "skipped (done before)" if result is None else (
                result.holder_id if result.ok else f"[red]{result.holder_id} failed")
            progress.update(task, advance=1, status=status)

        summary = run_batch(holders_csv, issuer, issuer_dir, out_dir, workers=workers, secret=secret,
                            on_result=step)
    table = Table("", "cards", title=f"batch {out_dir}")
    table.add_row("issued now", str(summary.issued))
    table.add_row("recovered (finished before an interruption)", str(summary.recovered))
    table.add_row("skipped (issued by an earlier run)", str(summary.skipped))
    table.add_row("failed", str(summary.failed))
    table.add_row("cards per second", f"{summary.cards_per_second:.1f} ({workers} worker{'s' if workers > 1 else ''})")
    for phase, seconds in summary.phase_seconds.items():
        per_card = seconds / summary.issued * 1000 if summary.issued else 0
        table.add_row(f"  {phase} per card", f"{per_card:.0f} ms")
    console.print(table)
    for row, holder, message in summary.failures[:20]:
        console.print(f"[red]row {row} {holder}: {message}")
    if len(summary.failures) > 20:
        console.print(f"[red]... and {len(summary.failures) - 20} more: {out_dir / 'issuance.log'} has every one")
    if summary.failed:
        raise click.exceptions.Exit(1)
