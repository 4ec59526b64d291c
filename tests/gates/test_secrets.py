"""The secrets gate drives the real detect-secrets and never lets the secret itself out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suture import proc
from suture.errors import ToolError
from suture.gates.interface import GateContext, GateReport
from suture.gates.secrets import SecretsConfig, SecretsGate
from suture.model import Level
from tests.fixtures.gates import make_ctx
from tests.fixtures.git import GitRepo

# Built from pieces so this test file does not itself look like it leaks credentials.
AWS_KEY = "AKIA" + "Z7QWERTYUIOPASDF"
KEY_BODY = "MIIEowIBAAKCAQEAx4Ue" + "3kZ9pQ8sVn2LrT6wYb1Hc7MdJf0Gq5XuWe8RtPo"
PRIVATE_KEY = (
    "-----BEGIN " + "RSA PRIVATE KEY-----\n" + KEY_BODY + "\n-----END RSA PRIVATE KEY-----\n"
)


def _ctx(repo: GitRepo) -> GateContext:
    return make_ctx(repo.path)


def _gate(**config: object) -> SecretsGate:
    return SecretsGate("secrets", SecretsConfig(**config))


def _everything(report: GateReport) -> str:
    """All text a user or the store could ever see from this report."""
    return "\n".join([report.summary, report.log, *(f.model_dump_json() for f in report.findings)])


def _leaky_repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("app/settings.py", f'DEBUG = False\naws_access_key_id = "{AWS_KEY}"\n')
    git_repo.write("deploy/server.pem", PRIVATE_KEY)
    git_repo.write("README.md", "nothing to see\n")
    git_repo.commit("add config")
    return git_repo


def _make_baseline(repo: GitRepo) -> Path:
    """A baseline written the way a user writes one: `detect-secrets scan > .secrets.baseline`."""
    exe = proc.find_tool("detect-secrets")
    assert exe is not None
    res = proc.run([exe, "scan"], cwd=repo.path)
    assert res.returncode == 0, res.describe()
    path = repo.path / ".secrets.baseline"
    path.write_text(res.stdout)
    return path


def test_reports_committed_secrets_without_revealing_them(git_repo: GitRepo) -> None:
    repo = _leaky_repo(git_repo)
    report = _gate().run(_ctx(repo))

    by_rule = {f.rule_id: f for f in report.findings}
    assert set(by_rule) == {"secrets/aws-access-key", "secrets/private-key"}
    aws = by_rule["secrets/aws-access-key"]
    assert (aws.path, aws.line, aws.level) == ("app/settings.py", 2, Level.ERROR)
    assert aws.message == "Possible AWS Access Key committed"
    assert aws.cwe == "CWE-798"
    assert aws.fix_hint is not None and "rotate the credential" in aws.fix_hint
    assert by_rule["secrets/private-key"].path == "deploy/server.pem"
    assert all(f.fingerprint for f in report.findings)
    assert report.summary == "2 possible secret(s) in 2 file(s)"
    assert report.metrics == {"files_scanned": 3.0, "secrets": 2.0}

    text = _everything(report)
    for secret in (AWS_KEY, AWS_KEY[4:], KEY_BODY, KEY_BODY[:12]):
        assert secret not in text


def test_fingerprint_survives_line_moves_and_differs_per_file(git_repo: GitRepo) -> None:
    repo = _leaky_repo(git_repo)
    before = _gate().run(_ctx(repo)).findings
    repo.write(
        "app/settings.py", f'"""Settings."""\n\nDEBUG = False\naws_access_key_id = "{AWS_KEY}"\n'
    )
    repo.write("app/copy.py", f'key = "{AWS_KEY}"\n')
    after = {f.path: f for f in _gate().run(_ctx(repo)).findings}

    old = next(f for f in before if f.path == "app/settings.py")
    assert after["app/settings.py"].line == 4
    assert after["app/settings.py"].fingerprint == old.fingerprint
    assert after["app/copy.py"].fingerprint != old.fingerprint


def test_baseline_accepts_recorded_secrets_and_is_left_untouched(git_repo: GitRepo) -> None:
    repo = _leaky_repo(git_repo)
    baseline = _make_baseline(repo)
    repo.commit("baseline")
    original = baseline.read_bytes()

    report = _gate().run(_ctx(repo))
    assert report.findings == ()
    assert report.summary == "no secrets in 3 file(s)"
    assert "baseline: .secrets.baseline (2 accepted entries)" in report.log

    # A secret added after the baseline is still reported.
    repo.write("app/new.py", f'ident = "{AWS_KEY}"\n')
    new = _gate().run(_ctx(repo)).findings
    assert [(f.path, f.rule_id) for f in new] == [("app/new.py", "secrets/aws-access-key")]
    assert baseline.read_bytes() == original


def test_baseline_entry_audited_as_real_secret_is_not_accepted(git_repo: GitRepo) -> None:
    repo = _leaky_repo(git_repo)
    baseline = _make_baseline(repo)
    data = json.loads(baseline.read_text())
    for entry in data["results"]["app/settings.py"]:
        entry["is_secret"] = True
    custom = repo.path / "security" / "ds-baseline.json"
    custom.parent.mkdir()
    custom.write_text(json.dumps(data))
    baseline.unlink()

    report = _gate(baseline="security/ds-baseline.json").run(_ctx(repo))
    assert [(f.path, f.rule_id) for f in report.findings] == [
        ("app/settings.py", "secrets/aws-access-key")
    ]


def test_pragma_allowlist_is_respected(git_repo: GitRepo) -> None:
    git_repo.write("app/settings.py", f'example_key = "{AWS_KEY}"  # pragma: allowlist secret\n')
    git_repo.commit()
    assert _gate().run(_ctx(git_repo)).findings == ()


def test_ignored_and_excluded_files_are_not_scanned(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", "local.env\n")
    git_repo.write("local.env", f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    git_repo.write("fixtures/fake.py", f'key = "{AWS_KEY}"\n')
    git_repo.write("app/main.py", "print('hello')\n")
    git_repo.commit()

    assert _gate().run(_ctx(git_repo)).findings != ()
    report = _gate(exclude=["fixtures"]).run(_ctx(git_repo))
    assert report.findings == ()
    assert "local.env" not in report.log
    inputs = {p.name for p in _gate(exclude=["fixtures"]).input_files(_ctx(git_repo))}
    assert inputs == {".gitignore", "main.py"}


def test_untracked_files_are_scanned(git_repo: GitRepo) -> None:
    git_repo.write("app/main.py", "print('hello')\n")
    git_repo.commit()
    git_repo.write("app/scratch.py", f'key = "{AWS_KEY}"\n')
    findings = _gate().run(_ctx(git_repo)).findings
    assert [f.path for f in findings] == ["app/scratch.py"]


def test_missing_configured_baseline_is_an_error(git_repo: GitRepo) -> None:
    git_repo.write("app/main.py", "print('hello')\n")
    with pytest.raises(ToolError, match="baseline nope.json does not exist") as err:
        _gate(baseline="nope.json").run(_ctx(git_repo))
    assert err.value.hint and "detect-secrets scan" in err.value.hint


def test_corrupt_baseline_is_an_error(git_repo: GitRepo) -> None:
    git_repo.write(".secrets.baseline", "{ not json")
    with pytest.raises(ToolError, match="not a valid baseline"):
        _gate().run(_ctx(git_repo))


def test_missing_tool_is_an_error(git_repo: GitRepo) -> None:
    class Uninstalled(SecretsGate):
        tool_name = str(git_repo.path / "no-such-dir" / "detect-secrets-hook")

    git_repo.write("app/main.py", "print('hello')\n")
    gate = Uninstalled("secrets", SecretsConfig())
    with pytest.raises(ToolError, match="not installed"):
        gate.run(_ctx(git_repo))
    with pytest.raises(ToolError, match="not installed"):
        gate.tool_version(_ctx(git_repo))


@pytest.mark.parametrize(
    ("script", "match"),
    [
        ("echo 'this is not json'; exit 1", "could not be read"),
        ("echo 'Traceback: boom' >&2; exit 2", "exited with code 2"),
    ],
)
def test_broken_tool_output_is_an_error(
    git_repo: GitRepo, tmp_path: Path, script: str, match: str
) -> None:
    fake = tmp_path / "fake-detect-secrets-hook"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)

    class Broken(SecretsGate):
        tool_name = str(fake)

    git_repo.write("app/main.py", "print('hello')\n")
    with pytest.raises(ToolError, match=match):
        Broken("secrets", SecretsConfig()).run(_ctx(git_repo))


def test_tool_version_names_detect_secrets(git_repo: GitRepo) -> None:
    version = _gate().tool_version(_ctx(git_repo))
    assert version.startswith("detect-secrets 1.")
