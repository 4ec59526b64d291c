"""The iac gate drives the real checkov offline and ranks its checks with suture's table."""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.errors import ToolError
from suture.gates.iac import IacConfig, IacGate
from suture.gates.iac_severity import DEFAULT_LEVEL, PARSE_ERROR_RULE, SEVERITY
from suture.gates.interface import GateReport
from suture.model import Finding, Level
from tests.fixtures.gates import make_ctx
from tests.fixtures.git import GitRepo, make_repo

TERRAFORM = """\
resource "aws_s3_bucket" "phi" {
  bucket = "patient-records"
  acl    = "public-read"
}

resource "aws_security_group" "ssh" {
  name = "ssh"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_s3_bucket" "website" {
  #checkov:skip=CKV_AWS_20:public marketing site, no PHI
  bucket = "public-assets"
  acl    = "public-read"
}
"""

# Opens RDP to the world: would be an error if it were scanned.
IGNORED_TERRAFORM = """\
resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""

DOCKERFILE = """\
FROM python:3.11-slim
COPY . /app
CMD ["python", "/app/main.py"]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: clinic
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: example/api:1.0
          securityContext:
            privileged: true
"""

WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"""

HELM_TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
{{- if .Values.expose }}
spec: {type: LoadBalancer}
{{- end }}
"""


def _write_infra(repo: GitRepo) -> None:
    repo.write("infra/main.tf", TERRAFORM)
    repo.write("infra/broken/bad.tf", "locals {\n  a = \n")
    repo.write(".gitignore", "scratch/\n")
    repo.write("scratch/open.tf", IGNORED_TERRAFORM)
    repo.write(".venv/lib/module/open.tf", IGNORED_TERRAFORM)
    repo.write("Dockerfile", DOCKERFILE)
    repo.write("k8s/deploy.yaml", DEPLOYMENT)
    repo.write(".github/workflows/ci.yml", WORKFLOW)
    repo.write("chart/templates/service.yaml", HELM_TEMPLATE)
    repo.write("app/main.py", "print('hello')\n")


@pytest.fixture(scope="module")
def infra_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """A repository with bad Terraform, a root Dockerfile and a privileged Deployment."""
    repo = make_repo(tmp_path_factory.mktemp("iac") / "repo")
    _write_infra(repo)
    repo.commit("infra")
    return repo


@pytest.fixture(scope="module")
def report(infra_repo: GitRepo) -> GateReport:
    """The one real checkov run shared by the tests below (checkov takes seconds to start)."""
    config = IacConfig(severity={"CKV_AWS_23": Level.ERROR})
    return IacGate("iac", config).run(make_ctx(infra_repo.path))


def _find(report: GateReport, rule: str, path: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule and f.path == path]


@pytest.mark.slow
def test_exposures_are_errors_with_location(report: GateReport) -> None:
    (public,) = _find(report, "CKV_AWS_20", "infra/main.tf")
    assert public.level == Level.ERROR
    assert (public.line, public.end_line) == (1, 4)
    assert "public READ" in public.message and "aws_s3_bucket.phi" in public.message
    assert public.tool == "checkov"
    assert public.fix_hint and "#checkov:skip=CKV_AWS_20" in public.fix_hint

    (ssh,) = _find(report, "CKV_AWS_24", "infra/main.tf")
    assert (ssh.level, ssh.line) == (Level.ERROR, 6)
    assert "aws_security_group.ssh" in ssh.message

    (privileged,) = _find(report, "CKV_K8S_16", "k8s/deploy.yaml")
    assert privileged.level == Level.ERROR
    assert "Deployment.clinic.api" in privileged.message


@pytest.mark.slow
def test_levels_come_from_the_table_and_the_project_override(report: GateReport) -> None:
    assert _find(report, "CKV_DOCKER_3", "Dockerfile")[0].level == SEVERITY["CKV_DOCKER_3"]
    assert _find(report, "CKV_DOCKER_3", "Dockerfile")[0].level == Level.WARNING  # root user
    assert _find(report, "CKV_DOCKER_2", "Dockerfile")[0].level == Level.NOTE  # no HEALTHCHECK
    assert _find(report, "CKV_K8S_8", "k8s/deploy.yaml")[0].level == Level.NOTE  # no probe
    # Overridden in the gate config: hygiene by default, an error for this project.
    assert SEVERITY["CKV_AWS_23"] == Level.NOTE
    assert _find(report, "CKV_AWS_23", "infra/main.tf")[0].level == Level.ERROR
    unlisted = [f for f in report.findings if f.rule_id not in SEVERITY]
    assert unlisted and all(f.level == DEFAULT_LEVEL for f in unlisted)


@pytest.mark.slow
def test_inline_skip_is_respected(report: GateReport) -> None:
    website = [f for f in report.findings if "aws_s3_bucket.website" in f.message]
    assert website, "the skipped bucket's other checks still run"
    assert "CKV_AWS_20" not in {f.rule_id for f in website}
    assert report.metrics["skipped_checks"] == 1.0


@pytest.mark.slow
def test_unparseable_file_is_reported_not_silently_passed(report: GateReport) -> None:
    (bad,) = [f for f in report.findings if f.rule_id == PARSE_ERROR_RULE]
    assert bad.path == "infra/broken/bad.tf"
    assert bad.level == Level.WARNING
    assert report.metrics["parsing_errors"] == 1.0


@pytest.mark.slow
def test_only_repository_infrastructure_is_scanned(report: GateReport) -> None:
    assert {f.path for f in report.findings} == {
        "infra/main.tf",
        "infra/broken/bad.tf",
        "Dockerfile",
        "k8s/deploy.yaml",
    }
    assert report.metrics["iac_files"] == 4.0
    assert "--skip-download" in report.log
    assert report.summary.endswith("in 4 of 4 file(s)")
    assert report.summary.startswith(f"{len(report.findings)} failed check(s) (")


def test_input_files_pick_infrastructure_only(infra_repo: GitRepo) -> None:
    gate = IacGate("iac", IacConfig())
    rel = {
        p.relative_to(infra_repo.path).as_posix()
        for p in gate.input_files(make_ctx(infra_repo.path))
    }
    assert rel == {"infra/main.tf", "infra/broken/bad.tf", "Dockerfile", "k8s/deploy.yaml"}

    only_docker = IacGate("iac", IacConfig(frameworks=["dockerfile"], exclude=["k8s"]))
    assert [p.name for p in only_docker.input_files(make_ctx(infra_repo.path))] == ["Dockerfile"]


def test_dockerfile_names_follow_checkov(git_repo: GitRepo) -> None:
    for name in ("Dockerfile", "api.Dockerfile", "Dockerfile.prod", "docker/dockerfile"):
        git_repo.write(name, DOCKERFILE)
    git_repo.write(".dockerignore", ".git\n")
    git_repo.write("Dockerfile.dockerignore", ".git\n")
    found = {
        p.relative_to(git_repo.path).as_posix()
        for p in IacGate("iac", IacConfig()).input_files(make_ctx(git_repo.path))
    }
    assert found == {"Dockerfile", "api.Dockerfile", "Dockerfile.prod", "docker/dockerfile"}


def _fake_checkov(tmp_path: Path, body: str) -> str:
    fake = tmp_path / "fake-checkov"
    fake.write_text(f"#!/bin/sh\necho called > {tmp_path / 'called'}\n{body}\n")
    fake.chmod(0o755)
    return str(fake)


def test_no_infrastructure_files_means_no_run(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("app/main.py", "print('hello')\n")
    git_repo.write(".github/workflows/ci.yml", WORKFLOW)
    git_repo.commit()
    exe = _fake_checkov(tmp_path, "exit 3")
    report = IacGate("iac", IacConfig(executable=exe)).run(make_ctx(git_repo.path))
    assert report.findings == ()
    assert report.summary == "no infrastructure files"
    assert not (tmp_path / "called").exists()


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("echo 'Traceback (most recent call last): boom' >&2; exit 2", "exited with code 2"),
        ("echo 'Checkov is scanning...'; exit 1", "not the JSON report"),
        ("echo '[1, 2]'; exit 0", "unexpected shape"),
    ],
)
def test_broken_checkov_is_an_error(
    git_repo: GitRepo, tmp_path: Path, body: str, match: str
) -> None:
    git_repo.write("Dockerfile", DOCKERFILE)
    exe = _fake_checkov(tmp_path, body)
    with pytest.raises(ToolError, match=match):
        IacGate("iac", IacConfig(executable=exe)).run(make_ctx(git_repo.path))
    assert (tmp_path / "called").exists()


def test_missing_checkov_is_an_error(git_repo: GitRepo) -> None:
    git_repo.write("Dockerfile", DOCKERFILE)
    gate = IacGate("iac", IacConfig(executable="tools/no-such/checkov"))
    with pytest.raises(ToolError, match="checkov is not installed") as err:
        gate.run(make_ctx(git_repo.path))
    assert err.value.hint and "executable" in err.value.hint


def test_unknown_framework_is_rejected_by_the_config() -> None:
    with pytest.raises(ValueError, match="frameworks"):
        IacConfig(frameworks=["cloudformation"])


@pytest.mark.slow
def test_tool_version_is_checkov(git_repo: GitRepo) -> None:
    assert (
        IacGate("iac", IacConfig()).tool_version(make_ctx(git_repo.path)).startswith("checkov 3.")
    )
