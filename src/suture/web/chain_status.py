"""The audit chain's integrity, verified in the background so no request ever waits for it.

Verifying a million events takes seconds, far too long for a page or a Prometheus scrape, so a
`ChainWatcher` re-verifies on a timer and requests read its last result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from suture.audit.events import VerifyResult
from suture.audit.log import AuditLog
from suture.errors import SutureError

DEFAULT_INTERVAL_S = 300.0


@dataclass(frozen=True)
class ChainStatus:
    """The outcome of the newest verification; `ok` None means not verified (yet, or it failed).

    `events` counts the events found intact, `head_seq` is the newest sequence number seen,
    `problem` says what is wrong with the chain, or why it could not be checked; `result` is the
    full verification (for compliance evidence), None when none ran to a verdict.
    """

    ok: bool | None
    events: int
    head_seq: int | None
    checked_at: datetime | None
    problem: str | None
    duration_s: float
    result: VerifyResult | None = None

    @property
    def verified(self) -> bool:
        """Whether a verification ran to a verdict (intact or tampered)."""
        return self.ok is not None


NOT_CHECKED = ChainStatus(ok=None, events=0, head_seq=None, checked_at=None,
                          problem="the audit chain has not been verified yet", duration_s=0.0)


class ChainWatcher:
    """Verifies the audit chain now and every `interval_s` in a daemon thread; thread-safe."""

    def __init__(self, audit_factory: Callable[[], AuditLog],
                 interval_s: float = DEFAULT_INTERVAL_S,
                 verifier: Callable[[], tuple[VerifyResult, int]] | None = None) -> None:
        if interval_s <= 0:
            raise ValueError(f"the verify interval must be positive, not {interval_s}")
        self._factory = audit_factory
        # (result, head seq); another process's verification keeps this one's GIL free.
        self._verifier = verifier or (lambda: verify_with(audit_factory))
        self._interval_s = interval_s
        self._status = NOT_CHECKED
        self._verify_lock = threading.Lock()  # one verification at a time: each costs seconds
        self._stopping = threading.Event()  # replaced on each start(): one per thread
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> ChainStatus:
        """The newest result, at once; NOT_CHECKED (ok None) before the first verification ends."""
        return self._status

    def start(self) -> None:
        """Verify now and then every interval in a daemon thread; a second call does nothing."""
        if self.running:
            return
        # A fresh event, so a thread that outlived stop()'s timeout still sees its own stop.
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._stopping,),
                                        name="suture-chain-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the thread, waiting up to `timeout_s` for a verification in progress."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def refresh(self) -> ChainStatus:
        """Verify now, in this thread, and return (and keep) the result."""
        with self._verify_lock:
            self._status = _check(self._verifier)
        return self._status

    def _loop(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            self.refresh()  # never raises: a failure to verify becomes the status
            stopping.wait(self._interval_s)


def verify_with(factory: Callable[[], AuditLog]) -> tuple[VerifyResult, int]:
    """Verify the log `factory` opens, in this process; the result and the head's seq."""
    log = factory()
    try:
        return log.verify(), log.head()[0]
    finally:
        log.close()


def _check(verifier: Callable[[], tuple[VerifyResult, int]]) -> ChainStatus:
    """One verification; a log that cannot be opened or read gives ok None and the reason."""
    started, clock = datetime.now(UTC), time.perf_counter()
    try:
        result, head = verifier()
    except Exception as exc:  # noqa: BLE001 - any failure to check is a status, not a crash
        return _failed(exc, started, time.perf_counter() - clock)
    last = result.last_seq or 0
    return ChainStatus(
        ok=result.ok, events=result.events, head_seq=max(head, last),
        checked_at=started, problem=None if result.problem is None else result.problem.detail,
        duration_s=time.perf_counter() - clock, result=result,
    )


def _failed(exc: Exception, at: datetime, duration_s: float) -> ChainStatus:
    if isinstance(exc, SutureError):
        text = exc.message + (f" ({exc.hint})" if exc.hint else "")
    else:
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return ChainStatus(ok=None, events=0, head_seq=None, checked_at=at,
                       problem=f"could not verify the audit chain: {text}", duration_s=duration_s)
