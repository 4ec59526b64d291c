"""The phi gate finds Safe Harbor identifiers in real files, masks them, and leaves decoys alone."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import ValidationError

from suture import config as config_mod
from suture.errors import ToolError
from suture.gates import GATES
from suture.gates.interface import GateReport
from suture.gates.phi import PhiConfig, PhiGate
from suture.gates.phi_scan import PhiKind, mask, scan, valid_card, valid_npi, valid_ssn
from suture.model import Level, StageStatus
from suture.pipeline import baseline as baseline_mod
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.pipeline.reports import Format, render
from suture.store import open_store
from tests.fixtures.gates import make_ctx
from tests.fixtures.git import GitRepo

# Synthetic values, assembled from pieces so this file does not itself look like it holds PHI.
FIRST, LAST = "Mar" + "isol", "Quin" + "tanilla"
FIRST2, LAST2 = "Ode" + "lia", "Brank" + "ovich"
SSN = "-".join(("212", "41", "7788"))
SSN2 = "-".join(("318", "62", "4410"))
DOB = "/".join(("03", "04", "1961"))
STREET = "77 Bea" + "con Street"  # suture: allow-phi
ZIP = "021" + "18"
PHONE = "(617) 284-" + "3372"
EMAIL = "marisol.q84" + "@" + "gmail.com"
NPI = "12453" + "19599"
CARD = "4539 1488 " + "0343 6467"
MEMBER = "QHX" + "482913377"
MRN = "MRN-77" + "30041"
IP = "73.162." + "21.90"
CSV_MRN, CSV_DOB = "E55" + "0913", "1958-" + "11-23"
SQL_MRN, SQL_DOB = "A77" + "10482", "1947-" + "06-30"
FHIR_MRN, FHIR_PHONE = "88" + "120457", "508-" + "555-2231"
SYNTHETIC_ID = "SYN-" + "4471902"

# Every value above, and fragments long enough to identify someone, must never be shown.
SECRETS = [
    FIRST, LAST, FIRST2, LAST2, SSN, SSN2, SSN.replace("-", ""), "212-41", DOB, STREET, "Beacon",
    ZIP, PHONE, "284-" + "3372", EMAIL, "marisol.q84", NPI, CARD, "4539 1488", MEMBER, MRN,
    "77" + "30041", IP, CSV_MRN, CSV_DOB, SQL_MRN, SQL_DOB, FHIR_MRN, FHIR_PHONE,
]

DECOYS = """\
# Things that look like PHI and are not

Release v2.14.3 (build 1.2.3.4) from commit 3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f.
request_id=123e4567-e89b-12d3-a456-426614174000 trace=9f1c2b3a4d5e6f70
2024-05-06T10:11:12.345Z INFO worker heartbeat ok
2024-05-06 10:11:13,001 ERROR job 4471 failed after 0.52s
tests/test_patients.py::test_create[case-12] PASSED
Rejected on purpose: SSN 000-12-3456, SSN 666-12-3456, SSN 912-34-5678, 123-00-4567
Card 4539 1488 0343 6468 fails Luhn; Stripe test card 4242 4242 4242 4242 is fine.
npi: 1245319598 has a bad check digit
Fictional contact: (212) 555-0123, someone@example.org, host 10.0.0.5, docs 192.0.2.10
patient_id: test-0001, account_id = "123456789012"  # aws account
Object identifier 2.16.840.1.113883.4.1, section 13.2.3.1, Python 3.11.7.
Dosage 2.5 mg/kg/day; LDL 131 mg/dL; ICD-10 E11.9; LOINC 4548-4; CPT 99213.
- name: Set Up Python
  first_name: Optional[str]
