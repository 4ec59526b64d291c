"""`suture audit`: verify the tamper-evident log, list it, export it, sign its head."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.errors import UsageError

if TYPE_CHECKING:
    from suture.audit import VerifyResult
    from suture.audit.keys import PublicKey

# suture.audit pulls in cryptography; commands import it when they run, to keep startup quick.
ENV_KEY = "SUTURE_AUDIT_KEY"
PAYLOAD_CHARS = 70

audit_app = typer.Typer(
    help="The tamper-evident audit log: every run, gate result, diagnosis, LLM call, fix, "
    "approval and deploy step, hash-chained in the run database with signed checkpoints.\n\n"
    "Examples:\n\n  suture audit verify\n\n  suture audit log --since 7d --action fix.commit\n\n"
    "  suture audit export --since 30d -o audit.jsonl\n\n  suture audit checkpoint\n\n"
    "  suture audit key rotate",
    no_args_is_help=True,
)
key_app = typer.Typer(
    help="The Ed25519 keys that sign the audit log's checkpoints: the signing key, and the "
    "retired ones kept as .suture/keys/audit_ed25519.<key id>.pub so old checkpoints still "
    "verify.\n\nExamples:\n\n  suture audit key list\n\n  suture audit key rotate",
    no_args_is_help=True,
)
audit_app.add_typer(key_app, name="key")

PUBLIC_KEY_OPTION = typer.Option(
    None, "--public-key", "-k",
    help="Public key (.pub PEM) to check signatures with; repeat for several (after a key "
    "rotation, give the retired keys too). Default: the .pub next to the signing key "
    f"(.suture/keys/audit_ed25519 or ${ENV_KEY}) and the retired keys kept beside it.",
    show_default=False,
)
KEY_OPTION = typer.Option(None, "--key", help=f"Signing key (PEM). Default: ${ENV_KEY}, else "
                          ".suture/keys/audit_ed25519.", show_default=False)


def register(app: typer.Typer) -> None:
    """Add the `audit` command group."""
    app.add_typer(audit_app, name="audit")


@audit_app.command(
    "verify",
    help="Walk the whole chain and check every event's digest, hash and link, and every "
    "checkpoint's signature; name the first event that was modified, deleted, inserted or "
    "reordered, or a forged checkpoint. With --file, check an export offline instead.\n\n"
    "Exit code: 0 intact, 1 tampered (the first bad event is named), 2 usage or key problem.\n\n"
    "Examples:\n\n  suture audit verify\n\n  suture audit verify --json\n\n"
    "  suture audit verify --file audit.jsonl --public-key audit_ed25519.pub",
)
def verify_command(
    public_key: list[Path] | None = PUBLIC_KEY_OPTION,
    file: Path | None = typer.Option(None, "--file", "-f",
                                     help="Verify this export (from `suture audit export`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Verify the audit log."""
    from suture.audit import AuditLog
    from suture.audit.export import verify_export
    from suture.audit.keys import load_public_key

    keys = [load_public_key(p) for p in public_key] if public_key else None
    if file is not None:
        if keys is None:
            err_console.print(f"[yellow]no --public-key given: checking signatures with the key "
                              f"inside {escape(str(file))}; compare its id with the one you "
                              "trust[/]")
        result = verify_export(file, keys)
        where = str(file)
    else:
        with AuditLog.open(resolve_root(root)) as log:
            result = log.verify(keys)
            where = log.url
    if as_json:
        typer.echo(json.dumps({**result.to_json(), "source": where}, indent=2))
    else:
        _print_result(result, where, keys)
    raise typer.Exit(0 if result.ok else 1)


