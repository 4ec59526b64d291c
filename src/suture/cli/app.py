"""The `suture` command: sub-commands are registered here; errors are caught once, here."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from suture import __version__
from suture.cli import (
    audit,
    baseline,
    compliance,
    crash,
    db,
    deploy,
    fix,
    init,
    judge,
    metrics,
    run,
    runs,
    schema,
    serve,
    token,
    why,
)
from suture.cli import sbom as sbom_cli
from suture.errors import SutureError

app = typer.Typer(
    name="suture",
    help=(
        "Self-healing, compliance-grade CI/CD for healthcare software.\n\n"
        "Runs your repository's quality and security gates (tests + coverage, lint, static "
        "security analysis, secrets, vulnerable dependencies, infrastructure as code) through "
        "the real tools, in parallel, cached, and records every run; explains each failure as a "
        "chain of whys (suture why), repairs what it can with verified fixes on a branch of "
        "their own (suture fix), and keeps a tamper-evident audit trail that becomes "
        "compliance evidence (suture audit, suture compliance); ships releases progressively "
        "with a statistical canary judge and automatic rollback (suture deploy).\n\n"
        "Start with:  suture init && suture run"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"suture {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Self-healing, compliance-grade CI/CD for healthcare software."""


init.register(app)
run.register(app)
runs.register(app)
why.register(app)
fix.register(app)
baseline.register(app)
schema.register(app)
audit.register(app)
sbom_cli.register(app)
compliance.register(app)
deploy.register(app)
judge.register(app)
metrics.register(app)
token.register(app)
db.register(app)
serve.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn errors into messages and exit codes."""
    try:
        # Without standalone mode click returns the code of `typer.Exit` instead of exiting.
        code = app(args=argv, standalone_mode=False)
    except SutureError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        if exc.hint:
            typer.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted (a run in progress is recorded as error)", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except TyperException as exc:  # usage errors: bad option values, unknown commands
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # an unexpected crash: keep what a bug report needs
        path = crash.write_log(exc)
        typer.secho(f"error: suture crashed: {type(exc).__name__}: {exc}", err=True, fg="red")
        typer.echo(f"  a log with versions and the traceback is at {path}; please attach it to a "
                   "bug report", err=True)
        sys.exit(3)
    else:
        sys.exit(code if isinstance(code, int) else 0)
