"""Health and capability endpoints."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app import __version__
from tests.samples import FHIR_JSON


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_capability_statement_lists_what_the_server_does(client: TestClient) -> None:
    response = client.get("/metadata")

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["software"] == {"name": "clinic-api", "version": __version__}
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"Patient", "Observation"}
    assert resources["Patient"]["searchParam"] == [{"name": "family", "type": "string"}]
    assert resources["Observation"]["searchParam"] == [{"name": "subject", "type": "reference"}]
    assert {i["code"] for i in resources["Patient"]["interaction"]} == {
        "create",
        "read",
        "search-type",
    }
