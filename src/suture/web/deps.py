"""Request helpers shared by pages and the API: the dashboard, the principal, CSRF checks."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from suture.errors import UsageError
from suture.metrics import Period, parse_when
from suture.store.tokens import Role
from suture.web.auth import COOKIE, CSRF_HEADER, Gate, Principal
from suture.web.service import Dashboard


def opened(request: Request) -> tuple[Dashboard, Gate]:
    """The dashboard and auth gate of this app (StoreError while the database is down)."""
    dash, gate = request.app.state.backend.open()
    return dash, gate


def principal(request: Request, needed: Role = Role.VIEWER) -> Principal:
    """Who sent the request, checked against the role the route needs."""
    _, gate = opened(request)
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    who = gate.principal(bearer or None, request.cookies.get(COOKIE))
    who.require(needed)
    request.state.principal = who
    return who


def viewer(request: Request) -> Dashboard:
    """The dashboard, for anyone with at least the viewer role."""
    principal(request, Role.VIEWER)
    return opened(request)[0]


def api_writer(request: Request, needed: Role) -> tuple[Dashboard, Principal]:
    """For API writes: a bearer token, or a browser session with the CSRF header."""
    who = principal(request, needed)
    dash, gate = opened(request)
    if not request.headers.get("authorization"):
        gate.check_csrf(who, request.headers.get(CSRF_HEADER))
    return dash, who


def period(since: str, until: str | None) -> Period:
    """The period from `since` (30d, 2w, an ISO date) to `until` (default now)."""
    now = datetime.now(UTC)
    end = parse_when(until, now, "until") if until else now
    start = parse_when(since, end, "since")
    if end < start:
        raise UsageError(f"until {until} is before since {since}", hint="give an end after "
                         "the start")
    return Period(start, end)
