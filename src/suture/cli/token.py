"""`suture token`: API tokens with roles for `suture serve`; every create and revoke is audited."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.errors import UsageError
from suture.store.tokens import Role, TokenRecord

SCHEMA_VERSION = 1
_SPAN_RE = re.compile(r"^(\d+)\s*([hdwy])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
         "y": timedelta(days=365)}
_STATE_STYLE = {"active": "green", "expired": "yellow", "revoked": "red"}

token_app = typer.Typer(
    help="API tokens for `suture serve` (roles: viewer < developer < approver < admin). Only a "
    "hash of each secret is stored; the secret is printed once, at creation.\n\n"
    "Examples:\n\n  suture token create --role approver --name alice\n\n"
    "  suture token list --all\n\n  suture token revoke alice",
    no_args_is_help=True,
)
JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


def register(app: typer.Typer) -> None:
    """Add the `token` group."""
    app.add_typer(token_app, name="token")


@token_app.command("create")
def create(
    name: str = typer.Option(..., "--name", "-n", help="Who or what uses it (unique among "
                             "active tokens), e.g. alice or ci-bot."),
    role: Role = typer.Option(..., "--role", "-r", help="What it may do."),
    expires: str = typer.Option("90d", "--expires", help="Lifetime (12h, 90d, 2w, 1y) or never."),
    as_json: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Create a token and print its secret, once."""
    from suture.audit.recorder import record
    from suture.deploy.approvals import who
    from suture.store import open_store
    from suture.store.tokens import TokenStore

    lifetime = parse_lifetime(expires)
    top = resolve_root(root)
    actor = who(top)
    with open_store(top) as store:
        token, secret = TokenStore(store).create(name, role, expires_in=lifetime,
                                                 created_by=actor)
        record(store, "token.created", f"token/{token.id}", _audit_payload(token),
               actor=actor, root=top)
    if as_json:
        typer.echo(json.dumps({"schema_version": SCHEMA_VERSION, "token": as_dict(token),
                               "secret": secret}, indent=2))
    else:
        until = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at \
            else "never expires"
        err_console.print(f"Created token {token.id} {escape(token.name)!r} "
                          f"({token.role.value}), {until}:")
        typer.echo(secret)
    err_console.print("[yellow]Copy the secret now: it is not shown again (only its SHA-256 "
                      "is stored).[/]")


@token_app.command("list")
def list_tokens(
    include_revoked: bool = typer.Option(False, "--all", "-a", help="Include revoked tokens."),
    as_json: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """List the tokens (never their secrets)."""
    from suture.store import open_store
    from suture.store.tokens import TokenStore

    with open_store(resolve_root(root)) as store:
        tokens = TokenStore(store).list(include_revoked=include_revoked)
    if as_json:
        typer.echo(json.dumps({"schema_version": SCHEMA_VERSION,
                               "tokens": [as_dict(t) for t in tokens]}, indent=2))
        return
    if not tokens:
        err_console.print("no tokens yet; make one with `suture token create --role viewer "
                          "--name NAME`")
        return
    now = datetime.now(UTC)
    table = Table(title="API tokens", title_justify="left")
    for col in ("id", "name", "role", "state", "created", "expires", "last used", "by"):
        table.add_column(col)
    for t in tokens:
        state = t.state(now)
        table.add_row(t.id, escape(t.name), t.role.value, f"[{_STATE_STYLE[state]}]{state}[/]",
                      _when(t.created_at), _when(t.expires_at, "never"),
                      _when(t.last_used_at), escape(t.created_by))
    out_console.print(table)


@token_app.command("revoke")
def revoke(
    ref: str = typer.Argument(..., help="Token id (8 hex digits) or name."),
    as_json: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Revoke a token now; requests using it are refused from then on."""
    from suture.audit.recorder import record
    from suture.deploy.approvals import who
    from suture.store import open_store
    from suture.store.tokens import TokenStore

    top = resolve_root(root)
    actor = who(top)
    with open_store(top) as store:
        token = TokenStore(store).revoke(ref)
        record(store, "token.revoked", f"token/{token.id}", _audit_payload(token),
               actor=actor, root=top)
    if as_json:
        typer.echo(json.dumps({"schema_version": SCHEMA_VERSION, "token": as_dict(token)},
                              indent=2))
    else:
        out_console.print(f"Revoked token {token.id} {escape(token.name)!r} "
                          f"({token.role.value}).")


def parse_lifetime(text: str) -> timedelta | None:
    """`never` -> None; `12h`, `90d`, `2w`, `1y` -> that span (positive)."""
    raw = text.strip().lower()
    if raw == "never":
        return None
    match = _SPAN_RE.match(raw)
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"--expires {text!r} is not a lifetime",
                         hint="give a number and a unit (12h, 90d, 2w, 1y), or never")
    return int(match.group(1)) * _UNIT[match.group(2)]


def as_dict(token: TokenRecord) -> dict[str, Any]:
    """A token's public fields as JSON-ready values (times in ISO 8601 UTC)."""
    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {"id": token.id, "name": token.name, "role": token.role.value,
            "state": token.state(), "created_at": iso(token.created_at),
            "expires_at": iso(token.expires_at), "last_used_at": iso(token.last_used_at),
            "revoked_at": iso(token.revoked_at), "created_by": token.created_by}


def _audit_payload(token: TokenRecord) -> dict[str, Any]:
    # Never the secret, nor its hash: the audit log is exported and shown to auditors.
    return {"id": token.id, "name": token.name, "role": token.role.value,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None}


def _when(at: datetime | None, missing: str = "-") -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else missing
