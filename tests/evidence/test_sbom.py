"""CycloneDX SBOMs from the real cyclonedx-py: a real venv, requirements files, failures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from suture.audit import audit_log
from suture.errors import ToolError, UsageError
from suture.evidence import sbom
from suture.store import open_store
from tests.evidence.conftest import installed_version

HASH = "a" * 64


def test_environment_sbom_lists_the_venvs_packages(small_venv: Path) -> None:
    doc = sbom.generate(python=str(small_venv))
    pip_version = installed_version(small_venv, "pip")
    assert doc.document["bomFormat"] == "CycloneDX" and doc.spec_version == "1.6"
    by_name = {c.name: c for c in doc.components}
    assert by_name["pip"] == sbom.Component("pip", pip_version, f"pkg:pypi/pip@{pip_version}")
    # Only what that interpreter has installed: none of suture's own dependencies.
    assert "pydantic" not in by_name and "typer" not in by_name
    assert json.loads(doc.to_text()) == doc.document


def test_requirements_sbom_has_every_pinned_requirement(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("# app deps\n--index-url https://pypi.org/simple\nrequests==2.31.0\n"
                   "attrs>=23.1  # loose\n"
                   f"flask==3.0.0 \\\n    --hash=sha256:{HASH}\n\n")
    doc = sbom.generate(requirements=req, cwd=tmp_path)
    got = {(c.name, c.version, c.purl) for c in doc.components}
    assert got == {("requests", "2.31.0", "pkg:pypi/requests@2.31.0"),
                   ("attrs", None, "pkg:pypi/attrs"),
                   ("flask", "3.0.0", "pkg:pypi/flask@3.0.0")}
    assert sbom.requirement_lines(req) == [
        (3, "requests==2.31.0"), (4, "attrs>=23.1"),
        (5, f"flask==3.0.0      --hash=sha256:{HASH}")]


def test_a_line_cyclonedx_skips_is_an_error_naming_it(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("requests==2.31.0\nthis is not ==== a requirement[[\n")
    with pytest.raises(UsageError) as err:
        sbom.generate(requirements=req, cwd=tmp_path)
    assert "1 requirement line(s) are not valid" in err.value.message
    assert "line 2: 'this is not ==== a requirement[['" in err.value.message


def test_missing_requirements_file_and_missing_tool_and_broken_python(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the requirements file"):
        sbom.generate(requirements=tmp_path / "nope.txt")
    with pytest.raises(ToolError, match="not installed or not on PATH"):
        sbom.generate(python="python3", tool=str(tmp_path / "bin" / "cyclonedx-py"))
    with pytest.raises(ToolError) as err:
        sbom.generate(python=str(tmp_path / "no-env" / "python"))
    assert "cyclonedx-py could not make the SBOM (exit 1)" in err.value.message
    assert "No such file or directory" in err.value.message
    assert err.value.hint and "environment --sv 1.6" in err.value.hint


def test_annotated_sbom_is_stored_and_audited(git_repo, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("requests==2.31.0\n")
    doc = sbom.annotate(sbom.generate(requirements=req), run_id="r1" * 16, commit="c" * 40,
                        suture_version="9.9")
    props = {p["name"]: p["value"] for p in doc.document["metadata"]["properties"]}
    assert props == {"suture:run_id": "r1" * 16, "suture:commit": "c" * 40,
                     "suture:version": "9.9"}

    store = open_store(git_repo.path)
    kept = sbom.store(git_repo.path, store, doc, "r1" * 16)
    assert kept.path == git_repo.path / ".suture" / "evidence" / ("r1" * 16) / "sbom.cdx.json"
    text = kept.path.read_text()
    assert json.loads(text)["components"][0]["purl"] == "pkg:pypi/requests@2.31.0"
    assert kept.sha256 == hashlib.sha256(text.encode()).hexdigest()
    events = audit_log(store, root=git_repo.path).events(actions=["sbom.created"])
    assert [(e.subject, e.data()["sha256"], e.data()["components"]) for e in events] == [
        ("r1" * 16, kept.sha256, 1)]