font-family: Arial, sans-serif;
git@github.com:acme/clinic.git, noreply@github.com
"""


def _notebook() -> str:
    cell = {
        "cell_type": "code", "execution_count": 1, "metadata": {},
        "outputs": [{"name": "stdout", "output_type": "stream",
                     "text": ["loaded 3 rows\n", f"first row: SSN {SSN2}\n"]}],
        "source": ["import pandas as pd\n", f"# patient: {FIRST2} {LAST2}\n", "df.head()"],
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1) + "\n"


def _fhir() -> str:
    patient = {
        "resourceType": "Patient", "id": "123e4567-e89b-12d3-a456-426614174000",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.4", "value": FHIR_MRN}],
        "name": [{"family": LAST2, "given": [FIRST2]}],
        "telecom": [{"system": "phone", "value": FHIR_PHONE}],
        "birthDate": "1961-03-04",  # suture: allow-phi
    }
    return json.dumps(patient, indent=2) + "\n"


def seeded_repo(repo: GitRepo) -> GitRepo:
    """A repository with each kind of identifier in a realistic place, and decoys."""
    files = {
        "notes/discharge.txt": (
            f"DISCHARGE SUMMARY\nPatient: {FIRST} {LAST}\nMedical record number: {MRN}\n"
            f"SSN: {SSN}\nDOB: {DOB}\nAddress: {STREET}, Boston, MA {ZIP}\nPhone: {PHONE}\n"
            f"Email: {EMAIL}\nMember ID: {MEMBER}\nCard on file: {CARD}\n"
            f"Attending NPI: {NPI}\n"
        ),
        "logs/app.log": (
            "2024-05-06T10:11:12Z INFO GET /Patient/1 200 client=" + IP + "\n"
            "2024-05-06T10:11:13Z INFO GET /health 200 client=10.0.0.7\n"
        ),
        "data/extract.csv": (
            "mrn,first_name,last_name,birth_date,visits\n"
            f"{CSV_MRN},{FIRST2},{LAST2},{CSV_DOB},4\n"
        ),
        "db/seed.sql": (
            "INSERT INTO patients (mrn, given_name, birth_date, status) VALUES\n"
            f"  ('{SQL_MRN}', '{FIRST}', '{SQL_DOB}', 'active');\n"
        ),
        "fixtures/patient.json": _fhir(),
        "notebooks/analysis.ipynb": _notebook(),
        "docs/decoys.md": DECOYS,
        "tests/test_contact.py": f'PHONE = "{PHONE}"  # suture: allow-phi\n',
        "fixtures/synthetic/ids.txt": f"Patient ID: {SYNTHETIC_ID}\n",
        "big/huge.log": ("padding line without anything in it\n" * 400) + f"SSN: {SSN}\n",
    }
    for rel, text in files.items():
        path = repo.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (repo.path / "assets").mkdir()
    (repo.path / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + SSN.encode())
    (repo.path / "data/blob.bin").write_bytes(b"\0\1\2" + f"SSN: {SSN}".encode())
    (repo.path / "scans").mkdir()
    (repo.path / "scans/ct.dcm").write_bytes(b"\0" * 128 + b"DICM" + LAST.encode())
    repo.commit("seed")
    return repo


def _gate(**config: object) -> PhiGate:
    return PhiGate("phi", PhiConfig(**{"max_file_mb": 0.01, **config}))  # type: ignore[arg-type]


def _everything(report: GateReport) -> str:
    """All text a user or the store could ever see from this report."""
    return "\n".join([report.summary, report.log, *(f.model_dump_json() for f in report.findings)])


def _found(report: GateReport) -> set[tuple[str | None, int | None, str]]:
    return {(f.path, f.line, f.rule_id) for f in report.findings if f.level is Level.ERROR}


EXPECTED = {
    ("notes/discharge.txt", 2, "phi/name"), ("notes/discharge.txt", 3, "phi/mrn"),
    ("notes/discharge.txt", 4, "phi/ssn"), ("notes/discharge.txt", 5, "phi/dob"),
    ("notes/discharge.txt", 6, "phi/address"), ("notes/discharge.txt", 6, "phi/zip"),
    ("notes/discharge.txt", 7, "phi/phone"), ("notes/discharge.txt", 8, "phi/email"),
    ("notes/discharge.txt", 9, "phi/account"), ("notes/discharge.txt", 10, "phi/card"),
    ("notes/discharge.txt", 11, "phi/npi"), ("logs/app.log", 1, "phi/ip"),
    ("data/extract.csv", 2, "phi/mrn"), ("data/extract.csv", 2, "phi/name"),
    ("data/extract.csv", 2, "phi/dob"), ("db/seed.sql", 2, "phi/mrn"),
    ("db/seed.sql", 2, "phi/name"), ("db/seed.sql", 2, "phi/dob"),
    ("fixtures/patient.json", 7, "phi/mrn"), ("fixtures/patient.json", 12, "phi/name"),
    ("fixtures/patient.json", 14, "phi/name"), ("fixtures/patient.json", 21, "phi/phone"),
    ("fixtures/patient.json", 24, "phi/dob"), ("fixtures/synthetic/ids.txt", 1, "phi/mrn"),
}


def test_finds_each_kind_where_it_was_seeded_and_no_decoy(git_repo: GitRepo) -> None:
    report = _gate().run(make_ctx(seeded_repo(git_repo).path))
    found = _found(report)
    notebook = {x for x in found if x[0] == "notebooks/analysis.ipynb"}
    assert found - notebook == EXPECTED
    assert not [f for f in report.findings if f.path in ("docs/decoys.md", "tests/test_contact.py")]
    by_rule = {f.rule_id: f for f in report.findings if f.path == "notes/discharge.txt"}
    ssn = by_rule["phi/ssn"]
    assert (ssn.column, ssn.level, ssn.cwe, ssn.tool) == (6, Level.ERROR, "CWE-359", "suture-phi")
    assert ssn.message == "SSN ***-**-7788 committed"
    assert ssn.snippet == "> 4 | SSN: ***-**-7788"
    assert by_rule["phi/email"].message == "email address m***@gmail.com committed"
    assert ssn.fix_hint is not None and "Faker" in ssn.fix_hint and "allow-phi" in ssn.fix_hint
    assert report.summary.startswith("28 possible PHI identifier(s) in 7 file(s)")
    assert report.metrics["phi"] == 28.0


def test_nothing_shown_anywhere_holds_an_identifier(git_repo: GitRepo) -> None:
    report = _gate().run(make_ctx(seeded_repo(git_repo).path))
    shown = _everything(report)
    leaked = [value for value in SECRETS if value in shown]
    assert leaked == []
    assert all(f.snippet is not None for f in report.findings)  # so the executor adds none


def test_notebook_cells_and_outputs_are_scanned_with_file_positions(git_repo: GitRepo) -> None:
    repo = seeded_repo(git_repo)
    report = _gate().run(make_ctx(repo.path))
    cells = {f.rule_id: f for f in report.findings if f.path == "notebooks/analysis.ipynb"}
    assert set(cells) == {"phi/ssn", "phi/name"}
    raw = (repo.path / "notebooks/analysis.ipynb").read_text().splitlines()
    ssn, name = cells["phi/ssn"], cells["phi/name"]
    assert ssn.message.endswith("(cell 1 output)") and name.message.endswith("(cell 1)")
    assert ssn.line and name.line and ssn.column and name.column
    assert raw[ssn.line - 1][ssn.column - 1:].startswith(SSN2)
    assert raw[name.line - 1][name.column - 1:].startswith(f"{FIRST2} {LAST2}")


def test_binary_and_oversized_files_are_skipped_with_notes(git_repo: GitRepo) -> None:
    report = _gate().run(make_ctx(seeded_repo(git_repo).path))
    notes = {f.path: f for f in report.findings if f.level is Level.NOTE}
    assert set(notes) == {"big/huge.log", "scans/ct.dcm"}
    assert "over the 0.01 MB limit" in notes["big/huge.log"].message
    assert "binary .dcm file not scanned" in notes["scans/ct.dcm"].message
    assert all(f.rule_id == "phi/not-scanned" for f in notes.values())
    assert report.metrics["binary_skipped"] == 3.0
    assert report.metrics["oversized_skipped"] == 1.0
    assert "binary, not scanned: 3 (assets/logo.png, data/blob.bin, scans/ct.dcm)" in report.log
    assert "3 binary or oversized file(s) not scanned" not in report.summary
    assert "4 binary or oversized file(s) not scanned" in report.summary

    bigger = _gate(max_file_mb=1).run(make_ctx(git_repo.path))
    assert ("big/huge.log", 401, "phi/ssn") in _found(bigger)


def test_allow_comment_and_allowlist(git_repo: GitRepo) -> None:
    repo = seeded_repo(git_repo)
    plain = _gate().run(make_ctx(repo.path))
    assert "allowed by comment or allowlist: 1" in plain.log  # the `# suture: allow-phi` line

    by_value = _gate(allowlist=[r"SYN-\d+"]).run(make_ctx(repo.path))
    by_path = _gate(allowlist=[r"^fixtures/synthetic/"]).run(make_ctx(repo.path))
    for report in (by_value, by_path):
        assert _found(plain) - _found(report) == {("fixtures/synthetic/ids.txt", 1, "phi/mrn")}
        assert "allowed by comment or allowlist: 2" in report.log


def test_kinds_limit_what_is_reported(git_repo: GitRepo) -> None:
    report = _gate(kinds=["ssn", "npi"]).run(make_ctx(seeded_repo(git_repo).path))
    assert {f.rule_id for f in report.findings if f.level is Level.ERROR} == {"phi/ssn", "phi/npi"}


def test_fingerprint_survives_line_moves_and_differs_per_file(git_repo: GitRepo) -> None:
    git_repo.write("notes/a.txt", f"SSN: {SSN}\n")
    git_repo.commit()
    before = _gate().run(make_ctx(git_repo.path)).findings
    git_repo.write("notes/a.txt", f"Intake\n\nvisit notes follow\nSSN: {SSN}\n")
    git_repo.write("notes/b.txt", f"SSN: {SSN}\n")
    after = {f.path: f for f in _gate().run(make_ctx(git_repo.path)).findings}

    assert after["notes/a.txt"].line == 4
    assert after["notes/a.txt"].fingerprint == before[0].fingerprint
    assert after["notes/b.txt"].fingerprint != before[0].fingerprint
    digest = hashlib.sha256(SSN.replace("-", "").encode()).hexdigest()
    assert digest[:16] not in before[0].fingerprint and SSN not in before[0].fingerprint


def test_config_rejects_unknown_settings_kinds_and_bad_regexes() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        PhiConfig(baseline="x.json")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="ssn"):
        PhiConfig(kinds=["passport"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="not a valid regex"):
        PhiConfig(allowlist=["(unclosed"])
    assert PhiKind.URL not in PhiConfig().kinds and PhiConfig().paths == ["."]


def test_missing_path_is_an_error(git_repo: GitRepo) -> None:
    git_repo.write("notes/a.txt", "nothing\n")
    with pytest.raises(ToolError, match="path 'nope' does not exist") as err:
        _gate(paths=["nope"]).run(make_ctx(git_repo.path))
    assert err.value.hint and "paths:" in err.value.hint


def test_pipeline_reports_never_hold_identifiers_and_baseline_survives_moves(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The registry table is edited elsewhere; register the gate for this run only.
    monkeypatch.setitem(GATES, "phi", PhiGate)
    repo = seeded_repo(git_repo)
    (repo.path / "suture.yml").write_text("gates:\n  phi:\n    max_file_mb: 0.01\n")
    repo.commit("config")
    cfg = config_mod.load(repo.path)
    with open_store(repo.path) as store:
        run = run_pipeline(repo.path, cfg, store, RunOptions(use_cache=False))
        stage = run.stages[0]
        assert stage.status is StageStatus.FAILED
        assert len([f for f in stage.findings if f.level is Level.ERROR]) == 28
        for fmt in Format:
            text = render(run, fmt)
            assert [v for v in SECRETS if v in text] == [], fmt
        stored = store.get_run(run.run_id).model_dump_json()
        assert [v for v in SECRETS if v in stored] == []

        baseline_mod.write(baseline_mod.from_run(run), repo.path / ".suture/baseline.json")
        notes = repo.path / "notes/discharge.txt"
        notes.write_text("Addendum follows.\n\n" + notes.read_text())
        again = run_pipeline(repo.path, config_mod.load(repo.path), store,
                             RunOptions(use_cache=False))
    moved = again.stages[0]
    assert moved.status is StageStatus.PASSED
    assert all(f.baselined for f in moved.findings)
    assert {f.line for f in moved.findings if f.rule_id == "phi/ssn" and f.path ==
            "notes/discharge.txt"} == {6}


@pytest.mark.parametrize(("value", "ok"), [
    (SSN, True), ("000-12-3456", False), ("666-12-3456", False),
    ("912-34-5678", False), ("212-00-7788", False), ("212-41-0000", False),
    ("078-05-1120", False), (SSN.replace("-", ""), True),
])
def test_ssn_rules(value: str, ok: bool) -> None:
    assert valid_ssn(value) is ok


def test_npi_and_card_check_digits() -> None:
    assert valid_npi("1234567893") and not valid_npi("1234567890")  # suture: allow-phi
    assert not valid_npi("3234567893")  # NPIs start with 1 or 2
    assert valid_card(CARD.replace(" ", "")) and not valid_card("4539148803436468")
    assert not valid_card("4111111111111111")  # a documented test number
    assert not valid_card("9539148803436460")  # no issuer uses that prefix


# Lines that hold identifiers carry the allow comment, so the gate run on this repository
# accepts them (the comment is part of the text scanned here, and scan() ignores it).
@pytest.mark.parametrize(("text", "kinds"), [
    ("DOB: 1961-03-04", ["dob"]),  # suture: allow-phi
    ("2024-05-06T10:11:12Z started", []),
    ("Admission date: 02/30/2024", []),  # no such day
    ("born in 1961", []),  # a year alone is not PHI under Safe Harbor
    ('"patientId": "3f2a9c1d-4e5b-4a7f-8e9d-0c1b2a3f4e5d"', []),
    ("name: Sri Lanka", []),  # suture: allow-phi
    (f"Name: {LAST}, {FIRST}  DOB: {DOB}", ["name", "dob"]),
    ("seen on 3/4/2024 for follow-up", ["date"]),  # suture: allow-phi
    ("server 8.8.4.4 and ::ffff:192", []),
    ("PID|1||40718822^^^H^MR||DOE^JANE||19610304|F", ["mrn", "name", "dob"]),  # suture: allow-phi
])
def test_scanner_cases(text: str, kinds: list[str]) -> None:
    assert [h.kind.value for h in scan(text)] == kinds


def test_masks_keep_only_what_is_safe_to_show() -> None:
    assert mask(PhiKind.SSN, SSN) == "***-**-7788"
    assert mask(PhiKind.EMAIL, EMAIL) == "m***@gmail.com"
    assert mask(PhiKind.NAME, f"{FIRST} Q {LAST}") == "M*** Q*** Q***"
    assert mask(PhiKind.DOB, "March 4, 1961") == "***** *, ****"  # suture: allow-phi
    assert mask(PhiKind.ZIP, ZIP) == "021**"
    assert mask(PhiKind.PHONE, PHONE) == "(***) ***-**72"
    assert mask(PhiKind.CARD, CARD) == "****-6467"


def test_a_scan_over_its_timeout_stops_with_an_error(git_repo: GitRepo) -> None:
    for n in range(3):
        git_repo.write(f"notes/{n}.txt", "nothing to see\n")
    with pytest.raises(ToolError, match="took longer than") as err:
        _gate(timeout=1e-9).run(make_ctx(git_repo.path))
    assert err.value.hint and "exclude:" in err.value.hint


def test_a_file_full_of_identifiers_lists_a_few_and_counts_the_rest(git_repo: GitRepo) -> None:
    report = _gate(max_per_file=2, paths=["notes"]).run(make_ctx(seeded_repo(git_repo).path))
    listed = [f for f in report.findings if f.rule_id != "phi/more"]
    more = [f for f in report.findings if f.rule_id == "phi/more"]
    assert [(f.line, f.rule_id) for f in listed] == [(2, "phi/name"), (3, "phi/mrn")]
    assert len(more) == 1 and more[0].level is Level.ERROR and more[0].path == "notes/discharge.txt"
    assert more[0].message.startswith("10 more possible PHI identifier(s) in this file")
    assert report.summary == "12 possible PHI identifier(s) in 1 file(s)"
