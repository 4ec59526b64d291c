"""DORA's four keys from a real store, real git commit dates, and the 2024 performance bands."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from suture.deploy.model import ReleaseStatus
from suture.errors import UsageError
from suture.metrics import Band, Granularity, Period, collect, dora, parse_when, trend
from suture.store import open_store
from tests.fixtures.git import GitRepo
from tests.metrics import PERIOD, at, commit_at, release, scenario, seed

HOUR = 3600.0


def test_four_keys_of_production(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    seed(store, scenario(git_repo))
    d = collect(store, git_repo.path, PERIOD).dora
    assert d.env == "production"  # the default when production has releases
    # 3 promoted in 14 days: 0.214/day, at least weekly but not daily -> high.
    assert d.deployment_frequency.value == pytest.approx(3 / 14)
    assert d.deployment_frequency.band == Band.HIGH
    assert d.deployment_frequency.count == 3
    # Committer date -> promotion: 12 h, 48 h, 6 h; median 12 h < 1 day -> elite.
    assert d.lead_time.value == pytest.approx(12 * HOUR)
    assert d.lead_time.band == Band.ELITE
    # 5 deployments moved traffic (3 promoted, the rollback, the late failure); 2 failed: 40%.
    assert d.change_failure_rate.value == pytest.approx(40.0)
    assert d.change_failure_rate.count == 5
    assert d.change_failure_rate.band == Band.LOW
    # mttr_s 30 s, and restored_at - first_bad_at = 120 s: median 75 s < 1 h -> elite.
    assert d.recovery_time.value == pytest.approx(75.0)
    assert d.recovery_time.band == Band.ELITE


def test_env_option_and_all_environments(git_repo: GitRepo, tmp_path: Path) -> None:
    store = open_store(git_repo.path)
    seed(store, scenario(git_repo))
    staging = collect(store, git_repo.path, PERIOD, env="staging").dora
    assert staging.env == "staging"
    assert staging.deployment_frequency.count == 1
    assert staging.change_failure_rate.value == 0.0
    assert staging.change_failure_rate.band == Band.ELITE
    # Without production releases the default is every environment.
    other = open_store(tmp_path / "other")
    seed(other, [release("ab" * 20, ReleaseStatus.PROMOTED, at(3), env="qa"),
                 release("cd" * 20, ReleaseStatus.PROMOTED, at(4), env="staging")])
    assert collect(other, git_repo.path, PERIOD).dora.env is None
    assert collect(other, git_repo.path, PERIOD).dora.deployment_frequency.count == 2


def test_no_data_is_none_with_a_reason(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    d = collect(store, git_repo.path, PERIOD).dora
    for key in d.keys:
        assert key.value is None and key.band is None
        assert key.reason
    assert "no release ended" in (d.deployment_frequency.reason or "")


def test_unknown_commit_is_left_out_of_lead_time(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    known = commit_at(git_repo, at(1), "known")
    seed(store, [release(known, ReleaseStatus.PROMOTED, at(11)),  # 10 days -> medium
                 release("f" * 40, ReleaseStatus.PROMOTED, at(12))])
    lead = collect(store, git_repo.path, PERIOD).dora.lead_time
    assert lead.value == pytest.approx(10 * 24 * HOUR)
    assert lead.band == Band.MEDIUM
    assert lead.count == 1 and "ffffffffff" in lead.detail
    only_unknown = dora.lead_time([release("e" * 40, ReleaseStatus.PROMOTED, at(12))], PERIOD,
                                  dora.git_commit_time(git_repo.path))
    assert only_unknown.value is None and "eeeeeeeeee" in (only_unknown.reason or "")
    # A ref that looks like an option never reaches git.
    assert dora.git_commit_time(git_repo.path)("--help") is None


@pytest.mark.parametrize(("promoted", "days", "band"), [
    (15, 14, Band.ELITE), (14, 14, Band.HIGH), (2, 14, Band.HIGH), (1, 14, Band.MEDIUM),
    (1, 30, Band.MEDIUM), (1, 31, Band.LOW), (0, 14, Band.LOW),
])
def test_frequency_bands(promoted: int, days: int, band: Band) -> None:
    period = Period(PERIOD.since, PERIOD.since + timedelta(days=days))
    rs = [release("a" * 40, ReleaseStatus.PROMOTED, at(1, 1)) for _ in range(promoted)]
    rs.append(release("a" * 40, ReleaseStatus.FAILED, at(1, 2)))  # so the period has data
    assert dora.deployment_frequency(rs, period).band == band


@pytest.mark.parametrize(("failed", "total", "band"), [
    (1, 20, Band.ELITE), (1, 10, Band.MEDIUM), (3, 20, Band.HIGH), (1, 5, Band.HIGH),
    (1, 4, Band.LOW),
])
def test_change_failure_bands_follow_the_2024_clusters(failed: int, total: int,
                                                        band: Band) -> None:
    rs = [release("a" * 40, ReleaseStatus.ROLLED_BACK, at(2), weights=(10,))
          for _ in range(failed)]
    rs += [release("a" * 40, ReleaseStatus.PROMOTED, at(2)) for _ in range(total - failed)]
    key = dora.change_failure_rate(rs, PERIOD)
    assert key.value == pytest.approx(100 * failed / total)
    assert key.band == band


@pytest.mark.parametrize(("seconds", "band"), [
    (3599, Band.ELITE), (3600, Band.HIGH), (86399, Band.HIGH), (86400, Band.MEDIUM),
    (7 * 86400, Band.LOW),
])
def test_recovery_bands(seconds: float, band: Band) -> None:
    r = release("a" * 40, ReleaseStatus.ROLLED_BACK, at(2), weights=(10,), mttr_s=seconds)
    assert dora.recovery_time([r], PERIOD).band == band


def test_weekly_trend(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    seed(store, scenario(git_repo))
    weeks = trend(store, git_repo.path, PERIOD, Granularity.WEEK)
    assert [b.start for b in weeks] == [at(1), at(8)]
    assert weeks[-1].end == PERIOD.until
    first, second = weeks[0].dora, weeks[1].dora
    assert first.deployment_frequency.count == 3
    assert first.change_failure_rate.value == pytest.approx(25.0)  # the rollback of 4
    assert second.deployment_frequency.value == 0.0  # two failures, nothing promoted
    assert second.change_failure_rate.value == pytest.approx(100.0)
    assert second.recovery_time.value == pytest.approx(120.0)
    days = trend(store, git_repo.path, PERIOD, Granularity.DAY)
    assert len(days) == 14
    assert sum(b.dora.deployment_frequency.count for b in days) == 3


def test_parse_when() -> None:
    now = at(15)
    assert parse_when("30d", now) == now - timedelta(days=30)
    assert parse_when("2w", now) == at(1)
    assert parse_when("12h", now) == at(14, 12)
    assert parse_when("2026-01-03", now) == at(3)
    with pytest.raises(UsageError, match="--until 'yesterday' is neither"):
        parse_when("yesterday", now, "--until")
