"""Invalid requests are answered with a FHIR OperationOutcome, never stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.samples import FHIR_JSON, observation_body, patient_body, post


def issues(response: Any) -> list[dict[str, Any]]:
    """The issues of an OperationOutcome response, checking its envelope."""
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    found: list[dict[str, Any]] = body["issue"]
    return found


def test_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post("/Patient", content=b"{not json", headers={"Content-Type": FHIR_JSON})

    assert response.status_code == 400
    assert issues(response) == [
        {
            "severity": "error",
            "code": "structure",
            "diagnostics": "The request body is not valid JSON.",
        }
    ]
    assert client.get("/Patient").json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "code", "expression"),
    [
        ({"gender": "robot"}, "value", "Patient.gender"),
        ({"birthDate": "1970-13-01"}, "value", "Patient.birthDate"),
        ({"name": [{"family": ""}]}, "value", "Patient.name[0].family"),
        ({"resourceType": "Observation"}, "value", "Patient.resourceType"),
        ({"ssn": "000-00-0000"}, "structure", "Patient.ssn"),
    ],
)
def test_invalid_patient_is_422_with_fhirpath(
    client: TestClient, change: dict[str, Any], code: str, expression: str
) -> None:
    response = client.post("/Patient", json=patient_body() | change)

    assert response.status_code == 422
    found = issues(response)
    assert [(i["code"], i["expression"]) for i in found] == [(code, [expression])]
    assert found[0]["severity"] == "error"
    assert client.get("/Patient").json()["total"] == 0


def test_missing_required_observation_elements_are_each_reported(client: TestClient) -> None:
    response = client.post("/Observation", json={"resourceType": "Observation"})

    assert response.status_code == 422
    found = {(i["code"], i["expression"][0]) for i in issues(response)}
    assert found == {
        ("required", "Observation.status"),
        ("required", "Observation.code"),
        ("required", "Observation.subject"),
    }


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"subject": {"reference": "Group/1"}}, "Observation.subject.reference"),
        ({"effectiveDateTime": "2024-01-01T10:00:00"}, "Observation.effectiveDateTime"),
        ({"status": "done"}, "Observation.status"),
        ({"valueQuantity": {"value": "high"}}, "Observation.valueQuantity.value"),
    ],
)
def test_invalid_observation_is_422(
    client: TestClient, change: dict[str, Any], expression: str
) -> None:
    patient = post(client, "/Patient", patient_body())

    response = client.post("/Observation", json=observation_body(patient["id"]) | change)

    assert response.status_code == 422
    assert [i["expression"] for i in issues(response)] == [[expression]]


def test_unknown_route_is_404_operation_outcome(client: TestClient) -> None:
    response = client.get("/Encounter/1")

    assert response.status_code == 404
    assert issues(response)[0]["code"] == "not-found"


def test_unsupported_method_is_405_operation_outcome(client: TestClient) -> None:
    response = client.delete("/Patient/1")

    assert response.status_code == 405
    assert issues(response)[0]["code"] == "not-supported"
