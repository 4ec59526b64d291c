"""dependency-bump on real repositories, fed by the real deps gate over the PyPA advisories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from suture.fix.remedies.dependency_bump import DependencyBump
from suture.fix.remedies.interface import FixTarget
from suture.gates.deps import DepsGate
from suture.gates.interface import GateContext
from suture.model import Finding, Level
from suture.pipeline.findings import finish
from tests.fixtures.fix import make_context, make_target, proposals
from tests.fixtures.git import GitRepo
from tests.gates.deps.test_lockfiles import POETRY_LOCK

SUTURE_YML = "gates:\n  deps: {}\n"
JINJA2_IDS = ("PYSEC-2014-8", "PYSEC-2014-82", "PYSEC-2019-217", "PYSEC-2019-220", "PYSEC-2021-66")


def deps_findings(repo: GitRepo, db: Path, **config: object) -> tuple[Finding, ...]:
    """What the deps gate reports for the repository, fingerprinted as a pipeline run does."""
    gate = DepsGate("deps", DepsGate.Config(advisories=str(db), **config))
    ctx = GateContext(root=repo.path, python=sys.executable, state_dir=repo.path / ".suture",
                      timeout=60)
    return finish(repo.path, gate.run(ctx).findings)


def deps_target(repo: GitRepo, db: Path, **config: object) -> FixTarget:
    return make_target("deps", [f for f in deps_findings(repo, db, **config)
                                if f.level is Level.ERROR])


def test_requirements_pins_keep_their_style_and_hashed_pins_are_refused(
    git_repo: GitRepo, pypa_db: Path
) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", """\
        # web app
        Jinja2[i18n] == 2.7.1 ; python_version >= "3.8"  # templates
        requests==2.19.0 \\
            --hash=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        pyyaml===5.3
        click>=8
        """)
    git_repo.commit("pins")
    target = deps_target(git_repo, pypa_db)
    remedy = DependencyBump()
    assert remedy.applies(target)
    found = proposals(remedy, target, git_repo.path, make_context(git_repo.path))

    # jinja2 has five advisories, pyyaml two; requests (hashed) gets no candidate at all
    assert [p.summary for p, _ in found] == [
        "Bump jinja2 2.7.1 -> 2.11.3 (PYSEC-2021-66, PYSEC-2019-217 +3 more)",
        "Bump pyyaml 5.3 -> 5.4 (PYSEC-2021-142, PYSEC-2020-96)",
    ]
    (jinja, jinja_files), (yaml, yaml_files) = found
    assert jinja_files == {"requirements.txt": """\
# web app
Jinja2[i18n] == 2.11.3 ; python_version >= "3.8"  # templates
requests==2.19.0 \\
    --hash=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
