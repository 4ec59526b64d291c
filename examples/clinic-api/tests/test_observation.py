"""Create, read and search Observations over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.samples import FHIR_JSON, observation_body, patient_body, post


def test_create_and_read_observation(client: TestClient) -> None:
    patient = post(client, "/Patient", patient_body())

    response = client.post(
        "/Observation", json=observation_body(patient["id"]), headers={"Content-Type": FHIR_JSON}
    )

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"http://testserver/Observation/{created['id']}"
    assert created["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert created["effectiveDateTime"] == "2024-01-01T10:00:00Z"
    assert created["valueQuantity"]["value"] == 72.0
    read = client.get(f"/Observation/{created['id']}")
    assert read.status_code == 200
    assert read.headers["content-type"] == FHIR_JSON
    assert read.json() == created


def test_observation_about_unknown_patient_is_422(client: TestClient) -> None:
    response = client.post("/Observation", json=observation_body("missing-patient"))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "processing"
    assert "Patient/missing-patient" in issue["diagnostics"]
    assert client.get("/Observation").json()["total"] == 0


def test_read_unknown_observation_is_404(client: TestClient) -> None:
    response = client.get("/Observation/nope")

    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_patient_id_is_not_an_observation(client: TestClient) -> None:
    patient = post(client, "/Patient", patient_body())

    assert client.get(f"/Observation/{patient['id']}").status_code == 404


def test_search_by_subject_returns_only_that_patients_observations(client: TestClient) -> None:
    alice = post(client, "/Patient", patient_body(given="Alpha"))
    bob = post(client, "/Patient", patient_body(given="Beta"))
    mine = [post(client, "/Observation", observation_body(alice["id"], v)) for v in (60, 70)]
    post(client, "/Observation", observation_body(bob["id"], 80))

    response = client.get("/Observation", params={"subject": f"Patient/{alice['id']}"})

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    bundle = response.json()
    assert bundle["total"] == 2
    assert [e["resource"]["id"] for e in bundle["entry"]] == [o["id"] for o in mine]
    assert bundle["entry"][0]["fullUrl"] == f"http://testserver/Observation/{mine[0]['id']}"
    assert client.get("/Observation").json()["total"] == 3


def test_search_with_malformed_subject_is_400(client: TestClient) -> None:
    response = client.get("/Observation", params={"subject": "Practitioner/1"})

    assert response.status_code == 400
    assert response.headers["content-type"] == FHIR_JSON
    issue = response.json()["issue"][0]
    assert issue["code"] == "invalid"
    assert "Patient/{id}" in issue["diagnostics"]
