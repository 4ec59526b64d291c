"""A compliance report as an OSCAL 1.1.2 assessment-results document (JSON).

One result covers the report's period: reviewed-controls names every control of the pack, each
control gets a finding (target `<token>_obj`, state satisfied / not-satisfied) backed by one
observation per evidence query, and the audit-chain check is an observation of its own. OSCAL
requires `import-ap`; suture has no separate assessment plan, so it points at a back-matter
resource describing the pack, whose controls and queries are the plan. Every UUID is a uuid5 of
the pack, the period and the subject, so one report always renders to the same bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field

from suture.compliance.evidence import Status
from suture.compliance.report import ControlResult, EvidenceResult, Report

OSCAL_VERSION = "1.1.2"
# Namespace of suture's own props; `.invalid` (RFC 2606) never resolves: it names, locates nothing.
SUTURE_NS = "https://suture.invalid/ns/oscal"
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, SUTURE_NS)
# Queries that read the results of gates suture ran (tests, scanners) vs. ones that examine records.
_TEST_QUERIES = frozenset({
    "gate_passed_in_every_run", "gate_ran", "no_open_findings", "deps_no_known_vulnerabilities",
    "fhir_gate_passes", "phi_gate_enabled", "coverage_at_least",
})
# OSCAL knows only satisfied / not-satisfied: n/a, manual and error are never `satisfied`.
_STATE = {
    Status.SATISFIED: ("satisfied", "pass"),
    Status.NOT_SATISFIED: ("not-satisfied", "fail"),
    Status.ERROR: ("not-satisfied", "other"),
    Status.NOT_APPLICABLE: ("not-satisfied", "other"),
    Status.MANUAL: ("not-satisfied", "other"),
}
_NIST_ID = re.compile(r"^([a-z]{2})-0*(\d+)(?:\s*\(0*(\d+)\)|\.0*(\d+))?$")
_NOT_TOKEN = re.compile(r"[^a-z0-9._-]+")


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=AliasGenerator(
        serialization_alias=lambda name: name.replace("_", "-")))


class Prop(_M):
    """An OSCAL property (a name/value pair, optionally in suture's namespace)."""

    name: str
    value: str
    ns: str | None = None
    class_: str | None = Field(None, serialization_alias="class")


class Role(_M):
    """A metadata role."""

    id: str
    title: str
    description: str | None = None


class Party(_M):
    """A metadata party."""

    uuid: str
    type: str
    name: str
    short_name: str | None = None
    remarks: str | None = None


class ResponsibleParty(_M):
    """Which parties perform a role."""

    role_id: str
    party_uuids: tuple[str, ...]


class Metadata(_M):
    """Document metadata."""

    title: str
    last_modified: str
    version: str
    oscal_version: str
    props: tuple[Prop, ...] | None = None
    roles: tuple[Role, ...] | None = None
    parties: tuple[Party, ...] | None = None
    responsible_parties: tuple[ResponsibleParty, ...] | None = None


class ImportAp(_M):
    """The (required) reference to the assessment plan."""

    href: str
    remarks: str | None = None


class SelectControl(_M):
    """One control of a control selection."""

    control_id: str


class ControlSelection(_M):
    """The controls assessed."""

    description: str | None = None
    include_controls: tuple[SelectControl, ...]


class ReviewedControls(_M):
    """The result's reviewed controls."""

    description: str | None = None
    control_selections: tuple[ControlSelection, ...]


class ComponentStatus(_M):
    """A component's operational state."""

    state: str


class Component(_M):
    """An assessment asset component (here: suture itself, the tool)."""

    uuid: str
    type: str
    title: str
    description: str
    status: ComponentStatus
    props: tuple[Prop, ...] | None = None


class UsesComponent(_M):
    """A component an assessment platform uses."""

    component_uuid: str


class Platform(_M):
    """An assessment platform."""

    uuid: str
    title: str
    uses_components: tuple[UsesComponent, ...]


class AssessmentAssets(_M):
    """The tools that performed the assessment."""

    components: tuple[Component, ...]
    assessment_platforms: tuple[Platform, ...]


class LocalDefinitions(_M):
    """A result's local definitions."""

    assessment_assets: AssessmentAssets


class Actor(_M):
    """Who produced an observation or finding."""

    type: str
    actor_uuid: str


class Origin(_M):
    """The source of an observation or finding."""

    actors: tuple[Actor, ...]


class RelevantEvidence(_M):
    """One piece of evidence behind an observation (`href` points into back-matter)."""

    description: str
    href: str | None = None
    props: tuple[Prop, ...] | None = None


class Observation(_M):
    """What one evidence query found."""

    uuid: str
    title: str
    description: str
    props: tuple[Prop, ...] | None = None
    methods: tuple[str, ...]
    types: tuple[str, ...] | None = None
    origins: tuple[Origin, ...] | None = None
    relevant_evidence: tuple[RelevantEvidence, ...] | None = None
    collected: str


class ObjectiveStatus(_M):
    """A finding target's state and reason."""

    state: str
    reason: str | None = None
    remarks: str | None = None


class ImplementationStatus(_M):
    """A control's implementation status (used for `not-applicable`)."""

    state: str


class Target(_M):
    """The objective a finding is about."""

    type: str
    target_id: str
    title: str | None = None
    description: str | None = None
    props: tuple[Prop, ...] | None = None
    status: ObjectiveStatus
    implementation_status: ImplementationStatus | None = None


class RelatedObservation(_M):
    """A finding's link to an observation."""

    observation_uuid: str


class Finding(_M):
    """The conclusion about one control."""

    uuid: str
    title: str
    description: str
    props: tuple[Prop, ...] | None = None
    origins: tuple[Origin, ...] | None = None
    target: Target
    related_observations: tuple[RelatedObservation, ...] | None = None


class Result(_M):
    """The one assessment result of the report's period."""

    uuid: str
    title: str
    description: str
    start: str
    end: str
    props: tuple[Prop, ...] | None = None
    local_definitions: LocalDefinitions
    reviewed_controls: ReviewedControls
    observations: tuple[Observation, ...] | None = None
    findings: tuple[Finding, ...] | None = None


class Rlink(_M):
    """Where a back-matter resource lives."""

    href: str
    media_type: str | None = None


class Resource(_M):
    """A back-matter resource: the pack, a run, an audit event."""

    uuid: str
    title: str
    description: str | None = None
    props: tuple[Prop, ...] | None = None
    rlinks: tuple[Rlink, ...] | None = None


class BackMatter(_M):
    """The document's back-matter."""

    resources: tuple[Resource, ...]


class AssessmentResults(_M):
    """The assessment-results root."""

    uuid: str
    metadata: Metadata
    import_ap: ImportAp
    results: tuple[Result, ...]
    back_matter: BackMatter | None = None


class OscalDocument(_M):
    """The JSON document: `{"assessment-results": ...}`."""

    assessment_results: AssessmentResults


def control_tokens(pack_id: str, control_ids: Sequence[str]) -> dict[str, str]:
    """Control id -> OSCAL control-id token, unique within the pack.

    NIST-style ids become catalog ids (`AC-2(1)` -> `ac-2.1`); others are lowercased with runs
    of other characters as `-`, prefixed with the pack id when they do not start with a letter
    (`164.312(a)(1)` -> `hipaa-164.312-a-1`). A clash gets `-2`, `-3`, ... in pack order.
    """
    tokens: dict[str, str] = {}
    used: set[str] = set()
    for cid in control_ids:
        base = _token(cid, pack_id)
        token, n = base, 1
        while token in used:
            n += 1
            token = f"{base}-{n}"
        used.add(token)
        tokens[cid] = token
    return tokens


def _token(control_id: str, pack_id: str) -> str:
    low = control_id.strip().lower()
    nist = _NIST_ID.match(low)
    if nist:
        family, number, enh_paren, enh_dot = nist.groups()
        enhancement = enh_paren or enh_dot
        return f"{family}-{number}" + (f".{enhancement}" if enhancement else "")
    slug = _NOT_TOKEN.sub("-", low).strip("-._") or "control"
    if not slug[0].isalpha():
        slug = f"{pack_id}-{slug}"
    # A token starts with a letter or `_` (OSCAL TokenDatatype); a pack id may start with a digit.
    return slug if slug[0].isalpha() else f"_{slug}"


def render_oscal(report: Report) -> str:
    """The report as indented OSCAL assessment-results JSON."""
    doc = build_oscal(report)
    return json.dumps(doc.model_dump(mode="json", by_alias=True, exclude_none=True),
                      indent=2) + "\n"


def build_oscal(report: Report) -> OscalDocument:
    """The OSCAL model of a report (see the module docstring for the mapping)."""
    b = _Builder(report)
    return OscalDocument(assessment_results=AssessmentResults(
        uuid=b.uid("assessment-results"), metadata=b.metadata(),
        import_ap=ImportAp(href=f"#{b.pack_resource.uuid}", remarks=(
            "suture keeps no separate assessment plan: the plan is the compliance pack in "
            "back-matter, whose controls name the evidence queries evaluated here.")),
        results=(b.result(),), back_matter=BackMatter(resources=b.resources()),
    ))


class _Builder:
    """Builds the parts of one document; run and audit-event resources are collected on use."""

    def __init__(self, report: Report) -> None:
        self.r = report
        self.seed = (report.pack_id, _ts(report.period_start), _ts(report.period_end))
        self.collected = _ts(report.generated_at)
        self.tokens = control_tokens(report.pack_id, [c.id for c in report.controls])
        self.tool = _uuid("component", "suture")
        self.origin = (Origin(actors=(Actor(type="tool", actor_uuid=self.tool),)),)
        self.pack_resource = self._pack_resource()
        self.evidence_resources: dict[str, Resource] = {}

    def uid(self, *subject: str) -> str:
        return _uuid(*self.seed, *subject)

    def metadata(self) -> Metadata:
        r, party = self.r, _uuid("party", "suture")
        return Metadata(
            title=f"suture compliance assessment: {r.pack_title}",
            last_modified=self.collected, version=self.collected, oscal_version=OSCAL_VERSION,
            props=_props(("pack-id", r.pack_id), ("pack-version", r.pack_version),
                         ("suture-version", r.suture_version),
                         ("report-schema-version", str(r.schema_version))),
            roles=(Role(id="assessor", title="Assessor",
                        description="Evaluated the pack's evidence queries."),),
            parties=(Party(uuid=party, type="organization", name="suture automated assessment",
                           short_name="suture", remarks=(
                               "Stands for the suture run that evaluated the evidence; no person "
                               "reviewed this document. A reviewer adds themselves as a party.")),),
            responsible_parties=(ResponsibleParty(role_id="assessor", party_uuids=(party,)),),
        )

    def result(self) -> Result:
        r, s, a = self.r, self.r.score, self.r.audit
        observations: list[Observation] = []
        findings: list[Finding] = []
        for control in r.controls:
            obs = tuple(self.observation(control, i, ev) for i, ev in enumerate(control.evidence))
            observations.extend(obs)
            findings.append(self.finding(control, obs))
        observations.append(self.audit_observation())
        pct = f" ({s.percent}%)" if s.percent is not None else ""
        chain = ("intact" if a.ok else f"NOT verified ({a.problem or 'unknown problem'})")
        return Result(
            uuid=self.uid("result"),
            title=f"{r.pack_title} v{r.pack_version}: {s.satisfied}/{s.applicable} applicable "
            f"controls satisfied{pct}",
            description=f"suture evaluated the {len(r.controls)} controls of compliance pack "
            f"{r.pack_id} v{r.pack_version} against the evidence it records (runs, gate "
            f"results, the hash-chained audit log) over {r.runs} runs from {self.seed[1]} to "
            f"{self.seed[2]}. Audit chain: {chain}. Controls that are not applicable, need "
            "manual review or could not be evidenced are reported as not-satisfied.",
            start=self.seed[1], end=self.seed[2],
            props=_props(("score-satisfied", str(s.satisfied)),
                         ("score-applicable", str(s.applicable)),
                         ("score-percent", None if s.percent is None else str(s.percent)),
                         ("runs", str(r.runs)), ("passed", str(r.passed).lower()),
                         ("audit-chain", "intact" if a.ok else "not-verified")),
            local_definitions=LocalDefinitions(assessment_assets=self.assets()),
            reviewed_controls=ReviewedControls(control_selections=(ControlSelection(
                description=f"Every control of compliance pack {r.pack_id} v{r.pack_version}.",
                include_controls=tuple(SelectControl(control_id=self.tokens[c.id])
                                       for c in r.controls)),)),
            observations=tuple(observations), findings=tuple(findings),
        )

    def assets(self) -> AssessmentAssets:
        tool = Component(
            uuid=self.tool, type="software", title="suture",
            description="Self-healing CI/CD pipeline: its gates, run store and hash-chained, "
            "signed audit log supply the evidence of this assessment.",
            status=ComponentStatus(state="operational"),
            props=_props(("version", self.r.suture_version)))
        platform = Platform(uuid=_uuid("platform", "suture"), title="suture",
                            uses_components=(UsesComponent(component_uuid=self.tool),))
        return AssessmentAssets(components=(tool,), assessment_platforms=(platform,))

    def observation(self, control: ControlResult, index: int, ev: EvidenceResult) -> Observation:
        res = ev.result
        params = json.dumps(ev.params, sort_keys=True, separators=(",", ":"), default=str)
        evidence = [RelevantEvidence(description=f"{ev.query}: {res.status.value}: {res.reason}")]
        evidence += [self._link("run", run) for run in res.runs]
        evidence += [self._link("audit-event", str(seq)) for seq in res.audit_seqs]
        counts = [(_token(k.replace("_", "-"), "count"), str(v), "count")
                  for k, v in sorted(res.counts.items())]
        return Observation(
            uuid=self.uid("observation", control.id, str(index)),
            title=f"{control.id}: {ev.query}", description=res.reason or ev.query,
            props=_props(("control-id", control.id), ("query", ev.query),
                         ("query-params", None if params == "{}" else params),
                         ("query-status", res.status.value), *counts),
            methods=("TEST",) if ev.query in _TEST_QUERIES else ("EXAMINE",),
            types=("control-objective",), origins=self.origin,
            relevant_evidence=tuple(evidence), collected=self.collected,
        )

    def finding(self, control: ControlResult, obs: tuple[Observation, ...]) -> Finding:
        state, reason = _STATE[control.status]
        token = self.tokens[control.id]
        remarks = {
            Status.NOT_APPLICABLE: "Not applicable in this period; reported as not-satisfied.",
            Status.MANUAL: "suture cannot evidence this control: a person must review it.",
            Status.ERROR: "The evidence could not be read: nothing was checked.",
        }.get(control.status)
        ids = _props(("control-id", control.id), ("assessment-status", control.status.value))
        return Finding(
            uuid=self.uid("finding", control.id), title=f"{control.id} {control.title}",
            description=control.reason or control.status.value, props=ids,
            origins=self.origin,
            target=Target(
                type="objective-id", target_id=f"{token}_obj", title=control.title,
                description=control.description or None, props=ids,
                status=ObjectiveStatus(state=state, reason=reason, remarks=remarks),
                implementation_status=ImplementationStatus(state="not-applicable")
                if control.status == Status.NOT_APPLICABLE else None),
            related_observations=tuple(RelatedObservation(observation_uuid=o.uuid)
                                       for o in obs) or None,
        )

    def audit_observation(self) -> Observation:
        a = self.r.audit
        text = (f"{a.events} audit events and {a.checkpoints} signed checkpoints verified: the "
                "chain is intact" if a.ok else
                f"audit chain NOT verified: {a.problem or 'unknown problem'}")
        return Observation(
            uuid=self.uid("observation", "audit-chain"), title="Audit log verification",
            description=text,
            props=_props(("audit-chain", "intact" if a.ok else "not-verified"),
                         ("audit-events", str(a.events), "count"),
                         ("audit-checkpoints", str(a.checkpoints), "count")),
            methods=("EXAMINE",), origins=self.origin,
            relevant_evidence=(RelevantEvidence(description=text),), collected=self.collected,
        )

    def _link(self, kind: str, ref: str) -> RelevantEvidence:
        key = f"{kind}:{ref}"
        if key not in self.evidence_resources:
            if kind == "run":
                res = Resource(uuid=_uuid("run", ref), title=f"suture run {ref}",
                               description=f"A run in the suture store: `suture runs show {ref}`.",
                               props=_props(("run-id", ref)))
            else:
                res = Resource(uuid=self.uid("audit-event", ref), title=f"Audit event #{ref}",
                               description=f"Event {ref} of the hash-chained audit log: "
                               "`suture audit log`.", props=_props(("audit-seq", ref)))
            self.evidence_resources[key] = res
        res = self.evidence_resources[key]
        return RelevantEvidence(description=res.title, href=f"#{res.uuid}")

    def _pack_resource(self) -> Resource:
        r = self.r
        links = (Rlink(href=_file_href(r.pack_source), media_type="application/yaml"),) \
            if r.pack_source else None
        return Resource(
            uuid=_uuid("pack", r.pack_id, r.pack_version),
            title=f"Compliance pack {r.pack_title}",
            description=f"The assessment plan: suture compliance pack {r.pack_id} version "
            f"{r.pack_version}, each control mapped to evidence queries over the run store and "
            "the audit log.",
            props=_props(("pack-id", r.pack_id), ("pack-version", r.pack_version)),
            rlinks=links)

    def resources(self) -> tuple[Resource, ...]:
        return (self.pack_resource, *self.evidence_resources.values())


def _props(*items: tuple[str, str | None] | tuple[str, str | None, str]) -> tuple[Prop, ...]:
    """suture-namespaced props; values are collapsed to one line, empty ones dropped."""
    out: list[Prop] = []
    for item in items:
        value = " ".join((item[1] or "").split())  # StringDatatype: no edge or line breaks
        if value:
            out.append(Prop(name=item[0], value=value, ns=SUTURE_NS,
                            class_=item[2] if len(item) == 3 else None))
    return tuple(out)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(parts)))


def _ts(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z` (naive times are the store's UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _file_href(source: str) -> str:
    path = Path(source)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())
