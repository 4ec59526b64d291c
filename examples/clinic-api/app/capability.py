"""The CapabilityStatement served at /metadata."""

from __future__ import annotations

from typing import Any

from app import __version__
from app.responses import FHIR_JSON


def _resource(kind: str, search_param: str, search_type: str) -> dict[str, Any]:
    return {
        "type": kind,
        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "search-type"}],
        "searchParam": [{"name": search_param, "type": search_type}],
    }


def capability_statement() -> dict[str, Any]:
    """What this server supports, as a FHIR R4 CapabilityStatement."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2024-01-01",
        "kind": "instance",
        "software": {"name": "clinic-api", "version": __version__},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    _resource("Patient", "family", "string"),
                    _resource("Observation", "subject", "reference"),
                ],
            }
        ],
    }
