"""One place turns errors into HTTP answers: JSON under /api, an HTML page elsewhere."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from suture.errors import StoreError, SutureError, UsageError
from suture.web.auth import AuthRequired, Forbidden
from suture.web.service import NotFound

log = logging.getLogger("suture.web")


def status_of(exc: SutureError) -> int:
    """The HTTP status an error of suture's tree maps to."""
    for kind, code in ((NotFound, 404), (AuthRequired, 401), (Forbidden, 403),
                       (StoreError, 503), (UsageError, 400)):
        if isinstance(exc, kind):
            return code
    return 500


def wants_json(request: Request) -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    return (request.url.path.startswith("/api/") or request.url.path == "/metrics"
            or "application/json" in request.headers.get("accept", ""))


def render(request: Request, status: int, message: str, hint: str | None) -> Response:
    """The error as JSON or as the dashboard's error page."""
    if wants_json(request):
        return JSONResponse({"schema_version": 1, "error": message, "hint": hint},
                            status_code=status)
    if status == 401:  # a person in a browser: to the sign-in page, and back afterwards
        return RedirectResponse(f"/login?next={request.url.path}&reason={message}", 303)
    from suture.web.pages import templates

    return templates.TemplateResponse(request, "error.html", {
        "status": status, "message": message, "hint": hint, "csrf": "", "single_user": False,
        "who": getattr(request.state, "principal", None), "path": request.url.path},
        status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(SutureError)
    async def suture_error(request: Request, exc: SutureError) -> Response:
        return render(request, status_of(exc), exc.message, exc.hint)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        hint = "the navigation above lists every page" if exc.status_code == 404 else None
        return render(request, exc.status_code, message, hint)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return render(request, 422, f"{where}: {first.get('msg', 'invalid input')}",
                      "check the parameters against /api/docs")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        from suture.cli.crash import write_log

        path = write_log(exc)
        log.exception("unexpected error on %s", request.url.path)
        return render(request, 500, f"suture crashed: {type(exc).__name__}",
                      f"a log with versions and the traceback is at {path}; please attach it "
                      "to a bug report")


__all__ = ["HTMLResponse", "install", "render", "status_of"]
