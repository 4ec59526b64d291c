"""The official HL7 FHIR JSON Schema: loaded once per process, errors turned into short issues."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suture.errors import ToolError

# jsonschema is imported when a schema is loaded: most runs configure none, and every suture
# command imports the gate modules.
if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

# A JSON location: object keys and array indexes from the document's root.
Pointer = tuple[str | int, ...]

# Our own keyword: the published schema says "any resource" with a oneOf over all 146 resource
# definitions, which is slow and reports "not valid under any of the given schemas". Dispatching
# on resourceType validates against the one definition that applies and keeps its errors.
_DISPATCH = "x-suture-resource"
_LOCAL = "#/definitions/"
_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "integer": "an integer",
    "null": "null",
}
# Which explanation wins when one place breaks several rules.
_RANK = {"unknown": 0, "missing": 0, "type": 1, "code": 2, "format": 3, "value": 3}
SCHEMA_HINT = (
    "set `schema:` of the fhir gate to the HL7 FHIR JSON Schema (fhir.schema.json from "
    "hl7.org/fhir/R4/fhir.schema.json.zip), saved next to the project or on the machine"
)


@dataclass(frozen=True)
class Issue:
    """One problem at one place in a FHIR document; `kind` names the check that found it."""

    pointer: Pointer
    message: str
    kind: str


def show(value: Any, limit: int = 60) -> str:
    """A short rendering of a JSON value for messages: 'text' for strings, JSON otherwise."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FhirSchema:
    """A FHIR JSON Schema ready to validate resources; build it with `load`."""

    def __init__(self, schema: dict[str, Any], source: Path) -> None:
        definitions = schema.get("definitions")
        mapping = (schema.get("discriminator") or {}).get("mapping")
        if not isinstance(definitions, dict) or not isinstance(mapping, dict):
            raise ToolError(
                f"{source} is not a FHIR JSON Schema (no resource definitions)", hint=SCHEMA_HINT
            )
        self.source = source
        self.resource_types = frozenset(mapping)
        # Shallow copies: the dispatch replaces only the two "any resource" places.
        definitions = {**definitions, "ResourceList": {_DISPATCH: True}}
        root = {k: v for k, v in schema.items() if k not in ("oneOf", "discriminator")}
        root |= {"definitions": definitions, _DISPATCH: True}
        self._definitions: dict[str, Any] = definitions
        # Primitive types carry their format as a pattern; naming the type reads better.
        self._primitive = {
            id(d): name for name, d in definitions.items() if isinstance(d, dict) and "pattern" in d
        }
        # Definitions that are only a type and a pattern (string, code, date, ...): most $refs
        # point at one, and checking them inline is several times faster than resolving them.
        self._simple = {
            name: (d.get("type"), re.compile(d["pattern"]) if "pattern" in d else None)
            for name, d in definitions.items()
            if isinstance(d, dict) and d and set(d) <= {"type", "pattern", "description"}
        }
        from jsonschema import ValidationError, validators

        self._error = ValidationError
        base = validators.validator_for(schema, default=validators.Draft6Validator)
        self._base_ref = base.VALIDATORS["$ref"]
        checker = validators.extend(base, {_DISPATCH: self._dispatch, "$ref": self._ref})
        self._validator: Validator = checker(root)

    def _ref(
        self, validator: Validator, ref: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        name = ref[len(_LOCAL) :] if isinstance(ref, str) and ref.startswith(_LOCAL) else None
        target = self._definitions.get(name) if name else None
        if target is None:
            yield from self._base_ref(validator, ref, instance, schema)
            return
        simple = self._simple.get(name or "")
        if simple is None:
            yield from validator.descend(instance, target)
            return
        error = self._error
        # The same checks, in the same order, with the same error fields as jsonschema's own.
        kind, pattern = simple
        if kind is not None and not any(
            validator.is_type(instance, k) for k in ([kind] if isinstance(kind, str) else kind)
        ):
            yield error(
                f"{instance!r} is not of type {kind!r}",
                validator="type",
                validator_value=kind,
                instance=instance,
                schema=target,
            )
        if pattern is not None and isinstance(instance, str) and not pattern.search(instance):
            yield error(
                f"{instance!r} does not match {pattern.pattern!r}",
                validator="pattern",
                validator_value=pattern.pattern,
                instance=instance,
                schema=target,
            )

    def _dispatch(
        self, validator: Validator, _value: Any, instance: Any, _schema: Any
    ) -> Iterator[ValidationError]:
        from jsonschema import ValidationError

        if not isinstance(instance, dict):
            yield ValidationError(f"expected a FHIR resource (an object), got {show(instance)}")
            return
        kind = instance.get("resourceType")
        # An unknown or missing resourceType is the structure check's finding, not ours.
        if isinstance(kind, str) and kind in self.resource_types:
            yield from validator.descend(instance, self._definitions[kind])

    def issues(self, resource: Mapping[str, Any]) -> list[Issue]:
        """Every schema violation in `resource` (nested resources included), one per location."""
        found: dict[Pointer, Issue] = {}
        for err in self._validator.iter_errors(resource):
            for issue in self._explain(err):
                seen = found.get(issue.pointer)
                # "expected true or false" says more than "not a valid FHIR boolean".
                if seen is None or _RANK.get(issue.kind, 9) < _RANK.get(seen.kind, 9):
                    found[issue.pointer] = issue
        return sorted(found.values(), key=lambda i: [str(p) for p in i.pointer])

    def _explain(self, err: ValidationError) -> list[Issue]:
        where: Pointer = tuple(err.absolute_path)
        inst = err.instance
        if err.validator == "additionalProperties" and isinstance(inst, dict):
            known = err.schema.get("properties") or {}
            return [
                Issue((*where, key), "unknown element", "unknown")
                for key in sorted(inst)
                if key not in known
            ]
        if err.validator == "required" and isinstance(inst, dict):
            wanted = err.validator_value if isinstance(err.validator_value, list) else []
            return [
                Issue((*where, key), "required element is missing", "missing")
                for key in wanted
                if key not in inst
            ]
        if err.validator == "enum":
            codes = ", ".join(str(c) for c in err.validator_value)
            return [Issue(where, f"{show(inst)} is not one of {codes}", "code")]
        if err.validator == "type":
            wanted = err.validator_value
            names = [wanted] if isinstance(wanted, str) else list(wanted)
            expected = " or ".join(_JSON_TYPES.get(n, n) for n in names)
            return [Issue(where, f"expected {expected}, got {show(inst)}", "type")]
        if err.validator == "pattern":
            name = self._primitive.get(id(err.schema))
            what = f"a valid FHIR {name}" if name else f"matching {err.validator_value}"
            return [Issue(where, f"{show(inst)} is not {what}", "format")]
        if err.validator == "const":
            return [Issue(where, f"must be {show(err.validator_value)}, got {show(inst)}", "value")]
        return [Issue(where, err.message, "schema")]


def load(path: Path) -> FhirSchema:
    """The schema at `path`, read and prepared once per process (and again if the file changes)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ToolError(f"FHIR JSON Schema not found: {path}", hint=SCHEMA_HINT) from exc
    return _load(path.resolve(), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4)
def _load(path: Path, _size: int, _mtime_ns: int) -> FhirSchema:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ToolError(
            f"cannot read the FHIR JSON Schema {path}: {exc}", hint=SCHEMA_HINT
        ) from exc
    if not isinstance(schema, dict):
        raise ToolError(f"{path} is not a FHIR JSON Schema (not an object)", hint=SCHEMA_HINT)
    return FhirSchema(schema, path)
