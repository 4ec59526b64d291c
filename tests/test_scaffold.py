"""`suture init`: detection and the files written."""

from __future__ import annotations

import pytest
import yaml

from suture import scaffold
from suture.config import load
from suture.errors import UsageError


@pytest.fixture
def project(git_repo):
    git_repo.write("pyproject.toml", "[project]\nname = 'x'\nversion = '0'\n")
    git_repo.write("requirements.txt", "fastapi==0.115.0\n")
    git_repo.write("src/x/__init__.py", "")
    git_repo.write("tests/test_x.py", "def test_x():\n    pass\n")
    git_repo.write("infra/main.tf", 'resource "aws_s3_bucket" "b" {}\n')
    git_repo.write("Dockerfile", "FROM python:3.11-slim\n")
    git_repo.write("k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\n")
    git_repo.write("fixtures/patient.json", '{"resourceType": "Patient"}\n')
    return git_repo


def test_detects_what_the_project_has(project):
    d = scaffold.detect(project.path)
    assert d.tests == ("tests",)
    assert d.sources == ("src",)
    assert set(d.dependency_files) == {"pyproject.toml", "requirements.txt"}
    assert d.terraform == ("infra/main.tf",)
    assert d.dockerfiles == ("Dockerfile",)
    assert d.kubernetes == ("k8s/deploy.yaml",)
    assert d.fhir == ("fixtures/patient.json",)


def test_writes_a_config_suture_accepts(project):
    scaffold.init(project.path)
    cfg = load(project.path)
    assert set(cfg.gates) == {"tests", "lint", "sast", "secrets", "deps", "iac", "fhir"}
    assert cfg.gates["tests"].min_coverage == 95
    assert cfg.gates["iac"].frameworks == ["terraform", "dockerfile", "kubernetes"]


def test_project_without_tests_gets_no_tests_gate(git_repo):
    git_repo.write("app.py", "x = 1\n")
    scaffold.init(git_repo.path)
    assert "tests" not in load(git_repo.path).gates


def test_never_overwrites_without_force(project):
    (project.path / "suture.yml").write_text("# mine\n")
    with pytest.raises(UsageError, match="already exists"):
        scaffold.init(project.path)
    assert (project.path / "suture.yml").read_text() == "# mine\n"
    scaffold.init(project.path, force=True)
    assert "gates:" in (project.path / "suture.yml").read_text()


def test_github_workflow_pins_actions_and_limits_permissions(project):
    scaffold.init(project.path, github=True)
    wf = yaml.safe_load((project.path / ".github/workflows/suture.yml").read_text())
    assert wf["permissions"] == {"contents": "read"}
    steps = wf["jobs"]["gates"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses and all("@" in u and len(u.split("@")[1]) == 40 for u in uses)
    runs = " ".join(s.get("run", "") for s in steps)
    assert "suture run --format sarif" in runs and "GITHUB_STEP_SUMMARY" in runs
    assert any("upload-sarif" in u for u in uses)
