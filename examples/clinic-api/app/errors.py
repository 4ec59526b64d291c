"""Every error leaves the API as a FHIR OperationOutcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.models import Issue, OperationOutcome
from app.responses import fhir_response
from app.store import NotFound

# FHIR IssueType codes for the HTTP statuses this API returns.
ISSUE_CODE_BY_STATUS = {400: "invalid", 404: "not-found", 405: "not-supported"}
ISSUE_CODE_BY_PYDANTIC_TYPE = {"missing": "required", "extra_forbidden": "structure"}


def outcome(status: int, code: str, diagnostics: str) -> Response:
    """A one-issue OperationOutcome response."""
    body = OperationOutcome(issue=[Issue(code=code, diagnostics=diagnostics)])
    return fhir_response(body, status)


def fhirpath(resource_type: str, loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as a FHIRPath, e.g. Patient.name[0].family."""
    path = resource_type
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    """400 for a body that is not JSON, 422 for JSON that is not a valid resource."""
    errors: Sequence[dict[str, Any]] = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return outcome(400, "structure", "The request body is not valid JSON.")
    resource_type = request.url.path.strip("/").split("/")[0]
    issues = [
        Issue(
            code=ISSUE_CODE_BY_PYDANTIC_TYPE.get(e["type"], "value"),
            diagnostics=e["msg"],
            expression=[fhirpath(resource_type, e["loc"][1:])],
        )
        for e in errors
    ]
    return fhir_response(OperationOutcome(issue=issues), 422)


def on_http_error(_: Request, exc: HTTPException) -> Response:
    """HTTP errors (unknown route, wrong method, rejected reference) as OperationOutcome."""
    code = ISSUE_CODE_BY_STATUS.get(exc.status_code, "processing")
    return outcome(exc.status_code, code, str(exc.detail))


def on_not_found(_: Request, exc: NotFound) -> Response:
    """A read of an unknown resource id."""
    return outcome(404, "not-found", str(exc))


def install(app: FastAPI) -> None:
    """Register the OperationOutcome handlers on app."""
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(NotFound, on_not_found)
