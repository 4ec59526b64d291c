"""suture.yml: pydantic models, loading with line numbers, overrides and the JSON Schema."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from suture.deploy.settings import DeploySettings
from suture.errors import ConfigError
from suture.fix.settings import FixSettings
from suture.gates import GATES
from suture.gates.interface import GateConfig
from suture.heal.context import WhySettings
from suture.llm.settings import LLMSettings

CONFIG_NAME = "suture.yml"


class Settings(BaseModel):
    """The top level of suture.yml, apart from `gates`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(1, ge=1, le=1, description="Format version of this file; 1.")
    python: str | None = Field(
        None,
        description="Interpreter that runs the project's tests; default: the active virtualenv, "
        "else .venv/bin/python if present, else the Python running suture.",
    )
    timeout: float = Field(600.0, gt=0, description="Default per-gate timeout in seconds.")
    jobs: int | None = Field(
        None, ge=1, description="Gates run at once; default: the number of CPUs."
    )
    baseline: str = Field(
        ".suture/baseline.json",
        description="Baseline file of accepted findings (`suture baseline` writes it); commit a "
        "path outside .suture/ to share it.",
    )
    why: WhySettings = Field(default_factory=WhySettings,
                             description="How `suture why` diagnoses failures.")
    llm: LLMSettings = Field(default_factory=LLMSettings,
                             description="The LLM `suture why` may ask (offline by default).")
    fix: FixSettings = Field(default_factory=FixSettings,
                             description="How `suture fix` repairs failed gates.")
    deploy: DeploySettings = Field(default_factory=DeploySettings,
                                   description="How `suture deploy` ships releases.")
    gates: dict[str, Any] = Field(
        default_factory=dict,
        description="Gate name -> settings; the name is the gate kind unless `kind:` is set.",
    )


@dataclass(frozen=True)
class SutureConfig:
    """A validated suture.yml with every gate's settings typed by its own model."""

    settings: Settings
    gates: dict[str, GateConfig] = field(default_factory=dict)
    path: Path | None = None

    def digest(self) -> str:
        """A stable digest of the effective configuration, recorded with each run."""
        data = {
            "settings": self.settings.model_dump(mode="json", exclude={"gates"}),
            "gates": {n: g.model_dump(mode="json") for n, g in sorted(self.gates.items())},
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def kind_of(self, name: str) -> str:
        """The gate kind behind a configured gate name."""
        return self.gates[name].kind or name


def load(root: Path, path: Path | None = None) -> SutureConfig:
    """Read and validate suture.yml under `root` (or `path`); raise ConfigError with line:col."""
    path = path or root / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"{path}: no {CONFIG_NAME} found",
            hint="run `suture init` to write one for this project",
        )
    return parse(path.read_text(encoding="utf-8"), path, env=os.environ)


