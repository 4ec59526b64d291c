"""`suture init`: write a suture.yml (and optionally a GitHub workflow) for this project."""

from __future__ import annotations

from pathlib import Path

import typer

from suture import scaffold
from suture.cli.common import ROOT_OPTION, out_console, resolve_root


def register(app: typer.Typer) -> None:
    """Add the `init` command."""
    app.command(
        "init",
        help="Detect the project (Python packaging, tests, Terraform, Dockerfiles, Kubernetes "
        "manifests, FHIR JSON) and write a suture.yml enabling the gates that apply.\n\n"
        "Examples:\n\n  suture init\n\n  suture init --github   # also "
        ".github/workflows/suture.yml",
    )(init_command)


def init_command(
    github: bool = typer.Option(False, "--github", help="Also write a GitHub Actions workflow."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Write suture.yml for this repository."""
    top = resolve_root(root)
    written = scaffold.init(top, github=github, force=force)
    d = written.detected
    found = [
        f"tests in {', '.join(d.tests)}" if d.tests else "",
        f"{len(d.dependency_files)} dependency file(s)" if d.dependency_files else "",
        f"{len(d.terraform)} Terraform file(s)" if d.terraform else "",
        f"{len(d.dockerfiles)} Dockerfile(s)" if d.dockerfiles else "",
        f"{len(d.kubernetes)} Kubernetes manifest(s)" if d.kubernetes else "",
        f"{len(d.fhir)} FHIR JSON file(s)" if d.fhir else "",
    ]
    out_console.print("detected: " + (", ".join(f for f in found if f) or "no known project files"))
    for path in written.paths:
        out_console.print(f"wrote {path.relative_to(top)}")
    out_console.print("next: suture run")
