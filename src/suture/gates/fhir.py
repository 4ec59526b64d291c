"""The `fhir` gate: FHIR R4 JSON resources and Bundles, checked with fhir.resources and the HL7
JSON Schema, in the repository's files and (optionally) from the running app's endpoints.

Rules: fhir/structure (the R4B models reject it), fhir/schema (the JSON Schema does: codes of
required bindings, unknown elements, formats), fhir/unknown-resource, fhir/invalid-json,
fhir/endpoint-unreachable and fhir/endpoint-status; every finding is an error.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import version as _dist_version
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from suture.gates import files
from suture.gates.fhir_schema import FhirSchema, Issue, Pointer, show
from suture.gates.fhir_schema import load as load_schema
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

# Every resource type of FHIR R4 (4.0.1), as listed by the specification's resource list.
R4_TYPES = frozenset({
    "Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment",
    "AppointmentResponse", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct",
    "BodyStructure", "Bundle", "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry",
    "ChargeItem", "ChargeItemDefinition", "Claim", "ClaimResponse", "ClinicalImpression",
    "CodeSystem", "Communication", "CommunicationRequest", "CompartmentDefinition", "Composition",
    "ConceptMap", "Condition", "Consent", "Contract", "Coverage", "CoverageEligibilityRequest",
    "CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceDefinition", "DeviceMetric",
    "DeviceRequest", "DeviceUseStatement", "DiagnosticReport", "DocumentManifest",
    "DocumentReference", "EffectEvidenceSynthesis", "Encounter", "Endpoint", "EnrollmentRequest",
    "EnrollmentResponse", "EpisodeOfCare", "EventDefinition", "Evidence", "EvidenceVariable",
    "ExampleScenario", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal",
    "GraphDefinition", "Group", "GuidanceResponse", "HealthcareService", "ImagingStudy",
    "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide",
    "InsurancePlan", "Invoice", "Library", "Linkage", "List", "Location", "Measure",
    "MeasureReport", "Media", "Medication", "MedicationAdministration", "MedicationDispense",
    "MedicationKnowledge", "MedicationRequest", "MedicationStatement", "MedicinalProduct",
    "MedicinalProductAuthorization", "MedicinalProductContraindication",
    "MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction",
    "MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect", "MessageDefinition", "MessageHeader",
    "MolecularSequence", "NamingSystem", "NutritionOrder", "Observation", "ObservationDefinition",
    "OperationDefinition", "OperationOutcome", "Organization", "OrganizationAffiliation",
    "Parameters", "Patient", "PaymentNotice", "PaymentReconciliation", "Person", "PlanDefinition",
    "Practitioner", "PractitionerRole", "Procedure", "Provenance", "Questionnaire",
    "QuestionnaireResponse", "RelatedPerson", "RequestGroup", "ResearchDefinition",
    "ResearchElementDefinition", "ResearchStudy", "ResearchSubject", "RiskAssessment",
    "RiskEvidenceSynthesis", "Schedule", "SearchParameter", "ServiceRequest", "Slot", "Specimen",
    "SpecimenDefinition", "StructureDefinition", "StructureMap", "Subscription", "Substance",
    "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein",
    "SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification",
    "SupplyDelivery", "SupplyRequest", "Task", "TerminologyCapabilities", "TestReport",
    "TestScript", "ValueSet", "VerificationResult", "VisionPrescription",
})  # fmt: skip
# R4 types that R4B removed (no model in fhir.resources.R4B) or rebuilt (Evidence*): the R4B
# models would reject valid R4 content, so under R4 only the JSON Schema checks them.
R4_SCHEMA_ONLY = frozenset({
    "EffectEvidenceSynthesis", "Evidence", "EvidenceVariable", "MedicinalProduct",
    "MedicinalProductAuthorization", "MedicinalProductContraindication",
    "MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction",
    "MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect", "RiskEvidenceSynthesis", "SubstanceNucleicAcid",
    "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
    "SubstanceSourceMaterial", "SubstanceSpecification",
})  # fmt: skip
R4B_ADDED = frozenset({
    "AdministrableProductDefinition", "Citation", "ClinicalUseDefinition", "EvidenceReport",
    "Ingredient", "ManufacturedItemDefinition", "MedicinalProductDefinition", "NutritionProduct",
    "PackagedProductDefinition", "RegulatedAuthorization", "SubscriptionStatus",
    "SubscriptionTopic", "SubstanceDefinition",
})  # fmt: skip
_R4_REMOVED = R4_SCHEMA_ONLY - {"Evidence", "EvidenceVariable"}

# Elements that hold whole resources: DomainResource.contained, Bundle.entry.resource,
# Bundle.entry.response.outcome, Parameters.parameter.resource.
_NESTED = frozenset({"contained", "outcome", "resource"})
# Stands in for a nested resource while its parent is checked; the nested one is checked alone.
_PLACEHOLDER = {"resourceType": "Basic", "code": {"text": "checked separately"}}
_ENDPOINT_TIMEOUT_S = 10.0
_CHOICE = re.compile(
    r"(?:Any of one field value is expected from this list|"
    r"Expect any of field value from this list) \[([^\]]*)\]"
)
_SPEC_REGEX = re.compile(r"(\w+) value string does not match spec regex")
_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"[^,\]}\s]+")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

_HINTS = {
    "unknown": "remove the element or carry the data in an extension; check its spelling "
    "against the definition",
    "missing": "add the element: FHIR requires it here",
    "code": "use one of the listed codes: the element has a required binding",
    "type": "use the JSON type the FHIR data type prescribes",
    "format": "write the value in the FHIR data type's format (e.g. dates as YYYY-MM-DD)",
    "choice": "keep exactly one of the [x] choice elements",
}


class FhirVersion(StrEnum):
    """FHIR versions the gate checks against."""

    R4 = "R4"
    R4B = "R4B"


class FhirConfig(GateConfig):
    """Settings of the `fhir` gate."""

    # `schema` would shadow pydantic's BaseModel.schema; Python code may say schema_path.
    model_config = ConfigDict(populate_by_name=True)

    paths: list[str] = Field(
        default_factory=lambda: ["."],
        description="Folders, files or globs (repo-relative) searched for FHIR JSON files.",
    )
    schema_path: str | None = Field(
        None,
        alias="schema",
        description="Path to the HL7 FHIR JSON Schema (fhir.schema.json) for required codes and "
        "unknown elements; relative to the repository. Never downloaded.",
    )
    version: FhirVersion = Field(FhirVersion.R4, description="FHIR version: R4 or R4B.")
    endpoints: list[str] = Field(
        default_factory=list,
        description="URLs of the running app whose FHIR JSON responses are checked too (GET); "
        "an unreachable endpoint is an error finding.",
    )

    @field_validator("endpoints")
    @classmethod
    def _http_only(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"endpoint {url!r} must be an http:// or https:// URL")
        return urls


@dataclass(frozen=True)
class Problem:
    """One issue with the rule that reports it and the resource type it is in."""

    rule: str
    issue: Issue
    owner: str


class FhirGate(Gate):
    """Checks FHIR JSON (files and live endpoints) with fhir.resources and the HL7 JSON Schema."""

    kind = "fhir"
    description = "fhir.resources + HL7 JSON Schema: FHIR R4 resources and Bundles"
    Config = FhirConfig
    config: FhirConfig

    @property
    def cacheable(self) -> bool:  # type: ignore[override]
        """Live endpoints answer differently from run to run; files alone are cacheable."""
        return not self.config.endpoints

    def tool_version(self, ctx: GateContext) -> str:
        """fhir.resources' version, and jsonschema's when a schema is configured."""
        text = f"fhir.resources {_dist_version('fhir.resources')}"
        if self.config.schema_path:
            text += f", jsonschema {_dist_version('jsonschema')}"
        return text

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Every JSON file under `paths` (any of them may be, or become, a FHIR resource)."""
        return self._candidates(ctx.root)

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The schema file (it may live outside the repository) and the FHIR version."""
        path = self._schema_file(ctx.root)
        stamp = ""
        if path is not None and path.is_file():
            st = path.stat()
            stamp = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
        return f"{self.config.version}|{stamp or path}"

    def run(self, ctx: GateContext) -> GateReport:
        """Check every FHIR JSON file under `paths`, then every configured endpoint."""
        checker = Checker(self.config.version, self._schema(ctx.root))
        findings: list[Finding] = []
        n_files = 0
        for path in self._candidates(ctx.root):
            rel = path.relative_to(ctx.root).as_posix()
            found = checker.check_file(path, rel)
            if found is not None:
                n_files += 1
                findings += found
        bad_endpoints = 0
        for url in self.config.endpoints:
            found = checker.check_endpoint(url, self._endpoint_timeout(ctx))
            bad_endpoints += bool(found)
            findings += found
        findings.sort(key=lambda f: (f.path or "", f.line or 0, f.column or 0, f.message))
        return GateReport(
            findings=tuple(findings),
            summary=_summary(findings, n_files, len(self.config.endpoints), bad_endpoints),
            metrics={
                "fhir_files": float(n_files),
                "resources": float(checker.resources),
                "endpoints": float(len(self.config.endpoints)),
                "problems": float(len(findings)),
            },
            log=checker.log(),
        )

    def _endpoint_timeout(self, ctx: GateContext) -> float:
        return min(_ENDPOINT_TIMEOUT_S, self.config.timeout or ctx.timeout)

    def _schema_file(self, root: Path) -> Path | None:
        if not self.config.schema_path:
            return None
        return root / Path(self.config.schema_path).expanduser()

    def _schema(self, root: Path) -> FhirSchema | None:
        path = self._schema_file(root)
        if path is None:
            return None
        return load_schema(path)

    def _candidates(self, root: Path) -> list[Path]:
        picked = []
        for rel in files.repo_files(root):
            if (
                rel.endswith(".json")
                and _wanted(rel, self.config.paths)
                and not files.is_excluded(rel, self.config.exclude)
            ):
                picked.append(root / rel)
        return picked


def _wanted(rel: str, paths: Sequence[str]) -> bool:
    """True when a repo-relative file is under one of `paths` (folders, files or globs)."""
    for entry in paths:
        entry = entry.strip().removeprefix("./").rstrip("/")
        if entry in ("", "."):
            return True
        if any(c in entry for c in "*?["):
            if fnmatch.fnmatch(rel, entry) or fnmatch.fnmatch(rel, f"{entry}/*"):
                return True
        elif rel == entry or rel.startswith(f"{entry}/"):
            return True
    return False


def meant_as_fhir(rel: str) -> bool:
    """A `.fhir.json` file, or one in a folder named fhir: broken JSON there is a finding."""
    parts = PurePosixPath(rel.lower()).parts
    return rel.lower().endswith(".fhir.json") or "fhir" in parts[:-1]


class Checker:
    """Validates FHIR documents for one gate run; keeps counts and notes for the log."""

    def __init__(self, version: FhirVersion, schema: FhirSchema | None) -> None:
        self.version = version
        self.schema = schema
        self.resources = 0
        self.unchecked: set[str] = set()
        self.notes: list[str] = []
        if version is FhirVersion.R4:
            self.types = R4_TYPES
            self.schema_only = R4_SCHEMA_ONLY
        else:
            self.types = (R4_TYPES - _R4_REMOVED) | R4B_ADDED
            self.schema_only = frozenset()

    def log(self) -> str:
        """What was checked with what, for the stage log."""
        lines = [f"FHIR {self.version}: structure by fhir.resources.R4B models"]
        if self.schema is not None:
            lines.append(f"JSON Schema: {self.schema.source}")
        else:
            lines.append("JSON Schema: not configured (codes and unknown elements less strict)")
        if self.unchecked:
            names = ", ".join(sorted(self.unchecked))
            how = "schema only" if self.schema is not None else "NOT checked: set `schema:`"
            lines.append(f"R4 types the R4B models cannot check ({names}): {how}")
        return "\n".join(lines + self.notes)

    def check_file(self, path: Path, rel: str) -> list[Finding] | None:
        """Findings for one file, or None when it is not FHIR JSON (and not meant to be)."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.notes.append(f"{rel}: unreadable ({exc})")
            return None
        meant = meant_as_fhir(rel)
        if b"resourceType" not in raw and not meant:
            return None
        text = raw.decode("utf-8-sig", errors="replace")
        try:
            data = json.loads(text)
        except ValueError as exc:
            if not meant:
                return None
            return [_json_error(rel, exc)]
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            if not rel.lower().endswith(".fhir.json"):
                return None
            issue = Issue((), "not a FHIR resource: the top level needs a resourceType", "missing")
            return [self._finding(Problem("fhir/structure", issue, "Resource"), {}, rel, None)]
        problems = self.check(data)
        if not problems:
            return []
        where = Locator(text)
        return [self._finding(p, data, rel, where) for p in problems]

    def check_endpoint(self, url: str, timeout: float) -> list[Finding]:
        """Findings for the FHIR JSON one GET of `url` returns; failing to get it is one too."""
        import httpx

        label = f"GET {url}"
        try:
            res = httpx.get(
                url,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                headers={"Accept": "application/fhir+json, application/json"},
                follow_redirects=True,
            )
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            return [_endpoint_finding("fhir/endpoint-unreachable", url, f"{label} failed: {why}")]
        if res.status_code >= 400:
            msg = f"{label} answered HTTP {res.status_code}"
            return [_endpoint_finding("fhir/endpoint-status", url, msg)]
        try:
            data = json.loads(res.text)
        except ValueError as exc:
            return [
                _endpoint_finding(
                    "fhir/invalid-json", url, f"{label}: response is not JSON ({exc})"
                )
            ]
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            msg = f"{label}: response is not a FHIR resource (no resourceType)"
            return [_endpoint_finding("fhir/structure", url, msg)]
        return [self._finding(p, data, None, None, f"{label}: ") for p in self.check(data)]

    def check(self, data: Mapping[str, Any]) -> list[Problem]:
        """Structure problems of every resource in `data`, then schema problems at new places."""
        problems: list[Problem] = []
        for pointer, resource in _resources(data, ()):
            self.resources += 1
            problems += self._structure(pointer, resource)
        if self.schema is not None:
            # One finding per place: the schema adds what the models let through.
            taken = {p.issue.pointer for p in problems}
            for issue in self.schema.issues(data):
                if issue.pointer not in taken and not _inside_unknown(issue.pointer, problems):
                    problems.append(Problem("fhir/schema", issue, _owner(data, issue.pointer)))
        return problems

    def _structure(self, at: Pointer, resource: Mapping[str, Any]) -> list[Problem]:
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            issue = Issue(
                (*at, "resourceType"), f"expected a resource type name, got {show(kind)}", "type"
            )
            return [Problem("fhir/structure", issue, "Resource")]
        if kind not in self.types:
            guess = difflib.get_close_matches(kind, sorted(self.types), n=1)
            msg = f"{show(kind)} is not a FHIR {self.version} resource type"
            msg += f" (did you mean {guess[0]}?)" if guess else ""
            issue = Issue((*at, "resourceType"), msg, "unknown-resource")
            return [Problem("fhir/unknown-resource", issue, kind)]
        if kind in self.schema_only:
            self.unchecked.add(kind)
            return []
        from fhir.resources.R4B import get_fhir_model_class
        from pydantic import ValidationError

        try:
            get_fhir_model_class(kind).model_validate(resource)
        except ValidationError as exc:
            return [
                Problem("fhir/structure", _pydantic_issue(at, err, resource), kind)
                for err in exc.errors()
            ]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # fhir.resources raising something else is its own bug; the file still fails.
            issue = Issue(at, f"fhir.resources could not check this {kind}: {exc!r}", "schema")
            return [Problem("fhir/structure", issue, kind)]
        return []

    def _finding(
        self,
        problem: Problem,
        data: Mapping[str, Any],
        rel: str | None,
        where: Locator | None,
        prefix: str = "",
    ) -> Finding:
        """A Finding for one problem; the fingerprint follows the FHIR path, not the line."""
        return _finding(problem, data, rel, where, prefix, self.version)


