"""The ``cardkit`` command: parses arguments, calls the packages, renders output with rich.

No protocol logic lives here: each module registers one command or group on :data:`cli` and
renders what the library returns. Every user error raised by the library is a ``CardkitError``;
:func:`main` turns it into one line on stderr and a non-zero exit (the traceback only with
``--debug``).
"""

from __future__ import annotations

import sys

import click

from cardkit.errors import CardkitError
from cli import basic, bench, card, emv, gp, host, id_card, issuer, pos, social, transit  # noqa: F401  (registers the commands)
from cli._app import cli, console, errors

__all__ = ["cli", "console", "main"]

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130


# ------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear line per user error, traceback only with --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # without standalone mode click returns (not raises) the code of an Exit raised in a
        # subcommand of a group, e.g. `pos sale` declining with 3
        code = cli.main(args=args, prog_name="cardkit", standalone_mode=False)
    except click.exceptions.Abort:
        errors.print("aborted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CardkitError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)  # click, not rich: one line, never wrapped
        return EXIT_USER_ERROR
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
