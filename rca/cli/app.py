"""The `rca` command line: one typer app, commands registered from small modules.

Exit codes: 0 success; 1 a handled error (one line on stderr, a traceback only with
`--debug`); 2 a usage error (click's own convention).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rca.errors import RcaError
from rca.settings import Settings, get_settings

app = typer.Typer(
    name="rca",
    help="Find why customers and sellers keep contacting support.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data directory (overrides RCA_HOME).", show_default=False),
]


PeriodOption = Annotated[str, typer.Option(help="2026-W46, 2026-11-20, last-week, latest…")]


def granularity_level(asked: str | None, settings: Settings) -> str:
    """The level a command reports at: ``--granularity``, else RCA_GRANULARITY."""
    level = asked or settings.granularity
    if level not in ("fine", "parent"):
        raise typer.BadParameter("--granularity must be fine or parent")
    return level


class _State:
    debug: bool = False


STATE = _State()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    STATE.debug = debug


def settings_for(home: Path | None) -> Settings:
    try:
        return get_settings(home)
    except ValueError as exc:  # pydantic validation of RCA_* variables
        raise RcaError(f"bad configuration: {exc}".splitlines()[0]) from exc


def stderr(message: str) -> None:
    typer.echo(message, err=True)


def main() -> None:
    """Entry point: run the app, turning handled errors into exit code 1."""
    from rca.cli import commands  # noqa: F401  (registers the commands)

    try:
        app()  # standalone: click prints usage errors itself and exits 2
    except RcaError as exc:
        if STATE.debug:
            raise
        stderr(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        stderr("interrupted: the unfinished command wrote nothing")
        sys.exit(130)
    except Exception as exc:
        if STATE.debug:
            raise
        stderr(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug)")
        sys.exit(1)