def _resources(value: Mapping[str, Any], at: Pointer) -> Iterator[tuple[Pointer, dict[str, Any]]]:
    """Each resource in a document (the document itself first) with its nested ones stubbed."""
    nested: list[tuple[Pointer, Mapping[str, Any]]] = []
    stubbed = _stub(value, at, nested, top=True)
    yield at, stubbed
    for where, child in nested:
        yield from _resources(child, where)


def _stub(value: Any, at: Pointer, nested: list[tuple[Pointer, Any]], top: bool = False) -> Any:
    """A copy of `value` with the resources nested in it replaced by a placeholder."""
    if isinstance(value, dict):
        if not top and "resourceType" in value and at and at[-1] in _NESTED:
            nested.append((at, value))
            return _PLACEHOLDER
        return {k: _stub(v, (*at, k), nested) for k, v in value.items()}
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict) and "resourceType" in item and at and at[-1] == "contained":
                nested.append(((*at, i), item))
                out.append(_PLACEHOLDER)
            else:
                out.append(_stub(item, (*at, i), nested))
        return out
    return value


def _pydantic_issue(at: Pointer, err: Mapping[str, Any], resource: Mapping[str, Any]) -> Issue:
    """A pydantic error of fhir.resources as a short message at a JSON location."""
    loc: Pointer = tuple(p for p in err.get("loc", ()) if isinstance(p, str | int))
    kind_ = str(err.get("type", ""))
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    value = err.get("input")
    where: Pointer = (*at, *loc)
    if kind_ == "extra_forbidden":
        return Issue(where, "unknown element", "unknown")
    if kind_.endswith("missing"):
        return Issue(where, "required element is missing", "missing")
    choice = _CHOICE.search(msg)
    if choice:
        names = re.findall(r"'(\w+)'", choice.group(1))
        stem = _choice_stem(names)
        here = _get(resource, loc) if isinstance(_get(resource, loc), dict) else {}
        used = [n for n in names if n in here]
        where = (*where, f"{stem}[x]")
        if "multiple" in msg:
            return Issue(
                where, f"only one of {stem}[x] is allowed, found {', '.join(used)}", "choice"
            )
        return Issue(where, f"one of {stem}[x] is required", "missing")
    spec = _SPEC_REGEX.search(msg)
    if spec:
        return Issue(where, f"{show(value)} is not a valid FHIR {_lower(spec.group(1))}", "format")
    if kind_ in ("model_type", "dict_type", "json_invalid", "model_validation_format"):
        return Issue(where, f"expected an object, got {show(value)}", "type")
    if msg.startswith("Input should be "):
        wanted = msg.removeprefix("Input should be ").replace("a valid ", "a ")
        return Issue(where, f"expected {wanted}, got {show(value)}", "type")
    if kind_ == "string_pattern_mismatch" and value == "":
        return Issue(where, "empty string: leave the element out instead", "format")
    if kind_ == "string_pattern_mismatch":
        return Issue(where, f"{show(value)} is not allowed here ({msg})", "format")
    return Issue(where, msg, "schema")