def parse(text: str, path: Path, env: Any = None) -> SutureConfig:
    """Validate suture.yml text; `env` supplies SUTURE_* overrides."""
    label = _display(path)
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise ConfigError(
            f"{where}: not valid YAML: {exc.problem or exc.context}",
            hint="fix the YAML syntax (indentation, quotes, colons)",
        ) from exc
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ConfigError(f"{label}:1:1: expected a mapping of settings at the top level")
    raw = _plain(doc)
    for key, value in _env_overrides(env or {}).items():
        raw[key] = value
    settings = _validate(Settings, raw, doc, (), label)
    gates: dict[str, GateConfig] = {}
    gates_node = doc.get("gates")
    for name, body in settings.gates.items():
        node = gates_node.get(name) if isinstance(gates_node, CommentedMap) else None
        body = {} if body is None else body
        where = _where(label, gates_node, name)
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: gate '{name}' must be a mapping of settings")
        kind = body.get("kind") or name
        if kind not in GATES:
            guess = _suggest(kind, GATES)
            raise ConfigError(
                f"{where}: unknown gate '{kind}'{guess}; known gates: {', '.join(GATES)}",
                hint="custom checks use `kind: command` with `run: <command>`",
            )
        gates[name] = _validate(GATES[kind].Config, body, node, (), label)
    _check_needs(gates, gates_node, label)
    return SutureConfig(settings=settings, gates=gates, path=path)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of suture.yml, with one sub-schema per gate kind."""
    schema = Settings.model_json_schema()
    defs = schema.setdefault("$defs", {})
    props: dict[str, Any] = {}
    for kind, gate in GATES.items():
        sub = gate.Config.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        sub["description"] = gate.description
        defs[f"gate_{kind}"] = sub
        props[kind] = {"anyOf": [{"$ref": f"#/$defs/gate_{kind}"}, {"type": "null"}]}
    custom = {"$ref": "#/$defs/gate_command"} if "command" in GATES else {"type": "object"}
    schema["properties"]["gates"] = {
        "type": "object",
        "description": Settings.model_fields["gates"].description,
        "properties": props,
        "additionalProperties": custom,
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "suture.yml"
    return schema


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _env_overrides(env: Any) -> dict[str, Any]:
    """SUTURE_PYTHON, SUTURE_TIMEOUT and SUTURE_JOBS override the file."""
    out: dict[str, Any] = {}
    for key in ("python", "timeout", "jobs"):
        value = env.get(f"SUTURE_{key.upper()}")
        if value:
            out[key] = value
    return out


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _validate(model: type[BaseModel], data: Any, node: Any, base: tuple, label: str) -> Any:
    """Validate with pydantic; turn its first error into a ConfigError at the YAML position."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = _locate(label, node, loc, want_key=err["type"] == "extra_forbidden")
        what = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            guess = _suggest(str(loc[-1]), allowed)
            raise ConfigError(
                f"{where}: unknown key '{loc[-1]}'{guess}",
                hint=f"expected one of: {', '.join(sorted(allowed))}",
            ) from exc
        raise ConfigError(
            f"{where}: {what}: {err['msg']} (got {err.get('input')!r})",
            hint=_expected(model, loc),
        ) from exc


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (nested) model a location points into."""
    current: Any = model
    for part in loc:
        fld = getattr(current, "model_fields", {}).get(part)
        if fld is None:
            break
        ann = fld.annotation
        current = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _expected(model: type[BaseModel], loc: tuple) -> str | None:
    if loc and isinstance(loc[0], str) and loc[0] in model.model_fields:
        fld = model.model_fields[loc[0]]
        return f"{loc[0]}: {fld.description}" if fld.description else None
    return None


def _locate(label: str, node: Any, loc: tuple, want_key: bool = False) -> str:
    """file:line:col of the YAML node a pydantic error location points at."""
    line, col = (node.lc.line, node.lc.col) if hasattr(node, "lc") else (0, 0)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            child = node[part]
            scalar = not isinstance(child, CommentedMap | CommentedSeq)
            at_value = scalar and last and not want_key
            line, col = node.lc.value(part) if at_value else node.lc.key(part)
            node = child
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return f"{label}:{line + 1}:{col + 1}"


def _where(label: str, node: Any, key: str) -> str:
    """file:line:col of a key in a mapping node, or the file's start when it isn't there."""
    if isinstance(node, CommentedMap) and key in node:
        line, col = node.lc.key(key)
        return f"{label}:{line + 1}:{col + 1}"
    return f"{label}:1:1"


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_needs(gates: dict[str, GateConfig], node: Any, label: str) -> None:
    for name, cfg in gates.items():
        for dep in cfg.needs:
            if dep not in gates:
                where = _where(label, node.get(name) if isinstance(node, CommentedMap) else None,
                               "needs")
                raise ConfigError(
                    f"{where}: gate '{name}' needs '{dep}', which is not a configured gate"
                    f"{_suggest(dep, gates)}",
                    hint=f"configured gates: {', '.join(gates)}",
                )
