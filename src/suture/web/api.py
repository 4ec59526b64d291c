"""The REST API under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/docs)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from suture.deploy.model import Release, ReleaseStatus
from suture.errors import StoreError
from suture.metrics import DEFAULT_PACK, Metrics
from suture.model import RunStatus
from suture.store.tokens import Role
from suture.web.deps import api_writer, period, viewer
from suture.web.records import (
    AuditPage,
    ChainView,
    Decision,
    Overview,
    Page,
    Pending,
    ReleaseDetail,
    RunDetail,
    RunSummary,
)
from suture.web.service import NotFound

router = APIRouter(prefix="/api/v1", tags=["api"])
# How often the event stream looks at the store, and how often it sends a keep-alive comment.
POLL_S = 1.0
KEEPALIVE_S = 15.0

SINCE = Query("30d", description="Start: a span back from now (30d, 12h, 2w) or an ISO date.")
UNTIL = Query(None, description="End (default now), same forms.")
OFFSET = Query(0, ge=0, description="Items to skip (see next_offset).")
LIMIT = Query(50, ge=1, le=200, description="Items per page (at most 200).")


class DecisionBody(BaseModel):
    """An approval's or rejection's optional comment."""

    comment: str = ""


@router.get("/metrics", response_model=Metrics)
def metrics(request: Request, since: str = SINCE, until: str | None = UNTIL,
            env: str | None = None, pack: str = DEFAULT_PACK) -> Metrics:
    """DORA's four keys and the KPIs over a period (the overview page's numbers)."""
    return viewer(request).overview(period(since, until), env, pack).metrics


@router.get("/overview", response_model=Overview)
def overview(request: Request, since: str = SINCE, until: str | None = UNTIL,
             env: str | None = None, pack: str = DEFAULT_PACK) -> Overview:
    """The metrics plus their daily or weekly trend."""
    return viewer(request).overview(period(since, until), env, pack)


@router.get("/runs", response_model=Page[RunSummary])
def runs(request: Request, offset: int = OFFSET, limit: int = LIMIT,
         status: RunStatus | None = None) -> Page[RunSummary]:
    """Runs, newest first."""
    return viewer(request).runs(offset, limit, status)


@router.get("/runs/{run_id}", response_model=RunDetail)
def run(request: Request, run_id: str) -> RunDetail:
    """One run (id or unique prefix) with gates, findings, logs, diagnoses and fixes."""
    return viewer(request).run(run_id)


@router.get("/releases", response_model=Page[Release])
def releases(request: Request, offset: int = OFFSET, limit: int = LIMIT,
             env: str | None = None, status: ReleaseStatus | None = None) -> Page[Release]:
    """Releases, newest first."""
    return viewer(request).release_list(offset, limit, env, status)


@router.get("/releases/{release_id}", response_model=ReleaseDetail)
def release(request: Request, release_id: str) -> ReleaseDetail:
    """One release with its steps, the judge's numbers, approvals and timeline."""
    return viewer(request).release(release_id)


@router.get("/approvals", response_model=list[Pending])
def approvals(request: Request) -> list[Pending]:
    """Releases waiting for a person's decision, oldest first."""
    return viewer(request).pending()


@router.post("/releases/{release_id}/approve", response_model=Decision)
def approve(request: Request, release_id: str, body: DecisionBody | None = None) -> Decision:
    """Approve a release awaiting approval (role approver; not by the commit's author)."""
    dash, who = api_writer(request, Role.APPROVER)
    return dash.decide(release_id, approve=True, approver=who.name,
                       comment=body.comment if body else "")


@router.post("/releases/{release_id}/reject", response_model=Decision)
def reject(request: Request, release_id: str, body: DecisionBody | None = None) -> Decision:
    """Reject a release awaiting approval (role approver); its deploy then fails."""
    dash, who = api_writer(request, Role.APPROVER)
    return dash.decide(release_id, approve=False, approver=who.name,
                       comment=body.comment if body else "")


@router.get("/audit", response_model=AuditPage)
def audit(request: Request, before: int | None = Query(None, ge=1, description="Events "
          "older than this sequence number (see next_before)."), limit: int = LIMIT,
          action: str | None = Query(None, description="An action, or a prefix like run.*")
          ) -> AuditPage:
    """Audit events, newest first, and the last verification of the chain."""
    return viewer(request).audit(before, limit, action)


@router.get("/audit/verify", response_model=ChainView)
def chain(request: Request) -> ChainView:
    """The last background verification of the audit chain."""
    return viewer(request).chain()


@router.get("/compliance")
def packs(request: Request) -> dict[str, object]:
    """The compliance packs that can be reported on."""
    return {"schema_version": 1, "packs": viewer(request).packs()}


@router.get("/compliance/{pack}")
def compliance(request: Request, pack: str, since: str = SINCE,
               until: str | None = UNTIL) -> object:
    """A pack's controls, each with its status, reason and evidence (the report's JSON); 202
    while a report of a big store is still being computed."""
    found = viewer(request).compliance_report(pack, period(since, until), wait=False)
    if found is None:
        return JSONResponse({"schema_version": 1, "status": "computing",
                             "hint": "the report is being computed; ask again in a few seconds"},
                            status_code=202)
    if isinstance(found, Exception):
        raise NotFound(found.message, hint=found.hint)
    return found.model_dump(mode="json")


@router.get("/events", response_class=StreamingResponse)
async def events(request: Request) -> StreamingResponse:
    """Server-Sent Events: a `change` event whenever a run, release, approval or audit event
    is recorded (the pages use it to refresh themselves)."""
    dash = viewer(request)

    async def stream() -> AsyncIterator[str]:
        last: str | None = None
        quiet = 0.0
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            try:
                now = (await run_in_threadpool(dash.stamp)).model_dump_json()
            except StoreError as exc:
                now = json.dumps({"error": exc.message})
            if now != last:
                last, quiet = now, 0.0
                yield f"event: change\ndata: {now}\n\n"
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_S)
            quiet += POLL_S

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
