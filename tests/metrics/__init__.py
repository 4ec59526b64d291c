"""Helpers for the metrics tests: releases with chosen timings, seeded through ReleaseStore."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from suture.deploy.model import Release, ReleaseStatus, Risk, RiskLevel, Step, Strategy
from suture.metrics import Period
from suture.store.releases import ReleaseStore
from suture.store.runs import RunStore
from tests.fixtures.git import GIT_ENV, GitRepo

PERIOD = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 15, tzinfo=UTC))


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1) -> datetime:
    """A UTC time in 2026 (January by default)."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def commit_at(repo: GitRepo, when: datetime, message: str) -> str:
    """Commit with a chosen committer date (GIT_ENV pins one, so this overrides it)."""
    stamp = when.isoformat()
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp,
           "HOME": str(repo.path.parent)}
    repo.write(f"{message}.txt", message)
    subprocess.run(["git", "add", "-A"], cwd=repo.path, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.path, env=env, check=True)
    return repo.git("rev-parse", "HEAD")


@dataclass
class Seq:
    """Hands out release ids."""

    n: int = 0

    def next(self) -> str:
        """A fresh 32-hex-digit id."""
        self.n += 1
        return f"{self.n:032x}"


IDS = Seq()


def release(commit: str, status: ReleaseStatus, ended: datetime | None, *,
            env: str = "production", started: datetime | None = None,
            weights: Sequence[int] = (), mttr_s: float | None = None,
            first_bad_at: datetime | None = None,
            restored_at: datetime | None = None) -> Release:
    """A release record; `weights` become its steps' traffic weights."""
    start = started or (ended - timedelta(minutes=10) if ended else at(1))
    return Release(
        id=IDS.next(), env=env, commit=commit, strategy=Strategy.CANARY, status=status,
        risk=Risk(score=10, level=RiskLevel.LOW), started_at=start, ended_at=ended,
        mttr_s=mttr_s, first_bad_at=first_bad_at, restored_at=restored_at,
        steps=tuple(Step(index=i, weight=w) for i, w in enumerate(weights)),
        author="Test Author", actor="Test Author")


def seed(store: RunStore, releases: Sequence[Release]) -> None:
    """Record each release as `suture deploy` does: begun running, then saved in its end state."""
    rs = ReleaseStore(store)
    for r in releases:
        rs.begin(r.model_copy(update={"status": ReleaseStatus.RUNNING, "ended_at": None,
                                      "steps": ()}), pid=os.getpid())
        if r.status != ReleaseStatus.RUNNING:
            rs.save(r)


def scenario(repo: GitRepo) -> list[Release]:
    """Production in PERIOD: 3 promoted (lead 12h, 48h, 6h), a rollback after 30 s, a failure
    before traffic, a failure with traffic restored in 120 s; plus noise that must not count."""
    c1 = commit_at(repo, at(2), "one")
    c2 = commit_at(repo, at(3), "two")
    c3 = commit_at(repo, at(6), "three")
    c4 = commit_at(repo, at(7), "four")
    P, RB, F = ReleaseStatus.PROMOTED, ReleaseStatus.ROLLED_BACK, ReleaseStatus.FAILED
    return [
        release(c1, P, at(2, 12), weights=(10, 100)),
        release(c2, P, at(5), weights=(100,)),
        release(c3, P, at(6, 6), weights=(10, 50, 100)),
        release(c4, RB, at(7, 10, 1), weights=(10,), mttr_s=30.0, first_bad_at=at(7, 10)),
        release(c4, F, at(8, 12)),  # failed before any traffic moved: not a deployment
        release(c4, F, at(9, 0, 3), weights=(50,), first_bad_at=at(9),
                restored_at=at(9, 0, 2)),
        # Noise: another environment, before the period, and one still running.
        release(c1, P, at(4), env="staging"),
        release(c1, ReleaseStatus.ROLLED_BACK, at(20, month=12).replace(year=2025),
                weights=(10,), mttr_s=5.0, first_bad_at=at(20, month=12).replace(year=2025)),
        release(c4, ReleaseStatus.RUNNING, None, started=at(10)),
    ]