pyyaml===5.3
click>=8
"""}
    assert "pyyaml===5.4\n" in (yaml_files["requirements.txt"] or "")
    assert "Jinja2[i18n] == 2.7.1 ;" in (yaml_files["requirements.txt"] or "")
    for advisory in JINJA2_IDS:
        assert advisory in jinja.rationale
    assert "- PYSEC-2021-66 (CVE-2020-28493): fixed in 2.11.3" in jinja.rationale
    assert "2.11.3 is the highest of these minimal fixed versions" in jinja.rationale
    assert jinja.rationale.endswith("fixed release: pip install -r requirements.txt")
    jinja_prints = {f.fingerprint for f in target.stage.new_findings
                    if f.message.startswith("jinja2 ")}
    assert set(jinja.addresses) == jinja_prints and len(jinja_prints) == 5
    assert "requests" not in yaml.rationale

    # the gate agrees: with the candidate applied, jinja2 is no longer reported
    git_repo.write("requirements.txt", jinja_files["requirements.txt"] or "")
    after = {f.message.split(" ")[0] for f in deps_findings(git_repo, pypa_db)
             if f.level is Level.ERROR}
    assert after == {"requests", "pyyaml"}


def test_every_declaring_file_is_bumped_in_one_candidate(git_repo: GitRepo, pypa_db: Path
                                                         ) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", "jinja2==2.7.1\r\nclick==8.1.7\r\n")
    git_repo.write("requirements-dev.txt", "-r requirements.txt\njinja2==2.7.1  # tests too\n")
    git_repo.write("pyproject.toml", """\
        [project]
        name = "clinic"
        version = "1.0"
        dependencies = [
            "jinja2==2.7.1",  # templates
            'click>=8',
        ]

        [project.optional-dependencies]
        docs = ["sphinx>=7", "Jinja2[i18n]==2.7.1; extra == 'docs'"]

        [tool.poetry.dependencies]
        python = "^3.11"
        Jinja2 = "==2.7.1"
        markupsafe = { version = "2.1.5", optional = true }

        [tool.poetry.group.dev.dependencies]
        "jinja2" = { version = "2.7.1", extras = ["i18n"] }
        """)
    git_repo.commit("pins")
    # The gate reads only requirements.txt; the other files pin the same vulnerable version.
    target = deps_target(git_repo, pypa_db, files=["requirements.txt"])
    candidates = DependencyBump().propose(target, git_repo.path, make_context(git_repo.path))
    proposal = next(candidates)
    # read as bytes: the CRLF file keeps its line endings
    crlf = (git_repo.path / "requirements.txt").read_bytes()
    assert crlf == b"jinja2==2.11.3\r\nclick==8.1.7\r\n"
    git_repo.git("reset", "-q", "--hard")
    assert list(candidates) == []
    (again, changed), = proposals(DependencyBump(), target, git_repo.path,
                                  make_context(git_repo.path))
    assert again == proposal
    assert proposal.summary == "Bump jinja2 2.7.1 -> 2.11.3 (PYSEC-2021-66, PYSEC-2019-217 +3 more)"
    assert changed == {
        "requirements.txt": "jinja2==2.11.3\nclick==8.1.7\n",
        "requirements-dev.txt": "-r requirements.txt\njinja2==2.11.3  # tests too\n",
        "pyproject.toml": """\
[project]
name = "clinic"
version = "1.0"
dependencies = [
    "jinja2==2.11.3",  # templates
    'click>=8',
]

[project.optional-dependencies]
docs = ["sphinx>=7", "Jinja2[i18n]==2.11.3; extra == 'docs'"]

[tool.poetry.dependencies]
python = "^3.11"
Jinja2 = "==2.11.3"
markupsafe = { version = "2.1.5", optional = true }

