"""`suture init`: detect what a project has and write a suture.yml (and a CI workflow) for it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from suture.config import CONFIG_NAME, parse
from suture.errors import UsageError
from suture.gates import files

WORKFLOW_PATH = ".github/workflows/suture.yml"
_LOCKS = ("poetry.lock", "uv.lock", "Pipfile.lock", "pylock.toml")


@dataclass(frozen=True)
class Detected:
    """What `suture init` found in a repository."""

    python: bool = False
    tests: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    dependency_files: tuple[str, ...] = ()
    terraform: tuple[str, ...] = ()
    dockerfiles: tuple[str, ...] = ()
    kubernetes: tuple[str, ...] = ()
    fhir: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def iac(self) -> bool:
        """True when there is infrastructure code for checkov."""
        return bool(self.terraform or self.dockerfiles or self.kubernetes)


def detect(root: Path) -> Detected:
    """Look at the repository's files (git-aware) and report what applies."""
    rels = [str(p.relative_to(root)) for p in files.select(root)]
    py = [r for r in rels if r.endswith(".py")]
    tests = sorted({r.split("/")[0] for r in rels
                    if r.split("/")[0] in ("tests", "test") and r.endswith(".py")})
    tops = sorted({r.split("/")[0] for r in py if "/" in r} - set(tests) - {"docs", "examples",
                                                                               "bench", "scripts"})
    sources = ("src",) if "src" in tops else tuple(tops)
    deps = tuple(r for r in rels if r.count("/") <= 1 and (
        (r.rsplit("/", 1)[-1].startswith("requirements") and r.endswith(".txt"))
        or r.rsplit("/", 1)[-1] in ("pyproject.toml", *_LOCKS)))
    dockerfiles = tuple(r for r in rels if r.rsplit("/", 1)[-1].startswith("Dockerfile")
                        or r.endswith(".dockerfile"))
    yaml_docs = [r for r in rels if r.endswith((".yml", ".yaml"))]
    kube = tuple(r for r in yaml_docs if _looks_like_kubernetes(root / r))
    fhir = tuple(r for r in rels if r.endswith(".json") and _looks_like_fhir(root / r))
    return Detected(
        python=bool(py) or bool(deps), tests=tuple(tests), sources=sources,
        dependency_files=deps, terraform=tuple(r for r in rels if r.endswith(".tf")),
        dockerfiles=dockerfiles, kubernetes=kube, fhir=fhir,
    )


def _looks_like_kubernetes(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20_000]
    except OSError:
        return False
    return "apiVersion:" in head and "\nkind:" in f"\n{head}"


def _looks_like_fhir(path: Path) -> bool:
    try:
        if path.stat().st_size > 5_000_000:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("resourceType"), str)


def render_config(found: Detected) -> str:
    """A commented suture.yml enabling the gates that apply."""
    out = ["# suture.yml: the gates suture runs on this repository.",
           "# Reference: `suture schema` prints the JSON Schema; README lists every setting.",
           "version: 1", "", "gates:"]
    if found.tests:
        out += ["  tests:", "    # pytest + coverage in the project's Python environment",
                f"    paths: [{', '.join(found.tests)}]"]
        if found.sources:
            out.append(f"    source: [{', '.join(found.sources)}]")
        out += ["    min_coverage: 95", "    ratchet: true"]
    elif found.python:
        out.append("  # tests: no tests/ folder found; add one and enable the tests gate")
    if found.python:
        out += ["  lint: {}", "  sast:"]
        if found.sources:
            out.append(f"    paths: [{', '.join(found.sources)}]")
        else:
            out.append("    paths: [.]")
        out += ["  secrets: {}"]
    else:
        out += ["  secrets: {}"]
    if found.dependency_files:
        out += ["  deps:",
                "    # Offline: point at a directory or zip of OSV records (or set "
                "SUTURE_ADVISORY_DB);",
                "    # without one the gate queries the OSV API.",
                "    # advisories: path/to/osv-db",
                f"    files: [{', '.join(found.dependency_files)}]"]
    if found.iac:
        frameworks = [n for n, present in (("terraform", found.terraform),
                                           ("dockerfile", found.dockerfiles),
                                           ("kubernetes", found.kubernetes)) if present]
        out += ["  iac:", f"    frameworks: [{', '.join(frameworks)}]"]
    if found.fhir:
        folders = sorted({str(Path(r).parent) for r in found.fhir})
        out += ["  fhir:", f"    paths: [{', '.join(folders[:10])}]",
                "    # The official HL7 FHIR R4 JSON Schema adds code and unknown-element checks:",
                "    # schema: path/to/fhir.schema.json"]
    return "\n".join(out) + "\n"


def render_workflow() -> str:
    """A GitHub Actions workflow: least permissions, actions pinned by commit SHA."""
    return WORKFLOW_TEMPLATE


WORKFLOW_TEMPLATE = """\
# Runs suture's gates on every push and pull request.
name: suture
on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  gates:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write  # upload SARIF to code scanning
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with:
          fetch-depth: 0  # history lets suture name the commit that broke a gate
          persist-credentials: false
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b  # v5.3.0
        with:
          python-version: "3.11"
      - name: Install the project and suture
        run: |
          python -m venv .venv
          .venv/bin/pip install "suture[gates]"
          if [ -f requirements-dev.txt ]; then .venv/bin/pip install -r requirements-dev.txt; \\
          elif [ -f requirements.txt ]; then .venv/bin/pip install -r requirements.txt; fi
          if [ -f pyproject.toml ]; then .venv/bin/pip install -e . || true; fi
      - name: suture run
        run: .venv/bin/suture run --format sarif -o suture.sarif
      - name: Reports
        if: always()
        run: |
          .venv/bin/suture runs show last --format junit -o suture-junit.xml
          .venv/bin/suture runs show last --format markdown >> "$GITHUB_STEP_SUMMARY"
      - name: Upload SARIF to code scanning
        if: always()
        uses: github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7  # v4.31.9
        with:
          sarif_file: suture.sarif
          category: suture
      - name: Publish JUnit results
        if: always()
        uses: actions/upload-artifact@b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882  # v4.4.3
        with:
          name: suture-junit
          path: suture-junit.xml
"""


@dataclass(frozen=True)
class Written:
    """Files `suture init` wrote."""

    paths: tuple[Path, ...]
    detected: Detected


def init(root: Path, *, github: bool = False, force: bool = False) -> Written:
    """Write suture.yml (and with `github` the workflow); refuses to overwrite without `force`."""
    targets = [root / CONFIG_NAME] + ([root / WORKFLOW_PATH] if github else [])
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise UsageError(f"{names} already exists; not overwriting",
                         hint="pass --force to replace it")
    found = detect(root)
    text = render_config(found)
    parse(text, root / CONFIG_NAME, env={})  # never write a file suture itself would reject
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    if github:
        wf = root / WORKFLOW_PATH
        wf.parent.mkdir(parents=True, exist_ok=True)
        wf.write_text(render_workflow(), encoding="utf-8")
    return Written(paths=tuple(targets), detected=found)