def _print_result(result: VerifyResult, where: str, keys: list[PublicKey] | None) -> None:
    if result.problem is not None:
        p = result.problem
        out_console.print(f"[bold red]audit log TAMPERED at event {p.seq}[/] ({p.kind.value}): "
                          f"{escape(p.detail)}")
        out_console.print(f"[dim]{result.events} events before it checked out; source: "
                          f"{escape(where)}[/]")
        return
    if not result.events:
        out_console.print(f"audit log is empty ({escape(where)})")
        return
    signed = (f"{result.checkpoints} signed checkpoint{'s' if result.checkpoints != 1 else ''} "
              f"verified" + (f" with key {', '.join(result.key_ids)}" if result.key_ids else ""))
    head = (result.head_hash or "")[:16]
    out_console.print(f"[bold green]audit log intact[/]: {result.events:,} events "
                      f"({result.first_seq}..{result.last_seq}), head {head}; {signed}")
    if result.unsigned_tail:
        out_console.print(f"[yellow]{result.unsigned_tail} events after the last checkpoint are "
                          "protected by the chain only; `suture audit checkpoint` signs them[/]")


@audit_app.command(
    "log",
    help="List audit events, newest first, as a table or as JSON lines.\n\n"
    "Examples:\n\n  suture audit log\n\n  suture audit log --since 7d --action fix.commit\n\n"
    "  suture audit log --since 2026-11-01 --action 'deploy.*' --json\n\n"
    "  suture audit log --subject 3fa2c1d4e5f6 -n 200",
)
def log_command(
    since: str | None = typer.Option(None, "--since", "-s",
                                     help="Only events since: 30m, 12h, 7d, 2w, or a UTC date "
                                     "such as 2026-11-01."),
    action: list[str] | None = typer.Option(None, "--action", "-a",
                                            help="Only this action (repeatable); `fix.*` "
                                            "matches every fix action."),
    subject: str | None = typer.Option(None, "--subject", help="Only events about this subject."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many events."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one event each."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """List audit events."""
    from suture.audit import AuditLog
    from suture.audit.since import parse_since

    moment = parse_since(since) if since else None
    with AuditLog.open(resolve_root(root)) as log:
        events = log.events(since=moment, actions=action or (), subject=subject, limit=limit)
    if as_json:
        for ev in events:
            typer.echo(json.dumps(ev.to_json(), ensure_ascii=False, separators=(",", ":")))
        return
    if not events:
        out_console.print("no audit events match" if since or action or subject
                          else "no audit events recorded yet")
        return
    table = Table(title="suture audit log", title_justify="left")
    for col in ("seq", "time (UTC)", "actor", "action", "subject", "payload"):
        table.add_column(col, overflow="fold")
    for ev in events:
        payload = ev.payload if len(ev.payload) <= PAYLOAD_CHARS \
            else ev.payload[: PAYLOAD_CHARS - 3] + "..."
        table.add_row(str(ev.seq), ev.time[:19].replace("T", " "), escape(ev.actor),
                      ev.action, escape(ev.subject), escape(payload))
    out_console.print(table)


@audit_app.command(
    "export",
    help="Write events, their hashes, the checkpoints and the public key as JSON Lines, so an "
    "auditor can re-verify them offline with `suture audit verify --file`. The range is "
    "contiguous from the first event since --since up to the newest.\n\n"
    "Examples:\n\n  suture audit export --since 30d -o audit.jsonl\n\n"
    "  suture audit export > everything.jsonl",
)
def export_command(
    since: str | None = typer.Option(None, "--since", "-s",
                                     help="From the first event since: 30d, 12h, or a UTC date "
                                     "(default: everything)."),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Write to this file (default: standard output)."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Export the audit log as JSON Lines."""
    from suture.audit import AuditLog
    from suture.audit.export import export
    from suture.audit.since import parse_since

    moment = parse_since(since) if since else None
    with AuditLog.open(resolve_root(root)) as log:
        if output is None or str(output) == "-":
            export(log, typer.get_text_stream("stdout"), moment)
            return
        tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                summary = export(log, fh, moment)
            tmp.replace(output)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}",
                             hint="choose a writable path with -o") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    span = f" ({summary.first_seq}..{summary.last_seq})" if summary.events else ""
    key = f"; public key {summary.key_id} included" if summary.key_id else ""
    err_console.print(f"wrote {summary.events:,} events{span} and {summary.checkpoints} "
                      f"checkpoints to {escape(str(output))}{key}")
    err_console.print(f"[dim]check it offline with: suture audit verify --file "
                      f"{escape(str(output))} --public-key <the .pub you trust>[/]")


@audit_app.command(
    "checkpoint",
    help="Sign the current head of the chain now (suture also does this every 1000 events and "
    "at the end of each run). The key is created on first use, mode 0600.\n\n"
    "Examples:\n\n  suture audit checkpoint\n\n"
    "  suture audit checkpoint --key /run/secrets/audit_ed25519",
)
def checkpoint_command(
    key: Path | None = KEY_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Sign the audit log's head."""
    from suture.audit import AuditLog

    with AuditLog.open(resolve_root(root), key=key) as log:
        cp = log.checkpoint()
        path = log.key_path
    if cp is None:
        out_console.print("the audit log is empty: nothing to sign yet")
        return
    out_console.print(f"signed checkpoint at event {cp.seq} (head {cp.head_hash[:16]}) with key "
                      f"{cp.key_id} ({escape(str(path))})")


@key_app.command(
    "rotate",
    help="Replace the signing key with a new Ed25519 key. The old key signs the current head, "
    "an `audit.key_rotated` event records its endorsement of the new key, and the new key signs "
    "that event; the old public key is kept as audit_ed25519.<key id>.pub, so `verify` still "
    "checks the checkpoints it signed, and refuses any it signs from now on. The old private "
    "key is deleted.\n\nExit code: 0 rotated, 2 key missing, wrong or not writable.\n\n"
    "Examples:\n\n  suture audit key rotate\n\n"
    "  SUTURE_AUDIT_KEY=/run/secrets/audit_ed25519 suture audit key rotate --json",
)
def key_rotate_command(
    key: Path | None = KEY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Rotate the audit signing key."""
    from suture.audit import AuditLog

    with AuditLog.open(resolve_root(root), key=key) as log:
        done = log.rotate_key()
    if as_json:
        typer.echo(json.dumps({
            "old_key_id": done.old_key_id, "new_key_id": done.new_key_id,
            "event_seq": done.event.seq,
            "old_key_checkpoint": done.before.seq if done.before else None,
            "new_key_checkpoint": done.after.seq, "key_path": str(done.key_path),
            "retired_public_key": str(done.retired_public),
        }, indent=2))
        return
    signed = f"; key {done.old_key_id} signed the head at event {done.before.seq}" \
        if done.before else ""
    out_console.print(f"rotated the audit key: {done.old_key_id} -> [bold]{done.new_key_id}[/] "
                      f"(event {done.event.seq} audit.key_rotated, signed by the new key{signed})")
    out_console.print(f"new signing key: {escape(str(done.key_path))}; the old public key stays "
                      f"trusted as {escape(str(done.retired_public))}")
    out_console.print("[dim]give auditors the new .pub too: `suture audit export` carries "
                      "every key[/]")


@key_app.command(
    "list",
    help="List the keys the audit log knows: the signing key, retired keys, and any key that "
    "signed checkpoints but whose public key is not kept here (verify would reject those).\n\n"
    "Examples:\n\n  suture audit key list\n\n  suture audit key list --json",
)
def key_list_command(
    key: Path | None = KEY_OPTION,
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one key each."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """List the audit keys."""
    from suture.audit import AuditLog
    from suture.audit.keyring import describe_keys

    with AuditLog.open(resolve_root(root), key=key) as log:
        infos = describe_keys(log)
    if as_json:
        for info in infos:
            typer.echo(json.dumps(info.to_json(), separators=(",", ":")))
        return
    if not infos:
        out_console.print("no audit key yet: suture creates one when it first signs the log")
        return
    table = Table(title="suture audit keys", title_justify="left")
    for col in ("key id", "role", "checkpoints", "at events", "since", "retired at", "file"):
        table.add_column(col, overflow="fold")
    for info in infos:
        span = f"{info.first_seq}..{info.last_seq}" if info.checkpoints else "-"
        role = info.role.value if info.role.value != "unknown" else "[red]unknown[/]"
        table.add_row(info.key_id, role, str(info.checkpoints), span,
                      str(info.introduced_at or "-"), str(info.retired_at or "-"),
                      escape(info.path or "(no public key here)"))
    out_console.print(table)