def _choice_stem(names: Sequence[str]) -> str:
    """`value` for valueString, valueQuantity, ...: the prefix before the type names."""
    if not names:
        return "value"
    stem = names[0]
    for n in names[1:]:
        while not n.startswith(stem):
            stem = stem[:-1]
    while stem and not all(len(n) > len(stem) and n[len(stem)].isupper() for n in names):
        stem = stem[:-1]
    return stem or "value"


def _lower(name: str) -> str:
    # DateTime -> dateTime, the FHIR spelling of primitive type names.
    return name[:1].lower() + name[1:]


def _get(value: Any, pointer: Pointer) -> Any:
    for part in pointer:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _owner(data: Mapping[str, Any], pointer: Pointer) -> str:
    """The type of the innermost resource that contains `pointer`."""
    owner = str(data.get("resourceType", "Resource"))
    value: Any = data
    for part in pointer:
        value = _get(value, (part,))
        if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
            owner = value["resourceType"]
    return owner


def _inside_unknown(pointer: Pointer, problems: Sequence[Problem]) -> bool:
    """True under a resource whose type is unknown: its schema errors add nothing."""
    for p in problems:
        if p.rule == "fhir/unknown-resource":
            base = p.issue.pointer[:-1]
            if pointer[: len(base)] == base:
                return True
    return False


