"""The local OSV database: the PyPA folder layout, OSV's zip of JSON records, and bad databases."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from suture.errors import ToolError
from suture.gates.deps.osv_local import LocalAdvisoryDB, fingerprint
from suture.gates.deps.records import Pin


def ids(db: LocalAdvisoryDB, name: str, version: str) -> dict[str, str | None]:
    """Advisory id -> minimal fixed version for one pin."""
    pin = Pin(name, version)
    return {m.advisory.id: m.fixed for m in db.lookup([pin]).get(pin, ())}


def as_json(pypa_db: Path, *packages: str) -> dict[str, bytes]:
    """Real PyPA records of some packages, as the JSON files OSV publishes in all.zip."""
    out = {}
    for package in packages:
        for path in sorted((pypa_db / "vulns" / package).glob("*.yaml")):
            data = yaml.safe_load(path.read_text())
            out[f"{path.stem}.json"] = json.dumps(data, default=str).encode()
    return out


def test_pypa_folder_known_vulnerable_and_clean_pins(pypa_db: Path) -> None:
    db = LocalAdvisoryDB(pypa_db)
    assert db.package_count == 664
    jinja = ids(db, "Jinja2", "2.7.1")
    assert jinja["PYSEC-2014-8"] == "2.7.2"
    assert jinja["PYSEC-2019-217"] == "2.10.1"
    assert ids(db, "jinja2", "3.1.4") == {}
    assert ids(db, "not-a-package-anyone-published", "1.0") == {}


def test_pypa_folder_details(pypa_db: Path) -> None:
    db = LocalAdvisoryDB(pypa_db / "vulns")  # the vulns/ folder itself works too
    (advisory,) = [a for a in db.advisories("jinja2") if a.id == "PYSEC-2014-8"]
    assert "CVE-2014-1402" in advisory.aliases
    assert advisory.url == "http://advisories.mageia.org/MGASA-2014-0028.html"
    # The folder is named jw.util; PEP 503 spellings of it find it.
    assert ids(db, "JW_Util", "1.0") == {"PYSEC-2020-341": "2.3"}
    # last_affected with no fix published
    assert ids(db, "py", "1.11.0") == {"PYSEC-2022-42969": None}
    # PYSEC-2023-73 (redis) was withdrawn: it must not be reported
    assert "PYSEC-2023-73" not in ids(db, "redis", "4.5.4")


def test_osv_zip_of_json_records(pypa_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, raw in as_json(pypa_db, "jinja2", "requests").items():
            zf.writestr(name, raw)
    db = LocalAdvisoryDB(archive)
    assert db.package_count == 2
    assert ids(db, "jinja2", "2.7.1")["PYSEC-2014-8"] == "2.7.2"
    assert ids(db, "requests", "2.19.0") == {"PYSEC-2018-28": "2.20.0", "PYSEC-2023-74": "2.31.0"}
    assert ids(db, "requests", "2.32.3") == {}


def test_other_folder_layouts_are_read_whole(pypa_db: Path, tmp_path: Path) -> None:
    # GitHub's layout nests records by year and month: those folders are not package names,
    # and taking them for package names would silently find nothing.
    for name, raw in as_json(pypa_db, "jinja2").items():
        year = name.split("-")[1]
        path = tmp_path / "advisories" / year / "05" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    db = LocalAdvisoryDB(tmp_path / "advisories")
    assert ids(db, "jinja2", "2.7.1")["PYSEC-2014-8"] == "2.7.2"


def test_missing_empty_and_wrong_databases_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="does not exist") as err:
        LocalAdvisoryDB(tmp_path / "nowhere")
    assert "SUTURE_ADVISORY_DB" in (err.value.hint or "")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolError, match="holds no OSV records"):
        LocalAdvisoryDB(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ToolError, match="neither a folder nor a zip"):
        LocalAdvisoryDB(tmp_path / "notes.txt")


def test_broken_record_is_an_error_naming_it(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("PYSEC-2014-8.json", "{not json")
    with pytest.raises(ToolError, match=r"all.zip!PYSEC-2014-8.json is not valid OSV"):
        LocalAdvisoryDB(archive)


def test_fingerprint_changes_when_the_database_changes(tmp_path: Path) -> None:
    folder = tmp_path / "vulns" / "demo"
    folder.mkdir(parents=True)
    before = fingerprint(tmp_path)
    (tmp_path / "vulns" / "other").mkdir()
    assert fingerprint(tmp_path) != before
