"""The redaction step: PHI and secrets become stable placeholders, evidence survives."""

from __future__ import annotations

import json
import re

import pytest

from suture.llm.redact import Kind, Redactor, Span, redact

PLACEHOLDER = re.compile(r"\[([A-Z]+)_\d+\]")


def kinds_in(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


# (text, the value that must disappear, the kind of placeholder that replaces it)
POSITIVE = [
    ("SSN: 123-45-6789 on file", "123-45-6789", "SSN"),
    ("ssn=078051120", "078051120", "SSN"),
    ("social security number 078 05 1120", "078 05 1120", "SSN"),
    ("MRN: 00012345 admitted", "00012345", "MRN"),
    ("Medical Record Number: A-77881", "A-77881", "MRN"),
    ('{"patient_id": "PT-99812"}', "PT-99812", "MRN"),
    ("call (555) 123-4567 today", "(555) 123-4567", "PHONE"),
    ("reached at 555.867.5309", "555.867.5309", "PHONE"),
    ("phone: +1 617 555 0199", "617 555 0199", "PHONE"),
    ("London office +44 20 7946 0958", "+44 20 7946 0958", "PHONE"),
    ("fax: (555) 222-3333", "(555) 222-3333", "FAX"),
    ("Fax 555-222-3344", "555-222-3344", "FAX"),
    ("notify jane.doe@hospital.org now", "jane.doe@hospital.org", "EMAIL"),
    ("DOB: 03/04/1961", "03/04/1961", "DATE"),
    ('"birthDate": "1961-03-04",', "1961-03-04", "DATE"),
    ('"deceasedDateTime": "2020-05-06T10:00:00Z"', "2020-05-06T10:00:00Z", "DATE"),
    ("admission date: 2024-01-02", "2024-01-02", "DATE"),
    ("discharged on March 3, 2024", "March 3, 2024", "DATE"),
    ("assert p.birth_date == date(1961, 3, 4)", "1961, 3, 4", "DATE"),
    ("lives at 742 Evergreen Terrace", "742 Evergreen Terrace", "ADDRESS"),
    ("ship to 123 Main St, Apt 4B", "123 Main St, Apt 4B", "ADDRESS"),
    ("Springfield, IL 62704", "62704", "ZIP"),
    ("zip: 02139-4307", "02139-4307", "ZIP"),
    ("upstream 10.12.0.7 refused", "10.12.0.7", "IP"),
    ("peer 2001:db8::8a2e:370:7334 closed", "2001:db8::8a2e:370:7334", "IP"),
    ("see https://portal.hospital.org/patients/123 for", "portal.hospital.org", "URL"),
    ("visit www.clinic-example.org/records", "www.clinic-example.org/records", "URL"),
    ("Account Number: 4400123456", "4400123456", "ACCOUNT"),
    ("member id: XJ-55501", "XJ-55501", "ACCOUNT"),
    ("Driver's License: D1234567", "D1234567", "LICENSE"),
    ("NPI: 1234567893", "1234567893", "LICENSE"),
    ("device serial: SN-88812-X", "SN-88812-X", "DEVICE"),
    ("pump MAC 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E", "DEVICE"),
    ("patient: John Smith was admitted", "John Smith", "NAME"),
    ('{"name": "Jane Q Public"}', "Jane Q Public", "NAME"),
    ('"family": "Okafor", "given": ["Chidi", "Ngozi"]', "Ngozi", "NAME"),
    ("PID|1||MRN778^^^HOSP||Doe^Jane||19610304|F", "Doe^Jane", "NAME"),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "SECRET"),
    ("ANTHROPIC_API_KEY sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE", "sk-ant-api03", "SECRET"),
    ("cloning with ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "ghp_a1B2c3D4", "SECRET"),
    ("password=hunter2!", "hunter2!", "SECRET"),
    ('db_password: "correct horse battery"', "correct horse battery", "SECRET"),
    ("postgres://app:S3cr3tPw@db.internal/clinic", "S3cr3tPw", "SECRET"),
    ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789", "SECRET"),
    # Found only by detect-secrets' own plugins (Mailchimp, high-entropy quoted strings).
    ("mailchimp 0123456789abcdef0123456789abcdef-us12 used", "0123456789abcdef", "SECRET"),
    ('blob = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYq9Z"', "wJalrXUtnFEMI", "SECRET"),
]


@pytest.mark.parametrize(("text", "value", "kind"), POSITIVE, ids=[p[0][:40] for p in POSITIVE])
def test_each_kind_is_replaced_by_its_placeholder(text: str, value: str, kind: str) -> None:
    out = redact(text)
    assert value not in out
    assert kind in kinds_in(out), out


NEGATIVE = [
    "Traceback (most recent call last):\n"
    '  File "/usr/lib/python3.11/site-packages/httpx/_client.py", line 1013, in send\n'
    "    raise exc",
    'File "src/app/x.py", line 12, in test_foo',
    "src/app/routes.py:118: in create_patient",
    "ruff: src/app/x.py:12:5: E501 Line too long (120 > 100)",
    "platform linux -- Python 3.11.4, pytest-7.4.3, pluggy-1.3.0",
    "Successfully installed requests-2.31.0 urllib3-2.0.7 fastapi-0.104.1 numpy==1.26.4",
    "bump version to 2.7.1",
    "tests/test_api.py::TestPatients::test_create[json-1] FAILED      [  8%]",
    "FAILED tests/test_api.py::test_create[json-1] - ValueError: duplicate key 3f2c1a9b",
    "commit 3f2c1a9b8e7d6c5b4a39281706f5e4d3c2b1a098",
    '{"sha": "3f2c1a9b8e7d6c5b4a39281706f5e4d3c2b1a098", "version": "2.7.1", "port": 5432}',
    "2024-01-02T03:04:05.123Z INFO server listening on 0.0.0.0:8080 (pid 4312)",
    "2024-01-02 03:04:05,123 WARNING retrying in 2.5s attempt 3/5 after 12:30:45",
    "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=5432): Max retries exceeded",
    "health check http://localhost:8000/ failed; listening on [::1]:9000",
    "===================== 1 failed, 11 passed in 2.34s =====================",
    "NameError: name 'Foo' is not defined",
    "ModuleNotFoundError: No module named 'Flask'",
    "License: MIT",
    "max_tokens=4096 token_count: 512",
    "secret_key = os.environ['SECRET_KEY']",
    "identifier system urn:oid:2.16.840.1.113883.4.3.25",
    "C++ frame std::vector<int>::push_back a::b",
    "exit code 137 after 300 seconds; wrote 1234567 bytes",
    "request id 123e4567-e89b-12d3-a456-426614174000 done",
    "E   assert 200 == 201",
    # Source code around credentials is code, not a credential.
    "return self._ask(system, prompt, max_tokens=max_tokens, api_key=self.api_key)",
    'description = "detect-secrets: credentials committed to the repository"',
    "def handle_error(self, request: Any, client_address: Any) -> None:",
    "new = stage.findings[0::2]; clone(f'file://{repo.path}')",
    "pip download https://files.pythonhosted.org/packages/source/J/Jinja2/Jinja2-2.7.1.tar.gz",
]


@pytest.mark.parametrize("text", NEGATIVE, ids=[n[:40] for n in NEGATIVE])
def test_evidence_that_is_not_phi_or_secret_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_same_value_gets_the_same_placeholder_and_others_get_new_ones() -> None:
    r = Redactor()
    out = r.redact("SSN 123-45-6789 and SSN 123-45-6789, spouse SSN 219-09-9999")
    assert out == "SSN [SSN_1] and SSN [SSN_1], spouse SSN [SSN_2]"
    # Stable across calls of one Redactor, and across spellings of one phone number.
    assert r.redact("again 123-45-6789") == "again [SSN_1]"
    assert r.redact("call 555-123-4567 or (555) 123-4567") == "call [PHONE_1] or [PHONE_1]"
    assert r.counts == {"SSN": 2, "PHONE": 1}
    # A fresh Redactor numbers from 1 again.
    assert Redactor().redact("SSN 219-09-9999") == "SSN [SSN_1]"


def test_a_value_found_once_is_redacted_wherever_it_appears_later() -> None:
    r = Redactor()
    first = r.redact("patient: Maria Gonzalez, MRN: 88412907")
    assert "Maria" not in first and "88412907" not in first
    # Unlabelled mentions, in the same Redactor's later texts: full name, surname, id.
    later = r.redact("E  AssertionError: Gonzalez != Gonzales\nGET /Patient/88412907 -> 404")
    assert "Gonzalez" not in later and "88412907" not in later
    assert "Gonzales" in later  # a different word is not touched
    assert "AssertionError" in later and "404" in later


def test_placeholders_never_contain_the_value_and_redaction_is_idempotent() -> None:
    r = Redactor()
    text = "patient: John Smith DOB: 1961-03-04 token=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    once = r.redact(text)
    for placeholder in PLACEHOLDER.finditer(once):
        assert placeholder.group() in {"[NAME_1]", "[DATE_1]", "[SECRET_1]"}
    assert r.redact(once) == once
    assert r.counts == {"NAME": 1, "DATE": 1, "SECRET": 1}


def test_spans_report_what_would_go_without_holding_or_logging_values() -> None:
    r = Redactor()
    text = "email a.patient@example.org from 10.20.30.40"
    spans = r.spans(text)
    assert [(s.kind, text[s.start:s.end]) for s in spans] == [
        (Kind.EMAIL, "a.patient@example.org"), (Kind.IP, "10.20.30.40"),
    ]
    assert all(isinstance(s, Span) for s in spans)
    shown = repr(spans) + repr(r)
    assert "a.patient" not in shown and "10.20.30.40" not in shown
    assert r.counts == {}  # spans() redacts nothing
    with pytest.raises(AttributeError):
        spans[0].start = 0  # type: ignore[misc]


def test_overlapping_findings_become_one_placeholder_of_the_stronger_kind() -> None:
    out = redact("DATABASE_URL=postgres://app:S3cr3tPw@10.1.2.3:5432/clinic next")
    assert out.endswith(" next")
    assert "S3cr3tPw" not in out and "10.1.2.3" not in out
    assert kinds_in(out) == {"SECRET"}


FHIR_PATIENT = {
    "resourceType": "Patient",
    "id": "example",
    "identifier": [{
        "use": "usual",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "MR"}]},
        "system": "urn:oid:1.2.36.146.595.217.0.1",
        "value": "MRN-4471902",
    }],
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
    "telecom": [
        {"system": "phone", "value": "(03) 5555 6473", "use": "work"},
        {"system": "email", "value": "peter.chalmers@example.org"},
    ],
    "gender": "male",
    "birthDate": "1974-12-25",
    "address": [{"use": "home", "line": ["534 Erewhon St"], "city": "Pleasantville",
                 "state": "VT", "postalCode": "05401"}],
}

PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo
-----END RSA PRIVATE KEY-----"""


def pytest_failure_output() -> str:
    """What `pytest` prints when a FHIR test fails, with PHI and two secrets in it."""
    body = json.dumps(FHIR_PATIENT, indent=2)
    quoted = "\n".join(f"E       {line}" for line in body.splitlines())
    return f"""============================= test session starts ==============================
platform linux -- Python 3.11.4, pytest-7.4.3, pluggy-1.3.0
rootdir: /work/clinic-api
collected 3 items

tests/test_fhir.py::test_patient_roundtrip FAILED                        [ 33%]
tests/test_fhir.py::test_health PASSED                                   [ 66%]

=================================== FAILURES ===================================
____________________________ test_patient_roundtrip ____________________________

client = <starlette.testclient.TestClient object at 0x7f3c2a1b9d90>

    def test_patient_roundtrip(client):
        payload = load_fixture("patient.json")
>       resp = client.post("/Patient", json=payload)

tests/test_fhir.py:27:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
src/clinic/api.py:88: in create_patient
    store.save(patient)
src/clinic/store.py:41: in save
    raise ValidationError(f"rejected {{patient.json()}}")
E   clinic.errors.ValidationError: rejected
{quoted}
----------------------------- Captured log call ---------------------------------
INFO     clinic.store:store.py:39 saving Patient/example for Peter Chalmers (tel 555-201-8890)
DEBUG    clinic.aws:aws.py:12 using AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE region us-east-1
DEBUG    clinic.tls:tls.py:30 loaded key
{PRIVATE_KEY}
=========================== short test summary info ============================
FAILED tests/test_fhir.py::test_patient_roundtrip - clinic.errors.ValidationError: rejected
========================= 1 failed, 1 passed in 0.42s ==========================
"""


SEEDED = [
    "MRN-4471902", "Chalmers", "Peter", "James", "5555 6473", "peter.chalmers",
    "1974-12-25", "534 Erewhon", "Erewhon", "Pleasantville", "05401", "555-201-8890",
    "AKIAIOSFODNN7EXAMPLE", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo", "BEGIN RSA PRIVATE KEY",
]


def test_pytest_failure_with_fhir_patient_and_secrets_keeps_structure_and_loses_phi() -> None:
    text = pytest_failure_output()
    for value in SEEDED:
        assert value in text  # the fixture really carries what we look for
    r = Redactor()
    out = r.redact(text)
    leaked = [value for value in SEEDED if value in out]
    assert leaked == []
    # The traceback is still evidence: locations, the exception, the test ids and the summary.
    for kept in [
        "tests/test_fhir.py:27:", "src/clinic/api.py:88: in create_patient",
        "src/clinic/store.py:41: in save", "clinic.errors.ValidationError: rejected",
        "tests/test_fhir.py::test_patient_roundtrip FAILED", "1 failed, 1 passed in 0.42s",
        "platform linux -- Python 3.11.4, pytest-7.4.3", '"resourceType": "Patient"',
        '"gender": "male"', "store.py:39", "region us-east-1",
    ]:
        assert kept in out, kept
    assert {"NAME", "MRN", "DATE", "EMAIL", "PHONE", "ADDRESS", "ZIP", "SECRET"} <= kinds_in(out)
    # One patient, one placeholder: the surname in the log line is the one from the JSON.
    family = re.search(r'"family": "(\[NAME_\d+\])"', out)
    assert family is not None
    assert f"Peter {family.group(1)}" not in out  # "Peter" went too
    assert family.group(1) in out.split("Captured log call")[1]


def test_hl7_segments_lose_identifying_fields_and_keep_their_shape() -> None:
    message = (
        "MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240102120000||ADT^A01|MSG0001|P|2.5\r"
        "PID|1||778812^^^HOSP^MR||Nakamura^Yuki^^^Ms.||19880214|F|||12 Elm Road^^Salem^OR^97301"
        "||(503) 555-0142|||||ACC99812|543-21-9876\r"
    )
    out = redact(message)
    for value in ["778812", "Nakamura", "19880214", "12 Elm Road", "97301", "555-0142",
                  "ACC99812", "543-21-9876"]:
        assert value not in out
    assert out.startswith("MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240102120000||ADT^A01")
    assert out.split("\r")[1].count("|") == message.split("\r")[1].count("|")


def test_code_system_urls_of_standards_stay_and_other_urls_go() -> None:
    text = '"system": "http://loinc.org", "system": "http://terminology.hl7.org/CodeSystem/v2-0203"'
    assert redact(text) == text
    assert "ehr.stmary.example" not in redact("GET https://ehr.stmary.example/Patient/77 -> 500")


def test_a_truncated_private_key_goes_and_the_log_after_it_stays() -> None:
    log = (
        "DEBUG loaded -----BEGIN RSA PRIVATE KEY-----\n"
        "Proc-Type: 4,ENCRYPTED\n"
        "DEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
        "[output truncated]\n"
        "ERROR tls handshake failed at src/clinic/tls.py:30\n"
    )
    out = redact(log)
    assert "MIIEow" not in out and "VTLw7" not in out and "3F17F5316E2BAC89" not in out
    assert out.endswith("[output truncated]\nERROR tls handshake failed at src/clinic/tls.py:30\n")
