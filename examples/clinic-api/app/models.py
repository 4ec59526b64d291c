"""Pydantic models for the subset of FHIR R4 that clinic-api serves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Regular expressions from the FHIR R4 specification (datatypes.html).
FHIR_ID = r"^[A-Za-z0-9\-\.]{1,64}$"
FHIR_DATE = (
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$"
)
PATIENT_REFERENCE = r"^Patient/[A-Za-z0-9\-\.]{1,64}$"

Id = Annotated[str, Field(pattern=FHIR_ID)]
NameUse = Literal["usual", "official", "temp", "nickname", "anonymous", "old", "maiden"]
ObservationStatus = Literal[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
]


class Element(BaseModel):
    """Base of every FHIR element: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Meta(Element):
    """Resource metadata maintained by the server."""

    versionId: Id | None = None
    lastUpdated: datetime | None = None


class Identifier(Element):
    """A business identifier such as a medical record number."""

    system: str | None = None
    value: str = Field(min_length=1)


class HumanName(Element):
    """A person's name."""

    use: NameUse | None = None
    family: str | None = Field(default=None, min_length=1)
    given: list[Annotated[str, Field(min_length=1)]] | None = None


class Coding(Element):
    """A code from a terminology system."""

    system: str | None = None
    code: str = Field(min_length=1)
    display: str | None = None


class CodeableConcept(Element):
    """A concept given by one or more codings and/or text."""

    coding: list[Coding] | None = None
    text: str | None = None


class Reference(Element):
    """A reference from one resource to a Patient."""

    reference: str = Field(pattern=PATIENT_REFERENCE)
    display: str | None = None


class Quantity(Element):
    """A measured amount with its unit."""

    value: float
    unit: str | None = None
    system: str | None = None
    code: str | None = None


class Resource(Element):
    """Fields every stored resource has."""

    resourceType: str
    id: Id | None = None
    meta: Meta | None = None


class Patient(Resource):
    """FHIR R4 Patient (demographics subset)."""

    resourceType: Literal["Patient"]
    identifier: list[Identifier] | None = None
    name: list[HumanName] | None = None
    gender: Literal["male", "female", "other", "unknown"] | None = None
    birthDate: str | None = Field(default=None, pattern=FHIR_DATE)

    def matches_family(self, prefix: str) -> bool:
        """FHIR string search: any family name starts with prefix, ignoring case."""
        prefix = prefix.casefold()
        return any((n.family or "").casefold().startswith(prefix) for n in self.name or ())


class Observation(Resource):
    """FHIR R4 Observation (single quantity value about a Patient)."""

    resourceType: Literal["Observation"]
    status: ObservationStatus
    code: CodeableConcept
    subject: Reference
    effectiveDateTime: AwareDatetime | None = None
    valueQuantity: Quantity | None = None


class Issue(Element):
    """One problem reported in an OperationOutcome."""

    severity: Literal["fatal", "error", "warning", "information"] = "error"
    code: str
    diagnostics: str
    expression: list[str] | None = None


class OperationOutcome(Element):
    """FHIR's error payload."""

    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[Issue]


class BundleSearch(Element):
    """Why an entry is in a searchset."""

    mode: Literal["match", "include", "outcome"] = "match"


class BundleEntry(Element):
    """One search match."""

    fullUrl: str
    resource: Patient | Observation
    search: BundleSearch = Field(default_factory=BundleSearch)


class Bundle(Element):
    """A searchset Bundle."""

    resourceType: Literal["Bundle"] = "Bundle"
    type: Literal["searchset"] = "searchset"
    total: int
    entry: list[BundleEntry] | None = None
