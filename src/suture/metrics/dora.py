"""DORA's four keys over a period, from the releases of `suture deploy` and the git history.

Definitions follow dora.dev ("DORA's software delivery metrics: the four keys") and the
performance levels of the 2024 Accelerate State of DevOps report; docs/metrics.md has the details.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from suture import proc
from suture.deploy.model import Release, ReleaseStatus
from suture.errors import ToolError
from suture.model import Record

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
WEEK_S = 7 * DAY_S
MONTH_S = 30 * DAY_S

# Performance levels of the 2024 Accelerate State of DevOps report (DORA, Google Cloud), table
# "Software delivery performance levels"; also summarised on dora.dev/guides/dora-metrics-four-keys.
# The report gives each cluster's typical value; the cut points below turn them into bands.
# Deployment frequency: elite "on demand (multiple deploys per day)", high "between once per day
# and once per week", medium "between once per week and once per month", low "between once per
# month and once every six months". Values are promoted deployments per day.
FREQUENCY_ELITE_PER_DAY = 1.0  # more than one a day
FREQUENCY_HIGH_PER_DAY = 1 / 7  # at least weekly
FREQUENCY_MEDIUM_PER_DAY = 1 / 30  # at least monthly
# Change lead time: elite "less than one day", high "between one day and one week", medium
# "between one week and one month", low "between one month and six months".
LEAD_ELITE_S = DAY_S
LEAD_HIGH_S = WEEK_S
LEAD_MEDIUM_S = MONTH_S
# Change fail rate: elite 5%, high 20%, medium 10%, low 40%. The 2024 clusters are not monotonic
# (medium fails less often than high), so a rate is banded by the best cluster whose typical
# rate it does not exceed, in ascending order of rate: <=5 elite, <=10 medium, <=20 high, else low.
CFR_CUTS: tuple[tuple[float, str], ...] = ((5.0, "elite"), (10.0, "medium"), (20.0, "high"))
# Failed deployment recovery time: elite "less than one hour", high "less than one day", medium
# "less than one day", low "between one week and one month". High and medium share a value, and
# one day to one week is in no cluster: it counts as medium, a week or more as low.
RECOVERY_ELITE_S = HOUR_S
RECOVERY_HIGH_S = DAY_S
RECOVERY_MEDIUM_S = WEEK_S

HEX = frozenset("0123456789abcdef")

CommitTime = Callable[[str], datetime | None]


class Band(StrEnum):
    """A DORA performance level."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Period:
    """A closed interval of time [since, until], both timezone-aware."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("a metrics period needs timezone-aware datetimes")
        if self.until < self.since:
            raise ValueError("a metrics period must not end before it starts")

    @property
    def days(self) -> float:
        """The period's length in days (at least one second, so rates stay finite)."""
        return max((self.until - self.since).total_seconds(), 1.0) / DAY_S

    def contains(self, at: datetime | None) -> bool:
        """Whether `at` falls within the period."""
        return at is not None and self.since <= at <= self.until


class Key(Record):
    """One of the four keys: its value (None when there is no data, with the reason) and band."""

    key: str
    title: str
    value: float | None
    unit: str
    band: Band | None = None
    count: int = 0
    detail: str = ""
    reason: str | None = None


class Dora(Record):
    """The four keys of one environment (or all) over one period."""

    env: str | None
    since: datetime
    until: datetime
    deployment_frequency: Key
    lead_time: Key
    change_failure_rate: Key
    recovery_time: Key

    @property
    def keys(self) -> tuple[Key, Key, Key, Key]:
        """The four keys in DORA's order."""
        return (self.deployment_frequency, self.lead_time, self.change_failure_rate,
                self.recovery_time)


def moved_traffic(r: Release) -> bool:
    """Whether a release put its version in front of users: promoted, or a step with traffic."""
    return (r.status == ReleaseStatus.PROMOTED or r.first_bad_at is not None
            or any(s.weight > 0 for s in r.steps))


def failed_in_production(r: Release) -> bool:
    """Rolled back, or failed after traffic moved to the new version."""
    return moved_traffic(r) and r.status in (ReleaseStatus.ROLLED_BACK, ReleaseStatus.FAILED)


def recovery_s(r: Release) -> float | None:
    """Seconds from the first bad look to restored service: mttr_s, else the two timestamps."""
    if r.mttr_s is not None:
        return r.mttr_s
    if r.restored_at is not None and r.first_bad_at is not None:
        return max(0.0, (r.restored_at - r.first_bad_at).total_seconds())
    return None


def finished_in(releases: Sequence[Release], period: Period) -> list[Release]:
    """The releases that ended within the period (unfinished ones never count)."""
    return [r for r in releases if r.status not in (ReleaseStatus.RUNNING,
                                                    ReleaseStatus.AWAITING_APPROVAL)
            and period.contains(r.ended_at)]


def deployment_frequency(releases: Sequence[Release], period: Period) -> Key:
    """Promoted releases per day over the period."""
    title, done = "Deployment frequency", finished_in(releases, period)
    if not done:
        return Key(key="deployment_frequency", title=title, value=None, unit="per day",
                   reason="no release ended in the period")
    promoted = [r for r in done if r.status == ReleaseStatus.PROMOTED]
    per_day = len(promoted) / period.days
    if per_day > FREQUENCY_ELITE_PER_DAY:
        band = Band.ELITE
    elif per_day >= FREQUENCY_HIGH_PER_DAY:
        band = Band.HIGH
    elif per_day >= FREQUENCY_MEDIUM_PER_DAY:
        band = Band.MEDIUM
    else:
        band = Band.LOW
    return Key(key="deployment_frequency", title=title, value=per_day, unit="per day", band=band,
               count=len(promoted),
               detail=f"{len(promoted)} promoted in {period.days:g} days "
               f"({per_day * 7:.2f} per week)")