def _fhir_path(data: Mapping[str, Any], pointer: Pointer) -> str:
    """A FHIRPath-like name: Bundle.entry[2].resource.name[0].family."""
    out = str(data.get("resourceType", "Resource"))
    for part in pointer:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _finding(
    problem: Problem,
    data: Mapping[str, Any],
    rel: str | None,
    where: Locator | None,
    prefix: str,
    version: FhirVersion,
) -> Finding:
    issue = problem.issue
    line = column = None
    if where is not None:
        line, column = where.find(issue.pointer)
    if problem.rule == "fhir/unknown-resource" and len(issue.pointer) == 1:
        text = f"resourceType {issue.message}"
    elif data:
        text = f"{_fhir_path(data, issue.pointer)}: {issue.message}"
    else:
        text = issue.message
    hint = _HINTS.get(issue.kind)
    if problem.rule == "fhir/unknown-resource":
        hint = "use a resource type this FHIR version defines, or set `version:` of the fhir gate"
    page = f"{problem.owner.lower()}.html"
    if problem.rule == "fhir/unknown-resource" or problem.owner == "Resource":
        page = "resourcelist.html"
    return Finding(
        rule_id=problem.rule,
        level=Level.ERROR,
        message=prefix + text,
        tool="fhir.resources" if problem.rule != "fhir/schema" else "jsonschema",
        path=rel,
        line=line,
        column=column,
        fingerprint=f"{prefix}{text}",
        fix_hint=hint,
        help_uri=f"https://hl7.org/fhir/{version}/{page}",
    )


