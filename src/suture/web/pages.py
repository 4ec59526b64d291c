"""The dashboard's HTML pages: server-rendered, usable without JavaScript."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from suture.deploy.model import ReleaseStatus
from suture.errors import SutureError
from suture.metrics import DEFAULT_PACK
from suture.model import RunStatus
from suture.store.tokens import Role
from suture.web import views
from suture.web.auth import COOKIE, CSRF_FIELD, AuthRequired
from suture.web.deps import opened, period, principal
from suture.web.service import NotFound

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
views.install_filters(templates.env)
# Logs longer than this are cut on the page (the tail is kept), with a link to the whole file.
LOG_PAGE_CHARS = 64_000


def page(request: Request, name: str, code: int = 200, **ctx: object) -> HTMLResponse:
    """Render a template with who is signed in and their CSRF token."""
    who = getattr(request.state, "principal", None)
    _, gate = opened(request)
    fields: dict[str, object] = {"who": who, "csrf": gate.csrf_token(who) if who else "",
                                  "single_user": gate.single_user(), "path": request.url.path}
    return templates.TemplateResponse(request, name, {**fields, **ctx}, status_code=code)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, since: str = "30d", until: str | None = None,
             env: str | None = None, pack: str = DEFAULT_PACK) -> HTMLResponse:
    """DORA's four keys, the KPIs against their targets, and their trends."""
    principal(request)
    dash, _ = opened(request)
    found = dash.overview(period(since, until), env or None, pack)
    return page(request, "overview.html", o=found, since=since, env=env or "", pack=pack,
                packs=dash.packs(), charts=views.trend_charts(found))


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, status: RunStatus | None = None,
         offset: int = Query(0, ge=0)) -> HTMLResponse:
    """Runs, newest first, filterable by status."""
    principal(request)
    listed = opened(request)[0].runs(offset, 50, status)
    return page(request, "runs.html", p=listed, status=status.value if status else "",
                statuses=[s.value for s in RunStatus])


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: str) -> HTMLResponse:
    """A run: gates, findings with code, logs, the 5-whys chains and the fixes with diffs."""
    principal(request)
    dash, _ = opened(request)
    detail = dash.run(run_id)
    return page(request, "run.html", d=detail, r=detail.run, limit=LOG_PAGE_CHARS,
                context=views.contexts(dash.root, detail.run))


@router.get("/runs/{run_id}/stages/{stage}/log", response_class=PlainTextResponse)
def stage_log(request: Request, run_id: str, stage: str) -> Response:
    """A gate's whole log as a text file."""
    principal(request)
    found = opened(request)[0].run(run_id).run
    for s in found.stages:
        if s.name == stage:
            return PlainTextResponse(s.log, headers={
                "Content-Disposition": f'attachment; filename="{found.run_id[:12]}-{stage}.log"'})
    raise NotFound(f"run {found.run_id[:12]} has no gate {stage!r}")


@router.get("/releases", response_class=HTMLResponse)
def releases(request: Request, env: str | None = None, status: ReleaseStatus | None = None,
             offset: int = Query(0, ge=0)) -> HTMLResponse:
    """Releases, newest first."""
    principal(request)
    dash, _ = opened(request)
    listed = dash.release_list(offset, 50, env or None, status)
    return page(request, "releases.html", p=listed, env=env or "",
                status=status.value if status else "", envs=dash.releases.environments(),
                statuses=[s.value for s in ReleaseStatus])


@router.get("/releases/{release_id}", response_class=HTMLResponse)
def release(request: Request, release_id: str) -> HTMLResponse:
    """A release: risk reasons, canary steps with the judge's numbers and charts, timeline."""
    principal(request)
    detail = opened(request)[0].release(release_id)
    return page(request, "release.html", d=detail, rel=detail.release,
                charts=views.step_charts(detail.release))


@router.post("/releases/{release_id}/decision")
def decide(request: Request, release_id: str, decision: str = Form(...),
           comment: str = Form(""), csrf: str = Form("", alias=CSRF_FIELD)) -> Response:
    """The approve / reject buttons (role approver, CSRF-checked, audited)."""
    who = principal(request, Role.APPROVER)
    dash, gate = opened(request)
    gate.check_csrf(who, csrf)
    if decision not in ("approve", "reject"):
        raise NotFound(f"no decision {decision!r}", hint="approve or reject")
    try:
        done = dash.decide(release_id, approve=decision == "approve", approver=who.name,
                           comment=comment)
    except NotFound:
        raise
    except SutureError as exc:
        return page(request, "approvals.html", code=409, pending=dash.pending(), path="/approvals",
                    flash=exc.message, flash_hint=exc.hint)
    return RedirectResponse(f"/approvals?done={quote(done.decision)}&release="
                            f"{quote(done.release_id[:12])}", status_code=303)


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request, done: str | None = None,
              release: str | None = None) -> HTMLResponse:
    """Releases waiting for approval, each with approve and reject buttons."""
    principal(request)
    flash = f"Release {release} {done}." if done and release else None
    return page(request, "approvals.html", pending=opened(request)[0].pending(), flash=flash,
                flash_hint=None)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, before: int | None = Query(None, ge=1),
          action: str | None = None) -> HTMLResponse:
    """Recent audit events and the chain's verification status."""
    principal(request)
    found = opened(request)[0].audit(before, 50, action or None)
    return page(request, "audit.html", a=found, action=action or "")


@router.get("/compliance", response_class=HTMLResponse)
def compliance(request: Request, pack: str = DEFAULT_PACK, since: str = "30d",
               until: str | None = None) -> HTMLResponse:
    """A pack's controls with status, reason and evidence links."""
    principal(request)
    dash, _ = opened(request)
    found = dash.compliance_report(pack, period(since, until), wait=False)
    if isinstance(found, SutureError):
        raise NotFound(found.message, hint=found.hint)
    return page(request, "compliance.html", code=200 if found else 202, rep=found, pack=pack,
                packs=dash.packs(), since=since, refresh=5 if found is None else None)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The API's endpoints, from its OpenAPI description (no third-party UI, no CDN)."""
    principal(request)
    spec = request.app.openapi()
    routes = [(method.upper(), path, (op.get("description") or op.get("summary") or "")
               .split("\n\n")[0])
              for path, ops in spec.get("paths", {}).items() for method, op in ops.items()]
    return page(request, "api.html", routes=routes)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", reason: str | None = None) -> HTMLResponse:
    """The sign-in form: paste an API token."""
    return page(request, "login.html", next=_local(next), reason=reason)


@router.post("/login")
def login(request: Request, token: str = Form(...), next: str = Form("/")) -> Response:
    """Check the token and keep it in an HttpOnly, SameSite=Strict cookie."""
    _, gate = opened(request)
    try:
        gate.principal(token.strip(), None)
    except AuthRequired as exc:
        return page(request, "login.html", code=401, next=_local(next), reason=exc.message)
    resp = RedirectResponse(_local(next), status_code=303)
    resp.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict",
                    secure=request.url.scheme == "https", max_age=12 * 3600)
    return resp


@router.post("/logout")
def logout() -> Response:
    """Forget the sign-in cookie."""
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE)
    return resp


def _local(target: str) -> str:
    """Only same-site paths after sign-in: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