def lead_time(releases: Sequence[Release], period: Period, commit_time: CommitTime) -> Key:
    """Median seconds from the release commit's committer date to its promotion."""
    title = "Lead time for changes"
    promoted = [r for r in finished_in(releases, period) if r.status == ReleaseStatus.PROMOTED]
    if not promoted:
        return Key(key="lead_time", title=title, value=None, unit="s",
                   reason="no promoted release in the period")
    spans: list[float] = []
    unknown: list[str] = []
    for r in promoted:
        committed = commit_time(r.commit)
        if committed is None or r.ended_at is None:
            unknown.append(r.commit[:10])
            continue
        # Clock skew between the committer's machine and the deployer can make this negative.
        spans.append(max(0.0, (r.ended_at - committed).total_seconds()))
    missing = f"; commit date unknown for {', '.join(unknown)}" if unknown else ""
    if not spans:
        return Key(key="lead_time", title=title, value=None, unit="s",
                   reason=f"no commit of the {len(promoted)} promoted releases is in the "
                   f"repository{missing}")
    value = statistics.median(spans)
    band = (Band.ELITE if value < LEAD_ELITE_S else Band.HIGH if value < LEAD_HIGH_S
            else Band.MEDIUM if value < LEAD_MEDIUM_S else Band.LOW)
    return Key(key="lead_time", title=title, value=value, unit="s", band=band, count=len(spans),
               detail=f"median of {len(spans)} promoted releases{missing}")


def change_failure_rate(releases: Sequence[Release], period: Period) -> Key:
    """Percent of deployments that moved traffic and then failed in production."""
    title = "Change failure rate"
    deployed = [r for r in finished_in(releases, period) if moved_traffic(r)]
    if not deployed:
        return Key(key="change_failure_rate", title=title, value=None, unit="%",
                   reason="no deployment moved traffic in the period")
    failed = [r for r in deployed if failed_in_production(r)]
    rate = 100.0 * len(failed) / len(deployed)
    band = next((Band(name) for cut, name in CFR_CUTS if rate <= cut), Band.LOW)
    return Key(key="change_failure_rate", title=title, value=rate, unit="%", band=band,
               count=len(deployed), detail=f"{len(failed)} of {len(deployed)} deployments failed")


def recovery_time(releases: Sequence[Release], period: Period) -> Key:
    """Median seconds to restore service after a deployment failed in production."""
    title = "Failed deployment recovery time"
    failed = [r for r in finished_in(releases, period) if failed_in_production(r)]
    if not failed:
        return Key(key="recovery_time", title=title, value=None, unit="s",
                   reason="no deployment failed in production in the period")
    times = [t for t in (recovery_s(r) for r in failed) if t is not None]
    if not times:
        return Key(key="recovery_time", title=title, value=None, unit="s",
                   reason=f"none of the {len(failed)} failed deployments recorded when "
                   "service was restored")
    value = statistics.median(times)
    band = (Band.ELITE if value < RECOVERY_ELITE_S else Band.HIGH if value < RECOVERY_HIGH_S
            else Band.MEDIUM if value < RECOVERY_MEDIUM_S else Band.LOW)
    return Key(key="recovery_time", title=title, value=value, unit="s", band=band,
               count=len(times), detail=f"median of {len(times)} of {len(failed)} failures")


def git_commit_time(root: Path) -> CommitTime:
    """A lookup of a commit's committer date in the repository at `root` (None if unknown)."""
    cache: dict[str, datetime | None] = {}
    filled = False

    def lookup(sha: str) -> datetime | None:
        nonlocal filled
        if sha not in cache and not filled:
            # One `git log` for every commit beats one `git show` per release: a year of
            # releases names thousands of commits.
            filled = True
            cache.update(_all_commit_times(root))
        if sha not in cache:
            if not sha or any(c not in HEX for c in sha.lower()):
                cache[sha] = None  # not a commit id: never hand it to git as an option
                return None
            try:
                res = proc.run(("git", "show", "-s", "--format=%cI", sha), cwd=root, timeout=30)
            except ToolError:
                res = None
            text = res.stdout.strip() if res is not None and res.returncode == 0 else ""
            try:
                cache[sha] = datetime.fromisoformat(text) if text else None
            except ValueError:
                cache[sha] = None
        return cache[sha]

    return lookup


def _all_commit_times(root: Path) -> dict[str, datetime | None]:
    """Committer dates of every commit reachable from any ref (empty when git cannot say)."""
    try:
        res = proc.run(("git", "log", "--all", "--format=%H %cI"), cwd=root, timeout=120)
    except ToolError:
        return {}
    if res.returncode != 0:
        return {}
    out: dict[str, datetime | None] = {}
    for line in res.stdout.splitlines():
        sha, _, when = line.partition(" ")
        try:
            out[sha] = datetime.fromisoformat(when)
        except ValueError:
            continue
    return out


def compute(releases: Sequence[Release], period: Period, env: str | None,
            commit_time: CommitTime) -> Dora:
    """The four keys of `releases` (already narrowed to one environment or all) over `period`."""
    return Dora(env=env, since=period.since, until=period.until,
                deployment_frequency=deployment_frequency(releases, period),
                lead_time=lead_time(releases, period, commit_time),
                change_failure_rate=change_failure_rate(releases, period),
                recovery_time=recovery_time(releases, period))


def bucket_starts(period: Period, size: timedelta) -> list[datetime]:
    """The starts of consecutive buckets of `size` covering the period, oldest first."""
    starts, at = [period.since], period.since + size
    while at < period.until:
        starts.append(at)
        at += size
    return starts
