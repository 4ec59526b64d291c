"""FHIR JSON responses."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import JSONResponse

FHIR_JSON = "application/fhir+json"


class FHIRResponse(JSONResponse):
    """JSON with FHIR's media type."""

    media_type = FHIR_JSON


def fhir_response(
    body: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> FHIRResponse:
    """Serialize a resource the FHIR way: absent elements are left out, never null."""
    return FHIRResponse(body.model_dump(mode="json", exclude_none=True), status_code, headers)
