"""What the dashboard shows and does, as functions over the store: pages and API both call these."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from suture.audit import AuditLog
from suture.audit.events import VerifyResult
from suture.audit.recorder import audit_log
from suture.compliance.packs import Pack
from suture.compliance.report import Report
from suture.deploy import approvals
from suture.deploy.model import Release, ReleaseStatus
from suture.errors import SutureError, UsageError
from suture.metrics import DEFAULT_PACK, Granularity, Period, collect, dora, trend
from suture.model import RunStatus
from suture.store.releases import ReleaseStore
from suture.store.runs import RunStore
from suture.web.chain_status import ChainStatus
from suture.web.records import (
    ApprovalView,
    AuditEventView,
    AuditPage,
    ChainView,
    Decision,
    EventView,
    Overview,
    Page,
    Pending,
    ReleaseDetail,
    RunDetail,
    RunSummary,
    Stamp,
)

log = logging.getLogger("suture.web")
MAX_LIMIT = 200
# Compliance evaluation reads every run of the period and verifies the chain: minutes at scale,
# so a report is reused for this long (the page says when it was computed).
REPORT_TTL_S = 300.0
OVERVIEW_TTL_S = 30.0
MAX_CACHED = 32
# How long a page waits for a report started in the background before saying "being computed".
QUICK_WAIT_S = 2.0
T = TypeVar("T")


class Computing(SutureError):
    """A report is still being computed in the background (HTTP 202)."""


class NotFound(UsageError):
    """The page or record asked for does not exist (HTTP 404)."""


class Dashboard:
    """The open store of one repository, and the caches that keep big stores fast to browse."""

    def __init__(self, root: Path, store: RunStore,
                 chain: Callable[[], ChainStatus] | None = None,
                 evaluate: ReportRunner | None = None) -> None:
        self.root = root
        self.store = store
        self.releases = ReleaseStore(store)
        self._chain = chain
        # Reports read every run of a period: `suture serve` evaluates them in a child process
        # so the CPU they take is not taken from the requests (Python threads share one GIL).
        self._evaluate = evaluate or self.evaluate_here
        # Commit times never change: one lookup per commit for the life of the server.
        self._commit_time = dora.git_commit_time(root)
        self._cache: dict[tuple[object, ...], tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._computing: set[tuple[object, ...]] = set()

    @property
    def log(self) -> AuditLog:
        """The audit log in the same database."""
        return audit_log(self.store, root=self.root)

    # -- overview -------------------------------------------------------------------------------
    def overview(self, period: Period, env: str | None = None,
                 pack: str = DEFAULT_PACK) -> Overview:
        """DORA keys, KPIs and daily (or weekly, past 62 days) trends of one period."""
        key = ("overview", _minute(period.since), _minute(period.until), env, pack)
        return self._cached(key, OVERVIEW_TTL_S, lambda: self._overview(period, env, pack))

    def _overview(self, period: Period, env: str | None, pack: str) -> Overview:
        days = (period.until - period.since).total_seconds() / 86400
        grain = Granularity.DAY if days <= 62 else Granularity.WEEK
        report = self.compliance_report(pack, period, wait=False)
        if report is None:
            report = Computing(f"the {pack} report is being computed in the background",
                               hint="refresh in a minute")
        metrics = collect(self.store, self.root, period, env, self._commit_time, pack=pack,
                          compliance_report=report)
        buckets = trend(self.store, self.root, period, grain, env, self._commit_time)
        return Overview(metrics=metrics, trend=buckets, environments=self.releases.environments(),
                        computed_at=datetime.now(UTC))

    # -- runs -----------------------------------------------------------------------------------
    def runs(self, offset: int = 0, limit: int = 50,
             status: RunStatus | None = None) -> Page[RunSummary]:
        """One page of runs, newest first."""
        limit = _limit(limit)
        found = self.store.list_runs(limit=limit, status=status, offset=max(offset, 0))
        total = self.store.count_runs(status)
        items = [RunSummary(
            run_id=r.run_id, status=r.status, commit=r.commit, branch=r.branch,
            started_at=r.started_at, duration_s=r.duration_s, stages=len(r.stages),
            failed=[s.name for s in r.stages if s.status.value in ("failed", "error")],
            error=r.error) for r in found]
        return _page(items, total, offset, limit)

    def run(self, run_id: str) -> RunDetail:
        """A run with its diagnoses and repair attempts."""
        with _missing("run", run_id):
            found = self.store.get_run(run_id)
        return RunDetail(run=found, diagnoses=self.store.get_diagnoses(found.run_id),
                         fixes=self.store.fix_attempts(found.run_id))

    # -- releases -------------------------------------------------------------------------------
    def release_list(self, offset: int = 0, limit: int = 50, env: str | None = None,
                     status: ReleaseStatus | None = None) -> Page[Release]:
        """One page of releases, newest first."""
        limit = _limit(limit)
        items = self.releases.recent(env=env, limit=limit, status=status, offset=max(offset, 0))
        return _page(items, self.releases.count(env, status), offset, limit)

    def release(self, ref: str) -> ReleaseDetail:
        """A release with its approvals and timed events."""
        with _missing("release", ref):
            found = self.releases.get(ref)
        return ReleaseDetail(
            release=found,
            approvals=self._approvals(found.id),
            events=[EventView(kind=e.kind, at=e.at, payload=e.payload)
                    for e in self.releases.events(found.id)])

    def pending(self) -> list[Pending]:
        """Releases waiting for a person's decision, oldest first, with decisions so far."""
        found = self.releases.recent(limit=MAX_LIMIT, status=ReleaseStatus.AWAITING_APPROVAL)
        return [Pending(release=r, approvals=self._approvals(r.id)) for r in reversed(found)]

    def _approvals(self, release_id: str) -> list[ApprovalView]:
        return [ApprovalView(approver=a.approver, decision=a.decision, comment=a.comment, at=a.at)
                for a in self.releases.approvals(release_id)]

    def decide(self, ref: str, *, approve: bool, approver: str, comment: str = "") -> Decision:
        """Approve or reject a release awaiting approval (audited by `approvals.decide`)."""
        with _missing("release", ref):  # 404 here; "not awaiting approval" below stays a 400
            self.releases.get(ref)
        release, rec = approvals.decide(self.root, self.store, ref, approve=approve,
                                        comment=comment, approver=approver)
        return Decision(release_id=release.id, decision=rec.decision, approver=rec.approver,
                        at=rec.at)

    # -- audit and compliance -------------------------------------------------------------------
    def chain(self) -> ChainView:
        """The last background verification of the audit chain."""
        if self._chain is None:
            return ChainView(ok=None, events=0, checked_at=None, problem="not verified")
        s = self._chain()
        return ChainView(ok=s.ok, events=s.events, checked_at=s.checked_at, problem=s.problem)

    def audit(self, before: int | None = None, limit: int = 50,
              action: str | None = None) -> AuditPage:
        """Audit events older than seq `before` (newest first), and the chain's status."""
        limit = _limit(limit)
        found = self.log.events(actions=(action,) if action else (), limit=limit + 1,
                                before_seq=before)
        more = len(found) > limit
        found = found[:limit]
        return AuditPage(
            events=[AuditEventView(seq=e.seq, time=e.time, actor=e.actor, action=e.action,
                                   subject=e.subject, payload=e.data(), hash=e.hash)
                    for e in found],
            next_before=found[-1].seq if more and found else None, chain=self.chain())

    def packs(self) -> list[str]:
        """The compliance packs this repository can report on."""
        from suture.compliance.packs import available

        return sorted(available(self.root))

    def compliance_report(self, pack: str, period: Period,
                          wait: bool = True) -> Report | SutureError | None:
        """A pack's report over the period (cached); an error when the pack cannot be read.

        Without `wait`, a report not yet computed is started in the background and None (or
        the previous report of that period) is returned at once: on a big store a report reads
        every run of the period, which can take longer than anyone waits for a page.
        """
        from suture.compliance.packs import resolve

        try:
            loaded = resolve(pack, self.root)  # cheap, and a wrong pack should say so at once
        except SutureError as exc:  # PackError: no such pack, or a broken pack file
            return exc
        key = ("compliance", pack, _hour(period.since), _hour(period.until))
        make = lambda: self._report(loaded, period)  # noqa: E731
        return self._cached(key, REPORT_TTL_S, make) if wait else self._soon(key, make)

    def _report(self, loaded: Pack, period: Period) -> Report:
        verified = self._chain().result if self._chain is not None else None
        return self._evaluate(loaded, period, verified)

    def evaluate_here(self, loaded: Pack, period: Period,
                      verified: VerifyResult | None) -> Report:
        """Evaluate a pack in this process (a verification done elsewhere is reused)."""
        return evaluate_pack(self.store, self.root, loaded, period, verified)

    def stamp(self) -> Stamp:
        """A cheap fingerprint of what changed: live pages reload when it moves."""
        runs = self.store.list_runs(limit=1)
        rels = self.releases.recent(limit=1)
        head, _ = self.log.head()
        return Stamp(
            run=f"{runs[0].run_id}:{runs[0].status.value}" if runs else None,
            release=(f"{rels[0].id}:{rels[0].status.value}:{len(rels[0].steps)}"
                     if rels else None),
            pending=self.releases.count(status=ReleaseStatus.AWAITING_APPROVAL),
            audit_seq=head)

    # -- plumbing -------------------------------------------------------------------------------
    def _soon(self, key: tuple[object, ...], make: Callable[[], T]) -> T | None:
        """The cached value of `key` (even stale) and a background refresh when it is due."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            due = (hit is None or now - hit[0] >= REPORT_TTL_S) and key not in self._computing
            if due:
                self._computing.add(key)
        if due:
            def work() -> None:
                try:
                    self._keep(key, time.monotonic(), make())
                except Exception:  # noqa: BLE001 - shown as "not computed"; the page retries
                    log.exception("computing %s failed", key)
                finally:
                    with self._lock:
                        self._computing.discard(key)

            thread = threading.Thread(target=work, name="suture-report", daemon=True)
            thread.start()
            if hit is None:  # a small store's report is ready in a moment: worth the wait
                thread.join(QUICK_WAIT_S)
                with self._lock:
                    hit = self._cache.get(key)
        return None if hit is None else hit[1]  # type: ignore[return-value]

    def _cached(self, key: tuple[object, ...], ttl_s: float, make: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < ttl_s:
            return hit[1]  # type: ignore[return-value]
        value = make()
        self._keep(key, now, value)
        return value

    def _keep(self, key: tuple[object, ...], at: float, value: object) -> None:
        with self._lock:
            if key not in self._cache and len(self._cache) >= MAX_CACHED:
                # Reports are big: drop the oldest rather than grow without bound.
                del self._cache[min(self._cache, key=lambda k: self._cache[k][0])]
            self._cache[key] = (at, value)


ReportRunner = Callable[[Pack, Period, "VerifyResult | None"], Report]


def evaluate_pack(store: RunStore, root: Path, loaded: Pack, period: Period,
                  verified: VerifyResult | None) -> Report:
    """A pack's report over the period; `verified` spares a second pass over the chain."""
    from suture.compliance.evidence import EvidenceContext
    from suture.compliance.report import evaluate

    ctx = EvidenceContext(store=store, log=audit_log(store, root=root), root=root,
                          since=period.since, until=period.until)
    if verified is not None:
        ctx.use_verification(verified)
    return evaluate(loaded, ctx, period.until)


@contextmanager
def _missing(what: str, ref: str) -> Iterator[None]:
    """A lookup's "no such record" (UsageError) as NotFound; a database error passes as is."""
    try:
        yield
    except UsageError as exc:
        raise NotFound(f"no {what} {ref!r}", hint=exc.hint) from None


def _limit(limit: int) -> int:
    if limit < 1:
        raise UsageError(f"limit {limit} is below 1", hint=f"ask for 1 to {MAX_LIMIT} items")
    return min(limit, MAX_LIMIT)


def _page(items: list[T], total: int, offset: int, limit: int) -> Page[T]:
    offset = max(offset, 0)
    nxt = offset + limit if offset + limit < total else None
    return Page[T](items=items, total=total, offset=offset, limit=limit, next_offset=nxt)


def _minute(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


def _hour(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H")