def _json_error(rel: str, exc: ValueError) -> Finding:
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    reason = getattr(exc, "msg", str(exc))
    return Finding(
        rule_id="fhir/invalid-json",
        level=Level.ERROR,
        message=f"not valid JSON: {reason}",
        tool="json",
        path=rel,
        line=line,
        column=column,
        fingerprint=f"invalid-json:{reason}",
        fix_hint="fix the JSON syntax at the given line and column (a FHIR resource is one "
        "JSON object)",
    )


def _endpoint_finding(rule: str, url: str, message: str) -> Finding:
    hints = {
        "fhir/endpoint-unreachable": "start the app before this gate runs (e.g. a `command` "
        "gate it `needs`), or fix the URL under `endpoints:`",
        "fhir/endpoint-status": "the URL should answer 200 with a FHIR resource; fix the app "
        "or the URL under `endpoints:`",
        "fhir/invalid-json": "the endpoint should answer FHIR JSON (application/fhir+json)",
        "fhir/structure": "the endpoint should answer a FHIR resource (with resourceType)",
    }
    return Finding(
        rule_id=rule,
        level=Level.ERROR,
        message=message,
        tool="httpx",
        fingerprint=f"{rule}:{url}",
        fix_hint=hints.get(rule),
    )


def _summary(
    findings: Sequence[Finding], n_files: int, n_endpoints: int, bad_endpoints: int
) -> str:
    bad_files = len({f.path for f in findings if f.path})
    checked = f"{bad_files} of {n_files} FHIR file(s)" if findings else f"{n_files} FHIR file(s)"
    if n_endpoints:
        checked += (
            f" and {bad_endpoints} of {n_endpoints} endpoint(s)"
            if findings
            else (f" and {n_endpoints} endpoint(s)")
        )
    if not findings:
        return f"no FHIR problems in {checked}"
    return f"{len(findings)} FHIR problem(s) in {checked}"


