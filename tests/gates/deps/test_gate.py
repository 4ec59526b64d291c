"""The deps gate end to end on real repositories: findings, summaries, sources and failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from suture.errors import ToolError
from suture.gates.deps import DepsGate
from suture.gates.interface import GateContext
from suture.model import Level
from tests.fixtures.git import GitRepo
from tests.fixtures.osv_server import OSVServer, closed_port_url
from tests.gates.deps.test_lockfiles import POETRY_LOCK

REQUIREMENTS = """\
# web app
Jinja2==2.7.1
requests>=2.0
click==8.1.7
"""


@pytest.fixture(autouse=True)
def no_ambient_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their advisory source explicitly, never from the developer's shell."""
    monkeypatch.delenv("SUTURE_ADVISORY_DB", raising=False)
    monkeypatch.setenv("SUTURE_OSV_URL", closed_port_url())


def gate(**config: object) -> DepsGate:
    return DepsGate("deps", DepsGate.Config(**config))


def context(repo: GitRepo, advisory_db: Path | None = None, python: str = sys.executable):
    return GateContext(
        root=repo.path, python=python, state_dir=repo.path / ".suture", timeout=60,
        advisory_db=advisory_db,
    )


def test_vulnerable_pin_is_reported_where_it_is_pinned(git_repo: GitRepo, pypa_db: Path) -> None:
    git_repo.write("requirements.txt", REQUIREMENTS)
    g = gate(advisories=str(pypa_db))
    report = g.run(context(git_repo))
    errors = [f for f in report.findings if f.level is Level.ERROR]
    assert sorted(f.rule_id for f in errors) == [
        "PYSEC-2014-8", "PYSEC-2014-82", "PYSEC-2019-217", "PYSEC-2019-220", "PYSEC-2021-66",
    ]
    (first,) = [f for f in errors if f.rule_id == "PYSEC-2014-8"]
    assert first.message == (
        "jinja2 2.7.1 is vulnerable to PYSEC-2014-8 (CVE-2014-1402); fixed in 2.7.2"
    )
    assert (first.path, first.line, first.tool) == ("requirements.txt", 2, "osv")
    assert first.fix_hint == "upgrade jinja2 to 2.7.2"
    assert first.help_uri == "http://advisories.mageia.org/MGASA-2014-0028.html"
    (note,) = [f for f in report.findings if f.level is Level.NOTE]
    assert (note.rule_id, note.path, note.line) == ("deps/unpinned", "requirements.txt", 3)
    assert report.summary == (
        "2 pins checked against 664 packages: 1 vulnerable (5 advisories); 1 unpinned"
    )
    assert report.metrics["vulnerable"] == 1.0
    assert g.cacheable
    assert [p.name for p in g.input_files(context(git_repo))] == ["requirements.txt"]


def test_clean_pins_pass(git_repo: GitRepo, pypa_db: Path) -> None:
    git_repo.write("requirements.txt", "jinja2==3.1.4\nclick==8.1.7\n")
    report = gate(advisories=str(pypa_db)).run(context(git_repo))
    assert report.findings == ()
    assert report.summary == "2 pins checked against 664 packages: 0 vulnerable"


def test_database_from_environment_variable_and_from_run_context(
    git_repo: GitRepo, pypa_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("service/poetry.lock", POETRY_LOCK)
    report = gate().run(context(git_repo, advisory_db=pypa_db))
    assert {(f.path, f.line) for f in report.findings} == {("service/poetry.lock", 4)}
    monkeypatch.setenv("SUTURE_ADVISORY_DB", str(pypa_db))
    g = gate()
    assert len(g.run(context(git_repo)).findings) == 5
    assert g.cacheable


def test_relative_database_path_and_explicit_files(git_repo: GitRepo, pypa_db: Path) -> None:
    git_repo.write("deps/prod.txt", "jinja2==2.7.1\n")
    git_repo.write("requirements.txt", "requests==2.19.0\n")  # not listed, so not read
    rel = os.path.relpath(pypa_db, git_repo.path)
    report = gate(advisories=str(rel), files=["deps/prod.txt"]).run(context(git_repo))
    assert {f.path for f in report.findings} == {"deps/prod.txt"}


def test_no_pins_says_so(git_repo: GitRepo) -> None:
    git_repo.write("requirements.txt", "requests>=2.0\n")
    # No advisory source is reachable, but with nothing pinned nothing needs looking up.
    report = gate().run(context(git_repo))
    assert report.summary == "no pinned dependencies found (read requirements.txt)"
    assert [f.rule_id for f in report.findings] == ["deps/unpinned"]
    assert gate(report_unpinned=False).run(context(git_repo)).findings == ()


def test_online_source_when_no_local_database(
    git_repo: GitRepo, osv_server: OSVServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_OSV_URL", osv_server.url)
    git_repo.write("requirements.txt", REQUIREMENTS)
    g = gate()
    report = g.run(context(git_repo))
    assert "PYSEC-2014-8" in {f.rule_id for f in report.findings}
    assert report.summary.startswith("2 pins checked against the OSV API: 1 vulnerable")
    assert not g.cacheable  # online advisories change without the repository changing
    assert "OSV API" in g.tool_version(context(git_repo))


def test_no_network_and_no_database_is_an_error_saying_how_to_fix(git_repo: GitRepo) -> None:
    git_repo.write("requirements.txt", REQUIREMENTS)
    with pytest.raises(ToolError, match="no advisory source reachable") as err:
        gate().run(context(git_repo))
    assert "deps.advisories" in (err.value.hint or "")
    assert "SUTURE_ADVISORY_DB" in (err.value.hint or "")


def test_online_only_failure_and_local_without_database(git_repo: GitRepo) -> None:
    git_repo.write("requirements.txt", REQUIREMENTS)
    with pytest.raises(ToolError, match="could not reach the OSV API"):
        gate(source="online").run(context(git_repo))
    with pytest.raises(ToolError, match="no advisory database is set") as err:
        gate(source="local").run(context(git_repo))
    assert "SUTURE_ADVISORY_DB" in (err.value.hint or "")


def test_broken_database_path_is_an_error_not_a_fallback(git_repo: GitRepo) -> None:
    git_repo.write("requirements.txt", REQUIREMENTS)
    with pytest.raises(ToolError, match="advisory database .*missing-db does not exist"):
        gate(advisories="missing-db").run(context(git_repo))


def test_environment_pins(git_repo: GitRepo, pypa_db: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python3*/site-packages")
    dist = site / "Jinja2-2.7.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.7.1\n")
    g = gate(pins="environment", advisories=str(pypa_db))
    report = g.run(context(git_repo, python=str(venv / "bin" / "python")))
    assert "PYSEC-2014-8" in {f.rule_id for f in report.findings}
    assert all(f.path is None for f in report.findings)
    assert report.summary.endswith("1 vulnerable (5 advisories)")
    assert not g.cacheable
    assert list(g.input_files(context(git_repo))) == []
