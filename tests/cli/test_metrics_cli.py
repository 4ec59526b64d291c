"""`suture metrics` as a user runs it: the four keys and KPIs as a table and as JSON."""

from __future__ import annotations

import json

from suture.store import open_store
from tests.fixtures.cli import run_suture
from tests.fixtures.git import GitRepo
from tests.metrics import scenario, seed

WINDOW = ("--since", "2026-01-01", "--until", "2026-01-15")


def seeded(git_repo: GitRepo) -> None:
    with open_store(git_repo.path) as store:
        seed(store, scenario(git_repo))


def test_json(git_repo: GitRepo) -> None:
    seeded(git_repo)
    res = run_suture(git_repo.path, "metrics", *WINDOW, "--json")
    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    assert data["schema_version"] == 1
    dora = data["dora"]
    assert dora["env"] == "production"
    assert dora["deployment_frequency"]["value"] == 3 / 14
    assert dora["deployment_frequency"]["band"] == "high"
    assert dora["lead_time"]["value"] == 12 * 3600
    assert dora["change_failure_rate"]["value"] == 40.0
    assert dora["recovery_time"]["value"] == 75.0
    kpis = {k["key"]: k for k in data["kpis"]}
    assert kpis["deployment_success_rate"]["value"] == 50.0
    assert kpis["deployment_success_rate"]["met"] is False
    assert kpis["compliance_score"]["detail"].startswith("hipaa: ")
    assert kpis["compliance_score"]["met"] is False  # no gate runs, no audit log: 0 controls
    assert kpis["fix_success_rate"]["value"] is None and kpis["fix_success_rate"]["reason"]


def test_table_and_env(git_repo: GitRepo) -> None:
    seeded(git_repo)
    res = run_suture(git_repo.path, "metrics", *WINDOW)
    assert res.code == 0, res.out
    for text in ("DORA four keys: production", "Deployment frequency", "0.21/day", "high",
                 "12.0h", "40.0%", "low", "1.2m", "elite", "Deployment success rate", "50.0%",
                 ">= 95.0%"):
        assert text in res.stdout, text
    staging = run_suture(git_repo.path, "metrics", *WINDOW, "--env", "staging", "--json")
    assert json.loads(staging.stdout)["dora"]["deployment_frequency"]["value"] == 1 / 14


def test_empty_store_says_no_data(git_repo: GitRepo) -> None:
    git_repo.commit("init")
    res = run_suture(git_repo.path, "metrics")
    assert res.code == 0, res.out
    assert "no data" in res.stdout
    assert "no release ended in the period" in res.stdout


def test_bad_times(git_repo: GitRepo) -> None:
    git_repo.commit("init")
    res = run_suture(git_repo.path, "metrics", "--since", "yesterday")
    assert res.code == 2
    assert "--since 'yesterday' is neither a duration nor a date" in res.out
    res = run_suture(git_repo.path, "metrics", "--since", "2026-02-01", "--until", "2026-01-01")
    assert res.code == 2
    assert "before --since" in res.out
