"""Obviously fictional FHIR resources and a helper to create them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

FHIR_JSON = "application/fhir+json"


def patient_body(family: str = "Patient", given: str = "Test") -> dict[str, Any]:
    """A valid, obviously fictional Patient."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:example:mrn", "value": "MRN-0001"}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "unknown",
        "birthDate": "1970-01-01",
    }


def observation_body(patient_id: str, value: float = 72.0) -> dict[str, Any]:
    """A valid heart-rate Observation about patient_id."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}],
            "text": "Heart rate",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2024-01-01T10:00:00Z",
        "valueQuantity": {
            "value": value,
            "unit": "beats/minute",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }


def post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a resource as FHIR JSON, check it was created, return the stored resource."""
    response = client.post(path, json=body, headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 201, response.text
    stored: dict[str, Any] = response.json()
    return stored
