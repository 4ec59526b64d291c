"""`suture serve`: the web dashboard and REST API over the run database."""

from __future__ import annotations

from pathlib import Path

import typer

from suture.cli.common import ROOT_OPTION, err_console, resolve_root
from suture.errors import StoreError

DEFAULT_PORT = 8400


def register(app: typer.Typer) -> None:
    """Add the `serve` command."""
    app.command(
        "serve",
        help="The web dashboard (DORA metrics and KPIs, runs with their whys and fixes, "
        "releases, approvals, audit, compliance), the REST API under /api/v1 and a Prometheus "
        "/metrics endpoint.\n\n"
        "On 127.0.0.1 with no API token it is single-user: you act as yourself with every role. "
        "Any other address needs tokens (suture token create).\n\nExamples:\n\n"
        "  suture serve\n\n"
        "  SUTURE_DATABASE_URL=postgresql+psycopg://suture@db/suture suture serve --host 0.0.0.0",
    )(serve_command)


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535, help="Port to listen on."),
    database_url: str | None = typer.Option(None, "--database-url", help="Database (default: "
                                            "$SUTURE_DATABASE_URL, else .suture/suture.db)."),
    chain_every: float = typer.Option(3600.0, "--verify-every", min=5.0, help="Seconds between "
                                      "background verifications of the audit chain (each reads "
                                      "every event: ~50 s per million)."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Serve the dashboard until interrupted."""
    import uvicorn

    from suture.deploy.approvals import who
    from suture.store.runs import open_store
    from suture.store.tokens import TokenStore
    from suture.web.app import ServeSettings, create_app
    from suture.web.auth import check_bind, is_loopback

    path = resolve_root(root)
    try:
        with open_store(path, database_url) as store:
            check_bind(host, TokenStore(store))
            backend_name, url = store.backend, store.url
    except StoreError:
        if not is_loopback(host):
            raise  # cannot tell whether tokens exist: never serve the world unguarded
        backend_name, url = "unavailable", database_url or "(default)"
        err_console.print("[yellow]warning:[/] the database is down; the dashboard says so "
                          "and retries on each request")
    settings = ServeSettings(root=path, url=database_url, local_actor=who(path),
                             chain_interval_s=chain_every)
    shown = f"[{host}]" if ":" in host else host
    err_console.print(f"suture dashboard on http://{shown}:{port}/ ({backend_name}: {url}); "
                      "Ctrl-C stops it")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                access_log=False)
