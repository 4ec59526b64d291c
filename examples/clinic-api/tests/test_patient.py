"""Create, read and search Patients over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.samples import FHIR_JSON, patient_body, post


def test_create_assigns_id_version_and_location(client: TestClient) -> None:
    body = patient_body() | {"id": "client-chosen"}
    response = client.post("/Patient", json=body, headers={"Content-Type": FHIR_JSON})

    assert response.status_code == 201
    assert response.headers["content-type"] == FHIR_JSON
    created = response.json()
    assert created["id"] != "client-chosen"
    assert created["meta"]["versionId"] == "1"
    assert created["meta"]["lastUpdated"].endswith("Z")
    assert response.headers["location"] == f"http://testserver/Patient/{created['id']}"
    assert created["name"] == [{"use": "official", "family": "Patient", "given": ["Test"]}]


def test_plain_json_content_type_is_accepted(client: TestClient) -> None:
    response = client.post("/Patient", json=patient_body())
    assert response.status_code == 201


def test_read_returns_what_was_created_without_nulls(client: TestClient) -> None:
    created = post(client, "/Patient", {"resourceType": "Patient", "gender": "female"})

    response = client.get(f"/Patient/{created['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    assert response.json() == created
    assert set(created) == {"resourceType", "id", "meta", "gender"}


def test_read_unknown_patient_is_404_operation_outcome(client: TestClient) -> None:
    response = client.get("/Patient/does-not-exist")

    assert response.status_code == 404
    assert response.headers["content-type"] == FHIR_JSON
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert "Patient/does-not-exist" in outcome["issue"][0]["diagnostics"]


def test_search_by_family_is_case_insensitive_prefix(client: TestClient) -> None:
    first = post(client, "/Patient", patient_body(family="Testperson"))
    post(client, "/Patient", patient_body(family="Example"))
    second = post(client, "/Patient", patient_body(family="TESTER"))

    response = client.get("/Patient", params={"family": "test"})

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 2
    assert [e["resource"]["id"] for e in bundle["entry"]] == [first["id"], second["id"]]
    assert bundle["entry"][0]["fullUrl"] == f"http://testserver/Patient/{first['id']}"
    assert bundle["entry"][0]["search"] == {"mode": "match"}


def test_search_without_family_lists_all_and_nameless_never_match(client: TestClient) -> None:
    post(client, "/Patient", patient_body())
    post(client, "/Patient", {"resourceType": "Patient"})

    assert client.get("/Patient").json()["total"] == 2
    assert client.get("/Patient", params={"family": "Pat"}).json()["total"] == 1


def test_search_with_no_match_is_an_empty_bundle(client: TestClient) -> None:
    post(client, "/Patient", patient_body())

    bundle = client.get("/Patient", params={"family": "Nobody"}).json()

    assert bundle == {"resourceType": "Bundle", "type": "searchset", "total": 0}


def test_stores_are_separate_per_application(client: TestClient) -> None:
    created = post(client, "/Patient", patient_body())
    from app.main import create_app

    other = TestClient(create_app())
    assert other.get(f"/Patient/{created['id']}").status_code == 404