[tool.poetry.group.dev.dependencies]
"jinja2" = { version = "2.11.3", extras = ["i18n"] }
""",
    }
    assert "- pyproject.toml:14: Jinja2 = \"==2.7.1\"  ->  Jinja2 = \"==2.11.3\"" \
        in proposal.rationale


def test_a_pin_from_a_lock_file_is_left_to_the_resolver(git_repo: GitRepo, pypa_db: Path
                                                        ) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", "jinja2==2.7.1\nmarkupsafe==2.1.5\n")
    git_repo.write("poetry.lock", POETRY_LOCK)
    git_repo.commit("locked")
    target = deps_target(git_repo, pypa_db)
    assert {f.path for f in target.stage.new_findings} == {"requirements.txt", "poetry.lock"}
    remedy = DependencyBump()
    assert remedy.applies(target)
    assert proposals(remedy, target, git_repo.path, make_context(git_repo.path)) == []
    assert git_repo.git("status", "--porcelain") == ""


def _finding(message: str, path: str | None, line: int | None) -> Finding:
    rule_id = message.split(" ")[5].rstrip(";")
    return Finding(rule_id=rule_id, level=Level.ERROR, message=message, tool="osv", path=path,
                   line=line, fingerprint=f"fp-{rule_id}")


def test_unfixed_advisories_stale_pins_and_other_stages(git_repo: GitRepo) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", "urllib3==1.24.1\nsix==1.10.0\n")
    git_repo.commit("pins")
    fixed = _finding("urllib3 1.24.1 is vulnerable to GHSA-aaaa-bbbb-cccc (CVE-2099-1); "
                     "fixed in 1.24.2", "requirements.txt", 1)
    unfixed = _finding("urllib3 1.24.1 is vulnerable to GHSA-dddd-eeee-ffff; "
                       "no fixed version published", "requirements.txt", 1)
    stale = _finding("six 1.9.0 is vulnerable to PYSEC-2099-1 (CVE-2099-2); fixed in 1.11.0",
                     "requirements.txt", 2)
    from_env = _finding("idna 2.7 is vulnerable to PYSEC-2099-3; fixed in 3.7", None, None)
    remedy = DependencyBump()
    assert not remedy.applies(make_target("deps", [unfixed]))
    assert not remedy.applies(make_target("lint", [fixed], kind="lint"))
    target = make_target("deps", [fixed, unfixed, stale, from_env])
    assert remedy.applies(target)
    (proposal, changed), = proposals(remedy, target, git_repo.path, make_context(git_repo.path))
    # six 1.9.0 is not what the file pins (edited since the run); idna came from an environment
    assert changed == {"requirements.txt": "urllib3==1.24.2\nsix==1.10.0\n"}
    assert proposal.summary == "Bump urllib3 1.24.1 -> 1.24.2 (GHSA-aaaa-bbbb-cccc, CVE-2099-1)"
    assert "no fixed release is published): GHSA-dddd-eeee-ffff." in proposal.rationale
    assert proposal.addresses == ("fp-GHSA-aaaa-bbbb-cccc",)


@pytest.mark.parametrize(
    "line", ["jinja2==2.7.1 --hash=sha256:00ff", "jinja2==2.7.1 \\\n  --hash=sha256:00ff"]
)
def test_hashes_on_the_pin_refuse_the_bump(git_repo: GitRepo, pypa_db: Path, line: str) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", line + "\n")
    git_repo.commit("hashed")
    target = deps_target(git_repo, pypa_db)
    assert len(target.stage.new_findings) == 5
    assert proposals(DependencyBump(), target, git_repo.path, make_context(git_repo.path)) == []


def test_a_pyproject_pin_reported_by_the_gate(git_repo: GitRepo, pypa_db: Path) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("pyproject.toml", """\
        [project]
        name = "clinic"
        version = "1.0"
        dependencies = ["click>=8", "pyyaml==5.3"]  # runtime
        """)
    git_repo.commit("pins")
    target = deps_target(git_repo, pypa_db)
    assert {(f.path, f.line) for f in target.stage.new_findings} == {("pyproject.toml", 4)}
    (proposal, changed), = proposals(DependencyBump(), target, git_repo.path,
                                     make_context(git_repo.path))
    assert changed == {"pyproject.toml": """\
[project]
name = "clinic"
version = "1.0"
dependencies = ["click>=8", "pyyaml==5.4"]  # runtime
"""}
    assert proposal.rationale.endswith(
        "release: pip install -e . (poetry projects: poetry lock, then poetry install)")


def test_a_pin_outside_the_repository_is_not_edited(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("suture.yml", SUTURE_YML)
    git_repo.write("requirements.txt", "jinja2==2.7.1\n")
    git_repo.commit("pins")
    outside = tmp_path / "shared-requirements.txt"
    outside.write_text("jinja2==2.7.1\n")
    finding = _finding("jinja2 2.7.1 is vulnerable to PYSEC-2014-8 (CVE-2014-1402); fixed in "
                       "2.7.2", str(outside), 1)
    target = make_target("deps", [finding])
    assert proposals(DependencyBump(), target, git_repo.path, make_context(git_repo.path)) == []
    assert outside.read_text() == "jinja2==2.7.1\n"
