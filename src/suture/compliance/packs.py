"""Compliance packs: YAML files of controls, each mapped to evidence queries, validated on load.

A pack names controls; each control lists evidence (`query` + `params`) from the registry in
`evidence.py`, an optional `applies_if` query, or `manual: <reason>` when suture cannot evidence
it. Packs ship in this package (`shipped/*.yml`); a team adds its own in `.suture/packs/`, in a
folder given with --packs-dir or $SUTURE_COMPLIANCE_PACKS, or as a file with `--pack path.yml`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from suture.compliance.evidence import REGISTRY
from suture.errors import UsageError

BUILTIN_DIR = Path(__file__).parent / "shipped"
USER_DIR = Path(".suture") / "packs"
ENV_DIRS = "SUTURE_COMPLIANCE_PACKS"


class PackError(UsageError):
    """A pack file is unreadable or invalid; the message names the file, control and query."""


class Evidence(BaseModel):
    """One evidence query of a control and its params (validated against the query's model)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    query: str
    params: dict[str, Any] = Field(default_factory=dict)


class Control(BaseModel):
    """A control: what it requires, and the evidence that shows it (or why a person must)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    evidence: tuple[Evidence, ...] = ()
    applies_if: Evidence | None = None
    manual: str | None = Field(None, description="Why suture cannot evidence this control.")

    @model_validator(mode="after")
    def _has_evidence(self) -> Control:
        if not self.evidence and not self.manual:
            raise ValueError("needs `evidence` queries or a `manual:` reason")
        return self


class Pack(BaseModel):
    """A compliance pack: id, title, version and its controls."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    controls: tuple[Control, ...] = Field(min_length=1)
    source: str = Field("", exclude=True)


def load_pack(path: Path) -> Pack:
    """Read and validate the pack at `path`; every problem is a PackError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"cannot read compliance pack {path}: {exc}",
                        hint="a pack is a YAML mapping with id, title, version, controls") from exc
    if not isinstance(data, dict):
        raise PackError(f"compliance pack {path} is not a YAML mapping",
                        hint="a pack is a YAML mapping with id, title, version, controls")
    if isinstance(data.get("version"), int | float):
        data["version"] = str(data["version"])
    try:
        pack = Pack.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(data, err["loc"])
        raise PackError(f"compliance pack {path}{where}: {err['msg']}",
                        hint="fields: id, title, version, controls: [{id, title, description, "
                        "evidence: [{query, params}], applies_if, manual}]") from exc
    ids = [c.id for c in pack.controls]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PackError(f"compliance pack {path}: control id {dupes[0]!r} is used twice")
    for control in pack.controls:
        refs = [*control.evidence, *([control.applies_if] if control.applies_if else [])]
        for ref in refs:
            check_evidence(ref, path, control.id)
    return pack


def check_evidence(ref: Evidence, path: Path, control: str) -> None:
    """An unknown query name or params it does not take is a PackError naming all three."""
    query = REGISTRY.get(ref.query)
    if query is None:
        raise PackError(f"compliance pack {path}, control {control}: unknown evidence query "
                        f"{ref.query!r}", hint="known queries: " + ", ".join(sorted(REGISTRY)))
    try:
        query.params.model_validate(ref.params)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "params"
        raise PackError(f"compliance pack {path}, control {control}, query {ref.query}: "
                        f"bad params ({field}: {err['msg']})",
                        hint=f"{ref.query} takes {', '.join(query.params.model_fields) or 'none'}"
                        ) from exc


def _where(data: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """`, control X` when the error is inside a control, else the field path."""
    if len(loc) >= 2 and loc[0] == "controls" and isinstance(loc[1], int):
        controls = data.get("controls")
        cid: object = loc[1]
        if isinstance(controls, list) and loc[1] < len(controls) and isinstance(
                controls[loc[1]], dict):
            cid = controls[loc[1]].get("id", loc[1])
        rest = ".".join(str(p) for p in loc[2:])
        return f", control {cid}" + (f" ({rest})" if rest else "")
    return f" ({'.'.join(str(p) for p in loc)})" if loc else ""


def pack_dirs(root: Path, extra: list[Path] | None = None) -> list[Path]:
    """Where packs are found, later folders overriding earlier ones: shipped, env, repo, extra."""
    env = [Path(p) for p in os.environ.get(ENV_DIRS, "").split(os.pathsep) if p]
    return [BUILTIN_DIR, *env, root / USER_DIR, *(extra or [])]


def available(root: Path, extra: list[Path] | None = None) -> dict[str, Path]:
    """Pack id (file stem) -> file for every pack found; a later folder wins on a clash."""
    found: dict[str, Path] = {}
    for folder in pack_dirs(root, extra):
        if folder.is_dir():
            for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
                found[path.stem] = path
    return found


def resolve(ref: str, root: Path, extra: list[Path] | None = None) -> Pack:
    """The pack `ref` names: a file path (ends in .yml/.yaml or exists), else a pack id."""
    path = Path(ref)
    if path.suffix in (".yml", ".yaml") or path.is_file():
        if not path.is_file():
            raise PackError(f"compliance pack file {path} does not exist")
        return load_pack(path)
    packs = available(root, extra)
    if ref not in packs:
        raise PackError(f"no compliance pack {ref!r}",
                        hint="`suture compliance packs` lists them: " + ", ".join(sorted(packs)))
    return load_pack(packs[ref])
