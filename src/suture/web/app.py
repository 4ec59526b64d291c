"""The FastAPI application of `suture serve`: one store, pages, the REST API, /metrics."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from suture import __version__
from suture.audit import AuditLog
from suture.audit.events import VerifyResult
from suture.compliance.packs import Pack
from suture.compliance.report import Report
from suture.errors import StoreError
from suture.metrics import Period
from suture.store.runs import RunStore, open_store
from suture.store.tokens import TokenStore
from suture.web import errors
from suture.web.auth import Gate
from suture.web.chain_status import ChainStatus, ChainWatcher
from suture.web.records import Health
from suture.web.service import Dashboard, evaluate_pack

HERE = Path(__file__).parent
# After a failed open, wait this long before trying the database again (not on every request).
REOPEN_AFTER_S = 5.0


@dataclass(frozen=True)
class ServeSettings:
    """Where the dashboard reads from and how it behaves."""

    root: Path
    url: str | None = None
    local_actor: str = "local user"
    chain_interval_s: float = 3600.0
    verify_chain: bool = True


class Backend:
    """Opens the store lazily and again after a failure, so a database that is down (or comes
    back) never takes the process with it."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: RunStore | None = None
        self._dashboard: Dashboard | None = None
        self._gate: Gate | None = None
        self._watcher: ChainWatcher | None = None
        self._failed_at = 0.0
        self._pool: ProcessPoolExecutor | None = None
        self._reports: ProcessPoolExecutor | None = None
        self._error: StoreError | None = None

    def open(self) -> tuple[Dashboard, Gate]:
        """The dashboard and auth gate; StoreError (HTTP 503) while the database is down."""
        with self._lock:
            if self._dashboard is not None and self._gate is not None:
                return self._dashboard, self._gate
            if self._error is not None and time.monotonic() - self._failed_at < REOPEN_AFTER_S:
                raise self._error
            try:
                store = open_store(self.settings.root, self.settings.url)
            except StoreError as exc:
                self._error, self._failed_at = exc, time.monotonic()
                raise
            self._store, self._error = store, None
            watcher = ChainWatcher(lambda: self._audit(store), self.settings.chain_interval_s,
                                   verifier=self._verify_elsewhere)
            if self.settings.verify_chain:
                watcher.start()
            self._watcher = watcher
            self._dashboard = Dashboard(self.settings.root, store, watcher.status,
                                        self._evaluate_elsewhere)
            self._gate = Gate(TokenStore(store), self.settings.local_actor)
            return self._dashboard, self._gate

    def _evaluate_elsewhere(self, loaded: Pack, period: Period,
                            verified: VerifyResult | None) -> Report:
        """Evaluate a compliance pack in a child process (it reads every run of the period)."""
        if self._reports is None:
            self._reports = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        return self._reports.submit(evaluate_in_child, str(self.settings.root),
                                    self.settings.url, loaded, period, verified).result()

    def _verify_elsewhere(self) -> tuple[VerifyResult, int]:
        """Verify in a child process: a million events is ~50 s of CPU that would otherwise
        hold this process's GIL and stall every request."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        return self._pool.submit(verify_store, str(self.settings.root), self.settings.url).result()

    def _audit(self, store: RunStore) -> AuditLog:
        return AuditLog.for_store(store, root=self.settings.root)

    def chain(self) -> ChainStatus | None:
        """The chain watcher's last status (None before the store is open)."""
        return None if self._watcher is None else self._watcher.status()

    def health(self) -> Health:
        """Whether the database answers right now."""
        try:
            dash, _ = self.open()
            dash.store.count_runs()
        except StoreError as exc:
            return Health(status="degraded", database="down", detail=exc.message)
        return Health(status="ok", database=dash.store.backend)

    def close(self) -> None:
        """Stop the chain watcher and release the database."""
        with self._lock:
            if self._watcher is not None:
                self._watcher.stop()
            for pool in (self._pool, self._reports):
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._reports = None
            if self._store is not None:
                self._store.close()
            self._store = self._dashboard = self._gate = self._watcher = None


def verify_store(root: str, url: str | None) -> tuple[VerifyResult, int]:
    """Open the audit log of `root` and verify it (runs in the chain watcher's child process)."""
    with AuditLog.open(root, url) as log:
        return log.verify(), log.head()[0]


def evaluate_in_child(root: str, url: str | None, loaded: Pack, period: Period,
                      verified: VerifyResult | None) -> Report:
    """Evaluate a compliance pack on the store of `root` (runs in a child process)."""
    with open_store(root, url) as store:
        return evaluate_pack(store, Path(root), loaded, period, verified)


def create_app(settings: ServeSettings) -> FastAPI:
    """The dashboard application for one repository's store."""
    from suture.web import api, pages

    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with contextlib.suppress(StoreError):  # a failure is shown on the pages instead
            backend.open()  # early, so the chain verification starts
        yield
        backend.close()

    app = FastAPI(title="suture", version=__version__, lifespan=lifespan,
                  description="Runs, diagnoses, fixes, releases, approvals, audit and "
                  "compliance of one repository, as recorded by suture.",
                  docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.backend = backend
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/healthz", response_model=Health, tags=["meta"])
    def healthz() -> JSONResponse:
        """Liveness and database status (200 even when the database is down)."""
        return JSONResponse(backend.health().model_dump())

    @app.get("/metrics", tags=["meta"], response_class=PlainTextResponse)
    def prometheus(request: Request) -> Response:
        """Prometheus exposition: runs, gates, fixes, deploys, rollbacks, MTTR, audit chain."""
        from suture.web.deps import principal
        from suture.web.exporter import render_metrics

        dash, _ = backend.open()
        principal(request)
        body, content_type = render_metrics(dash.store, backend.chain())
        return Response(body, media_type=content_type)

    return app