class Locator:
    """Line and column of every JSON location in a document's text (parsed only when needed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._offsets: dict[Pointer, int] | None = None
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]

    def find(self, pointer: Pointer) -> tuple[int | None, int | None]:
        """(line, column), 1-based, of the member or item at `pointer`, else of its nearest parent.

        An object member is located at its key, an array item at its first character.
        """
        if self._offsets is None:
            self._offsets = {}
            # Positions found before a surprise are still right; the rest fall back to parents.
            with contextlib.suppress(IndexError, ValueError):
                _scan(self.text, 0, (), self._offsets)
        for n in range(len(pointer), -1, -1):
            offset = self._offsets.get(pointer[:n])
            if offset is not None:
                line = bisect.bisect_left(self._newlines, offset)
                start = self._newlines[line - 1] + 1 if line else 0
                return line + 1, offset - start + 1
        return None, None


def _scan(text: str, pos: int, at: Pointer, out: dict[Pointer, int]) -> int:
    """Record where each member and item of the JSON value at `pos` starts; return its end."""
    pos = _skip(text, pos)
    out.setdefault(at, pos)
    char = text[pos]
    if char == "{":
        pos = _skip(text, pos + 1)
        while text[pos] != "}":
            key_at = pos
            key, pos = _string(text, pos)
            out[(*at, key)] = key_at
            pos = _skip(text, pos) + 1  # the colon
            pos = _skip(text, _scan_value(text, pos, (*at, key), out))
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
        return pos + 1
    if char == "[":
        pos = _skip(text, pos + 1)
        index = 0
        while text[pos] != "]":
            out[(*at, index)] = pos
            pos = _skip(text, _scan_value(text, pos, (*at, index), out))
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
            index += 1
        return pos + 1
    if char == '"':
        return _string(text, pos)[1]
    match = _SCALAR.match(text, pos)
    if match is None:
        raise ValueError(f"unexpected {char!r} at {pos}")
    return match.end()


def _scan_value(text: str, pos: int, at: Pointer, out: dict[Pointer, int]) -> int:
    # A member's value: its location stays the key's, recorded by the caller.
    saved = out.get(at)
    end = _scan(text, pos, at, out)
    if saved is not None:
        out[at] = saved
    return end


def _string(text: str, pos: int) -> tuple[str, int]:
    """The JSON string starting at `pos`, decoded, and where it ends."""
    match = _STRING.match(text, pos)
    if match is None:
        raise ValueError(f"expected a string at {pos}")
    return str(json.loads(match.group())), match.end()


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos
