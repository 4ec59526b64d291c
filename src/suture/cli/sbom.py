"""`suture sbom` and `suture provenance`: release evidence stored per run and audited."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from suture import __version__, repo
from suture import config as config_mod
from suture.cli.common import ROOT_OPTION, err_console, out_console, pick_run, resolve_root
from suture.errors import UsageError
from suture.store import open_store

if TYPE_CHECKING:
    from suture.audit.keys import PublicKey

RUN_OPTION = typer.Option(None, "--run", "-r", help="Run id or prefix the evidence belongs to; "
                          "default: the last run.", show_default=False)


def register(app: typer.Typer) -> None:
    """Add the `sbom` and `provenance` commands."""
    app.command(
        "sbom",
        help="Make a CycloneDX SBOM (JSON, spec 1.6) with cyclonedx-py: of the packages "
        "installed in the project's Python (`python:` in suture.yml, the active virtualenv or "
        ".venv), or of a requirements file with --from. It is stamped with the run id and "
        "commit, stored as .suture/evidence/<run>/sbom.cdx.json and recorded in the audit log "
        "(sbom.created, with its SHA-256).\n\n"
        "Exit code: 0 made, 2 usage (no run yet, unreadable or invalid requirements file), "
        "3 cyclonedx-py missing or failing.\n\n"
        "Examples:\n\n  suture sbom\n\n  suture sbom -o sbom.cdx.json\n\n"
        "  suture sbom --from requirements.txt -o -   # JSON on stdout\n\n"
        "  suture sbom --run 3fa2c1",
    )(sbom_command)
    app.command(
        "provenance",
        help="Attest how artifacts were built: an in-toto Statement v1 with a SLSA v1 "
        "provenance predicate (repository, ref, commit, run id, config digest, times; each "
        "artifact's SHA-256), signed as a DSSE envelope with the audit Ed25519 key. Stored as "
        ".suture/evidence/<run>/provenance-<digest>.intoto.jsonl and recorded in the audit log "
        "(provenance.created). With --verify, check an envelope file against the public key.\n\n"
        "Exit code: 0 written or verified, 1 verification failed, 2 usage.\n\n"
        "Examples:\n\n  suture provenance dist/app-1.0.tar.gz dist/app-1.0-py3-none-any.whl\n\n"
        "  suture provenance dist/* -o app.intoto.jsonl\n\n"
        "  suture provenance --verify app.intoto.jsonl "
        "--public-key .suture/keys/audit_ed25519.pub",
    )(provenance_command)


def sbom_command(
    output: str | None = typer.Option(None, "--output", "-o", help="Also write the SBOM to "
                                      "this file; '-' prints the JSON to stdout.",
                                      show_default=False),
    run_id: str | None = RUN_OPTION,
    from_file: Path | None = typer.Option(None, "--from", help="Requirements file to describe "
                                          "instead of the installed environment.",
                                          show_default=False),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Make, store and audit a CycloneDX SBOM."""
    from suture.evidence import sbom

    top = resolve_root(root)
    store = open_store(top)
    run = pick_run(store, run_id)
    requirements = from_file.resolve() if from_file else None
    python = None if requirements else repo.project_python(
        top, config_mod.load(top).settings.python)
    with err_console.status("making the SBOM with cyclonedx-py"):
        doc = sbom.generate(python=python, requirements=requirements, cwd=top)
    doc = sbom.annotate(doc, run_id=run.run_id, commit=run.commit, suture_version=__version__)
    kept = sbom.store(top, store, doc, run.run_id)
    if output == "-":
        sys.stdout.write(doc.to_text())
        return
    if output:
        _write(Path(output), doc.to_text())
    console = err_console if output else out_console
    source = str(from_file) if from_file else python
    console.print(f"SBOM of {escape(str(source))}: {kept.components} components "
                  f"(CycloneDX {doc.spec_version}), run {run.run_id[:12]}")
    console.print(f"stored {escape(_shown(kept.path, top))} sha256 {kept.sha256}")
    if output:
        console.print(f"wrote {escape(output)}")


def provenance_command(
    artifacts: list[Path] | None = typer.Argument(None, help="Files to attest.",
                                                  show_default=False),
    output: str | None = typer.Option(None, "--output", "-o", help="Also write the envelope "
                                      "(.intoto.jsonl) here; '-' prints it.", show_default=False),
    run_id: str | None = RUN_OPTION,
    verify_file: Path | None = typer.Option(None, "--verify", help="Verify this .intoto.jsonl "
                                            "instead of making one.", show_default=False),
    public_key: Path | None = typer.Option(None, "--public-key", "-k", help="Public key to "
                                           "verify with (default: the audit key's .pub).",
                                           show_default=False),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Make (or verify) signed SLSA provenance for artifacts."""
    from suture.audit import audit_log
    from suture.audit.keys import load_public_key, public_path
    from suture.evidence import provenance

    top = resolve_root(root)
    if verify_file is not None:
        if public_key is not None:
            trusted = {"": load_public_key(public_key)}
        else:  # the audit key and every key it replaced: envelopes made before a rotation verify
            log = audit_log(top)
            trusted = log.trusted_keys() or {"": load_public_key(public_path(log.key_path))}
        _verify(verify_file, trusted)
        return
    if not artifacts:
        raise UsageError("name the artifact files to attest",
                         hint="suture provenance dist/app-1.0.tar.gz")
    store = open_store(top)
    run = pick_run(store, run_id)
    statement = provenance.build_statement(list(artifacts), provenance.build_info(top, run))
    envelope = provenance.sign(statement, audit_log(store, root=top).signing_key())
    path = provenance.store(top, store, envelope, run.run_id)
    if output == "-":
        sys.stdout.write(envelope.to_line() + "\n")
        return
    if output:
        _write(Path(output), envelope.to_line() + "\n")
    console = err_console if output else out_console
    for s in statement["subject"]:
        console.print(f"{escape(s['name'])}  sha256:{s['digest']['sha256']}")
    console.print(f"signed with key {envelope.signatures[0].keyid}, run {run.run_id[:12]}, "
                  f"commit {str(run.commit)[:12]}")
    console.print(f"stored {escape(_shown(path, top))}" + (f"; wrote {escape(output)}"
                                                            if output else ""))


def _verify(path: Path, trusted: dict[str, PublicKey]) -> None:
    from suture.evidence import provenance

    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not lines:
        raise UsageError(f"{path} holds no envelope")
    for n, line in enumerate(lines, 1):
        key = _key_for(line, trusted)
        try:
            statement = provenance.verify(line, key)
        except provenance.VerificationError as exc:
            raise provenance.VerificationError(f"{path}:{n}: {exc.message}", hint=exc.hint
                                               ) from exc
        names = ", ".join(f"{s['name']} sha256:{s['digest']['sha256'][:16]}"
                          for s in statement.get("subject", []))
        out_console.print(f"{escape(str(path))}:{n}: signature OK (key {key.key_id}): "
                          f"{escape(names)}")



def _key_for(line: str, trusted: dict[str, PublicKey]) -> PublicKey:
    """The trusted key named by one of the envelope's signatures, else the newest trusted one."""
    from suture.evidence import provenance

    try:
        ids = [s.keyid for s in provenance.Envelope.from_json(line).signatures]
    except (ValueError, KeyError, TypeError, provenance.VerificationError):
        ids = []
    for key_id in ids:
        if key_id in trusted:
            return trusted[key_id]
    return list(trusted.values())[-1]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


__all__ = ["register"]
