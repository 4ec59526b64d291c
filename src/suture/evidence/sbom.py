"""CycloneDX SBOMs made by the real `cyclonedx-py` (cyclonedx-bom 4.x), stamped and stored per run.

`generate()` runs `cyclonedx-py environment <python>` (what is installed in the project's
interpreter) or `cyclonedx-py requirements <file>` (what a requirements file pins), `annotate()`
adds suture's run id and commit as `metadata.properties`, and `store()` writes
`.suture/evidence/<run_id>/sbom.cdx.json` and records `sbom.created` in the audit log.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suture import proc
from suture.audit import record
from suture.errors import ToolError, UsageError
from suture.evidence import evidence_dir
from suture.store import RunStore

TOOL = "cyclonedx-py"
PACKAGE = "cyclonedx-bom"
SPEC_VERSION = "1.6"
FILE_NAME = "sbom.cdx.json"
ACTION = "sbom.created"
DEFAULT_TIMEOUT_S = 300.0
# cyclonedx-py names each requirements component after the line it came from.
_LINE_REF = re.compile(r"^requirements-L(\d+)$")


@dataclass(frozen=True)
class Component:
    """One package the SBOM lists."""

    name: str
    version: str | None
    purl: str | None


@dataclass(frozen=True)
class Sbom:
    """A CycloneDX JSON document and the command that produced it."""

    document: Mapping[str, Any]
    source: str

    @property
    def components(self) -> tuple[Component, ...]:
        """The top-level components, in document order."""
        raw = self.document.get("components") or []
        return tuple(Component(str(c.get("name", "")), c.get("version"), c.get("purl"))
                     for c in raw if isinstance(c, dict))

    @property
    def spec_version(self) -> str:
        """The CycloneDX specification version the document follows."""
        return str(self.document.get("specVersion", ""))

    def to_text(self) -> str:
        """The document as stored: indented JSON with a trailing newline."""
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"

    def sha256(self) -> str:
        """SHA-256 of `to_text()`, the digest the audit log records."""
        return hashlib.sha256(self.to_text().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredSbom:
    """Where an SBOM was kept and the digest recorded for it."""

    path: Path
    sha256: str
    run_id: str
    components: int


def generate(*, python: str | None = None, requirements: Path | None = None,
             cwd: Path | None = None, tool: str | None = None,
             timeout: float = DEFAULT_TIMEOUT_S) -> Sbom:
    """The SBOM of `python`'s environment, or of `requirements` when given.

    `tool` is an explicit path to cyclonedx-py; by default it is looked up next to `python`,
    next to suture, then on PATH. Raises ToolError when the tool is missing or fails and
    UsageError when the requirements file is unreadable or has lines the tool skipped.
    """
    exe = tool or proc.require_tool(TOOL, python, package=PACKAGE)
    args: tuple[str, ...] = ("--sv", SPEC_VERSION, "--of", "JSON", "-o", "-")
    lines: list[tuple[int, str]] = []
    if requirements is not None:
        lines = requirement_lines(requirements)
        cmd = (exe, "requirements", *args, str(requirements))
    else:
        cmd = (exe, "environment", *args, python or "python3")
    res = proc.run(cmd, cwd=cwd, timeout=timeout)
    if res.returncode != 0:
        raise ToolError(f"{TOOL} could not make the SBOM (exit {res.returncode}): "
                        f"{_last_line(res.stderr)}", hint=res.describe())
    try:
        document = json.loads(res.stdout)
    except ValueError as exc:
        raise ToolError(f"{TOOL} printed something that is not JSON: {exc}",
                        hint=res.describe()) from exc
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise ToolError(f"{TOOL} did not print a CycloneDX document", hint=res.describe())
    if requirements is not None:
        _check_all_lines_used(requirements, lines, document)
    return Sbom(document, " ".join(cmd[1:]))


def annotate(sbom: Sbom, *, run_id: str, commit: str | None, suture_version: str) -> Sbom:
    """A copy with suture's run id, commit and version in `metadata.properties`."""
    document = json.loads(json.dumps(sbom.document))
    metadata = document.setdefault("metadata", {})
    props = [p for p in metadata.get("properties", []) if not str(p.get("name", ""))
             .startswith("suture:")]
    props += [{"name": "suture:run_id", "value": run_id},
              {"name": "suture:version", "value": suture_version}]
    if commit:
        props.append({"name": "suture:commit", "value": commit})
    metadata["properties"] = props
    return Sbom(document, sbom.source)


def store(root: Path, run_store: RunStore, sbom: Sbom, run_id: str) -> StoredSbom:
    """Write the SBOM under `.suture/evidence/<run_id>/` and record `sbom.created`."""
    path = evidence_dir(root, run_id) / FILE_NAME
    text = sbom.to_text()
    path.write_text(text, encoding="utf-8")
    digest = sbom.sha256()
    record(run_store, ACTION, subject=run_id, root=root, payload={
        "path": path.relative_to(root).as_posix(), "sha256": digest,
        "spec_version": sbom.spec_version, "components": len(sbom.components),
        "source": sbom.source,
    })
    return StoredSbom(path, digest, run_id, len(sbom.components))


def requirement_lines(path: Path) -> list[tuple[int, str]]:
    """(first line number, text) of each requirement in the file, continuations joined."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the requirements file {path}: {exc}",
                         hint="give a readable pip requirements file with --from") from exc
    out: list[tuple[int, str]] = []
    start, buf = 0, ""
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        if raw.endswith("\\"):
            buf += raw[:-1] + " "
            continue
        logical = re.sub(r"(^|\s)#.*$", "", buf + raw).strip()
        buf = ""
        # Options (-r, -c, --index-url, ...) are not requirements; editable installs are.
        if logical and (not logical.startswith("-") or logical.startswith(("-e", "--editable"))):
            out.append((start, logical))
    return out


def _check_all_lines_used(path: Path, lines: list[tuple[int, str]],
                          document: Mapping[str, Any]) -> None:
    """cyclonedx-py silently drops lines it cannot parse; an SBOM missing them would lie."""
    used = set()
    for comp in document.get("components") or []:
        match = _LINE_REF.match(str(comp.get("bom-ref", "")))
        if match:
            used.add(int(match.group(1)))
    skipped = [(n, line) for n, line in lines if n not in used]
    if skipped:
        listed = "; ".join(f"line {n}: {line!r}" for n, line in skipped[:5])
        raise UsageError(
            f"{path}: {len(skipped)} requirement line(s) are not valid requirements and would be "
            f"missing from the SBOM ({listed})",
            hint="fix them so that `pip install -r` accepts the file (name[extras] "
            "specifier, URL, path or -e ...)",
        )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"
