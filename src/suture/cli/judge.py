"""`suture judge serve`: the canary judge as an HTTP service for Argo Rollouts and Flagger."""

from __future__ import annotations

import ipaddress
import signal
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.markup import escape

from suture.cli.common import err_console
from suture.errors import UsageError

DEFAULT_PORT = 8787

judge_app = typer.Typer(
    help="The canary judge as a service, so the same judge decides canaries on a cluster: "
    "Argo Rollouts' web metric (see `suture deploy --target argo-rollouts`) and Flagger's "
    "webhooks call it, and it reads both versions' traffic from Prometheus.\n\n"
    "Examples:\n\n  suture judge serve --prometheus-url http://prometheus:9090\n\n"
    "  suture judge serve --host 0.0.0.0 --port 8787 --config suture.yml",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `judge` command group."""
    app.add_typer(judge_app, name="judge")


@judge_app.callback()
def _group() -> None:
    """The canary judge as a service."""
    # A callback keeps `judge` a group of commands even while `serve` is its only one.


@judge_app.command(
    "serve",
    help="Answer POST /v1/judge (Argo Rollouts web metric: JSON with `verdict` promote, "
    "continue or rollback), POST /v1/flagger (Flagger webhook: 200 lets the canary go on, 409 "
    "stops it) and GET /healthz, until stopped (Ctrl-C or SIGTERM). Judge settings and SLOs "
    "come from the `deploy:` section of suture.yml when there is one.\n\n"
    "The service has no authentication: it binds 127.0.0.1 unless --host says otherwise; on a "
    "cluster, keep it reachable only from the rollout controller (a NetworkPolicy).\n\n"
    "Examples:\n\n  suture judge serve --prometheus-url http://127.0.0.1:9090\n\n"
    "  suture judge serve --host 0.0.0.0 --prometheus-url http://prometheus.monitoring:9090",
)
def serve_command(
    prometheus_url: str | None = typer.Option(
        None, "--prometheus-url", "-P",
        help="Prometheus server to read traffic from (default: deploy.prometheus_url).",
        show_default=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, "--port", "-p", min=0, max=65535,
                             help="Port to listen on (0: any free port)."),
    config: Path | None = typer.Option(
        None, "--config", "-c",
        help="suture.yml to take deploy.judge, deploy.slo and deploy.prometheus_url from "
        "(default: ./suture.yml when present).", show_default=False),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1,
                                  help="Seconds each Prometheus query may take."),
) -> None:
    """Serve the canary judge over HTTP."""
    from suture import config as suture_config
    from suture.deploy.judge_server import JudgeServer, JudgeService
    from suture.deploy.settings import DeploySettings

    path = config or Path("suture.yml")
    settings = (suture_config.load(path.parent, path).settings.deploy
                if config is not None or path.is_file() else DeploySettings())
    url = prometheus_url or settings.prometheus_url
    if not url:
        raise UsageError("no Prometheus server to read traffic from",
                         hint="pass --prometheus-url http://HOST:9090 or set "
                         "deploy.prometheus_url in suture.yml")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--prometheus-url must be an http(s) URL, got {url!r}")
    service = JudgeService(url, settings.judge, settings.slo, timeout=timeout)
    try:
        server = JudgeServer(service, host, port, log=_log)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         hint="choose another --port, or stop what holds this one") from exc
    if not _loopback(host):
        err_console.print(f"[yellow]listening on {escape(host)}: anyone who can reach it can "
                          "ask for verdicts; restrict it to the rollout controller[/]")
    # The URL goes to stdout alone, so scripts (and tests) can read where it listens.
    typer.echo(server.url)
    err_console.print(f"suture judge: {escape(server.url)} (Prometheus {escape(url)}); "
                      "POST /v1/judge, POST /v1/flagger, GET /healthz")

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()
    finally:
        signal.signal(signal.SIGTERM, previous)
    err_console.print("suture judge: stopped")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _log(line: str) -> None:
    err_console.print(escape(line), highlight=False)
