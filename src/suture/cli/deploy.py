"""`suture deploy`, `approve`, `rollback` and `releases`: progressive delivery from the terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.deploy.model import SCHEMA_VERSION, Release, ReleaseStatus, Strategy

deploy_app = typer.Typer(
    help="Ship the current commit progressively (canary, blue-green or rolling, chosen from its "
    "risk), judge it against the stable version and roll back automatically.\n\n"
    "Examples:\n\n  suture deploy --env staging\n\n"
    "  suture deploy --env production --strategy canary --load 200\n\n"
    "  suture deploy resume            # after the controller crashed or was killed",
    invoke_without_command=True, no_args_is_help=False,
)
releases_app = typer.Typer(
    help="The history of releases, or one release with the judge's reasoning.\n\n"
    "Examples:\n\n  suture releases\n\n  suture releases --env production --json\n\n"
    "  suture releases show 3fa2c1",
    invoke_without_command=True, no_args_is_help=False,
)

STATUS_STYLE = {
    ReleaseStatus.PROMOTED: "green", ReleaseStatus.ROLLED_BACK: "yellow",
    ReleaseStatus.FAILED: "red", ReleaseStatus.RUNNING: "cyan",
    ReleaseStatus.AWAITING_APPROVAL: "magenta",
}
JSON_OPTION = typer.Option(False, "--json", help="Print the release(s) as JSON.")


def register(app: typer.Typer) -> None:
    """Add `deploy`, `approve`, `rollback` and `releases`."""
    app.add_typer(deploy_app, name="deploy")
    app.add_typer(releases_app, name="releases")
    app.command("approve", help="Approve (or --reject) a release that policy holds for a person "
                "other than the change's author.\n\nExamples:\n\n  suture approve 3fa2c1\n\n"
                "  suture approve 3fa2c1 --reject --comment 'not during the clinic day'")(approve)
    app.command("rollback", help="Send an environment back to its stable version now: stops a "
                "running release, or returns to the previously promoted commit.\n\n"
                "Examples:\n\n  suture rollback --env production")(rollback)


def _deployer(root: Path, json_out: bool):  # type: ignore[no-untyped-def]
    from suture import config as config_mod
    from suture.deploy.service import Deployer
    from suture.store import open_store

    def progress(text: str) -> None:
        (err_console if json_out else out_console).print(escape(text))

    cfg = config_mod.load(root)
    return Deployer(root, cfg, open_store(root), progress)


@deploy_app.callback()
def deploy(
    ctx: typer.Context,
    env: str | None = typer.Option(None, "--env", "-e", help="Environment from suture.yml "
                                   "deploy.environments."),
    strategy: Strategy | None = typer.Option(None, "--strategy", "-s", help="Override the "
                                             "strategy; default: the environment's, else auto "
                                             "(from the release's risk)."),
    commit: str = typer.Option("HEAD", "--commit", help="Commit to release."),
    target: str = typer.Option("local", "--target", help="local (processes behind a router on "
                               "this machine) or argo-rollouts (write Kubernetes manifests)."),
    load: float | None = typer.Option(None, "--load", min=1, max=2000, help="Drive this many "
                                      "synthetic requests per second at the router (127.0.0.1 "
                                      "only) while the release runs."),
    load_path: list[str] = typer.Option([], "--load-path", help="Path the load hits (repeat); "
                                        "default: the health path."),
    no_wait: bool = typer.Option(False, "--no-wait", help="If approval is required, record the "
                                 "release and exit; `suture deploy resume` continues it."),
    image: str | None = typer.Option(None, "--image", help="Container image (argo-rollouts)."),
    out: Path = typer.Option(Path("deploy/k8s"), "--out", "-o", help="Folder for manifests "
                             "(argo-rollouts)."),
    judge_url: str = typer.Option("http://suture-judge:8500", "--judge-url", help="Where the "
                                  "cluster reaches `suture judge serve` (argo-rollouts)."),
    json_out: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Deploy a commit to an environment with the strategy its risk calls for."""
    if ctx.invoked_subcommand is not None:
        return
    if env is None:
        raise typer.BadParameter("name the environment with --env (see deploy.environments in "
                                 "suture.yml)", param_hint="--env")
    top = resolve_root(root)
    if target == "argo-rollouts":
        _argo(top, env, image, out, judge_url)
        return
    if target != "local":
        raise typer.BadParameter(f"unknown target {target!r}; use local or argo-rollouts",
                                 param_hint="--target")
    from suture.deploy.service import DeployOptions

    deployer = _deployer(top, json_out)
    opts = DeployOptions(env=env, commit=commit, strategy=strategy,
                         wait_for_approval=not no_wait, load_rps=load,
                         load_paths=tuple(load_path))
    release = deployer.deploy(opts, on_plan=None if json_out else _show_plan)
    _finish(release, json_out)


@deploy_app.command("resume", help="Take over a release whose controller died (or that "
                    "waited for approval): continue it, or roll it back.\n\nExamples:\n\n"
                    "  suture deploy resume\n\n  suture deploy resume --env production")
def resume(
    env: str | None = typer.Option(None, "--env", "-e", help="Environment; default: the one "
                                   "with an unfinished release."),
    load: float | None = typer.Option(None, "--load", min=1, max=2000,
                                      help="Synthetic requests per second while it runs."),
    json_out: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Continue or roll back an unfinished release."""
    from suture.deploy.service import DeployOptions

    deployer = _deployer(resolve_root(root), json_out)
    opts = DeployOptions(env=env or "", load_rps=load) if load else None
    _finish(deployer.resume(env, opts), json_out)


def approve(
    release_id: str = typer.Argument(..., help="Release id or a unique prefix."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of approving."),
    comment: str = typer.Option("", "--comment", "-m", help="Why (kept in the audit log)."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Record an approval or rejection."""
    from suture.deploy.approvals import decide
    from suture.store import open_store

    top = resolve_root(root)
    release, rec = decide(top, open_store(top), release_id, approve=not reject, comment=comment)
    out_console.print(f"{rec.decision} release {release.id[:12]} ({release.env}, "
                      f"{release.commit[:10]}) as {escape(rec.approver)}")


def rollback(
    env: str = typer.Option(..., "--env", "-e", help="Environment to send back."),
    json_out: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Roll an environment back now."""
    deployer = _deployer(resolve_root(root), json_out)
    release = deployer.rollback(env)
    if json_out:
        typer.echo(json.dumps(_doc(release), indent=2))


@releases_app.callback()
def releases(
    ctx: typer.Context,
    env: str | None = typer.Option(None, "--env", "-e", help="Only this environment."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many to list."),
    json_out: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """List releases, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from suture.store import open_store
    from suture.store.releases import ReleaseStore

    found = ReleaseStore(open_store(resolve_root(root))).recent(env=env, limit=limit)
    if json_out:
        typer.echo(json.dumps({"schema_version": SCHEMA_VERSION,
                               "releases": [_doc(r) for r in found]}, indent=2))
        return
    if not found:
        out_console.print("no releases yet; run `suture deploy --env ENV`")
        return
    table = Table(title="suture releases", title_justify="left")
    for col in ("release", "started (UTC)", "env", "commit", "strategy", "risk", "status",
                "mttr"):
        table.add_column(col)
    for r in found:
        table.add_row(r.id[:12], r.started_at.strftime("%Y-%m-%d %H:%M:%S"), escape(r.env),
                      r.commit[:10], r.strategy.value,
                      f"{r.risk.level.value} {r.risk.score:.0f}",
                      f"[{STATUS_STYLE[r.status]}]{r.status.value}[/]",
                      f"{r.mttr_s:.2f}s" if r.mttr_s is not None else "-")
    out_console.print(table)


@releases_app.command("show", help="One release: risk reasons, each step's verdict and the "
                      "numbers that decided it, approvals and timings.\n\nExamples:\n\n"
                      "  suture releases show 3fa2c1\n\n  suture releases show 3fa2c1 --json")
def show(
    release_id: str = typer.Argument(..., help="Release id or a unique prefix."),
    json_out: bool = JSON_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Show one release."""
    from suture.store import open_store
    from suture.store.releases import ReleaseStore

    store = ReleaseStore(open_store(resolve_root(root)))
    release = store.get(release_id)
    if json_out:
        typer.echo(json.dumps(_doc(release), indent=2))
        return
    _show_plan(release)
    out_console.print(f"status: [{STATUS_STYLE[release.status]}]{release.status.value}[/]"
                      + (f" — {escape(release.error)}" if release.error else ""))
    for rec in store.approvals(release.id):
        out_console.print(f"{rec.decision} by {escape(rec.approver)} at "
                          f"{rec.at:%Y-%m-%d %H:%M:%S}")
    for step in release.steps:
        out_console.print(f"step {step.index + 1} at {step.weight}%: "
                          f"{step.verdict.value if step.verdict else '-'} — "
                          f"{escape(step.reason)}")
        nums = ", ".join(f"{k}={_num(v)}" for k, v in step.metrics.items())
        if nums:
            out_console.print(f"    {escape(nums)}", soft_wrap=True)
    if release.mttr_s is not None:
        out_console.print(f"time to restore: {release.mttr_s:.2f}s (first bad request "
                          f"{release.first_bad_at:%H:%M:%S.%f}, traffic back "
                          f"{release.restored_at:%H:%M:%S.%f})")


def _show_plan(release: Release) -> None:
    r = release.risk
    out_console.print(f"release {release.id[:12]}: {release.commit[:10]} → {release.env}, "
                      f"strategy [bold]{release.strategy.value}[/], risk [bold]{r.level.value}"
                      f"[/] ({r.score:.0f}/100)")
    for reason in r.reasons:
        if reason.points:
            out_console.print(f"  +{reason.points:g} {escape(reason.factor)}: "
                              f"{escape(reason.detail)}")


def _finish(release: Release, json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps(_doc(release), indent=2))
    if release.status in (ReleaseStatus.ROLLED_BACK, ReleaseStatus.FAILED):
        raise typer.Exit(1)


def _doc(release: Release) -> dict[str, object]:
    """The JSON contract of issue 6, plus the full record."""
    data = release.model_dump(mode="json")
    data["schema_version"] = SCHEMA_VERSION
    return data


def _num(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _argo(root: Path, env: str, image: str | None, out: Path, judge_url: str) -> None:
    from suture import config as config_mod
    from suture.deploy.targets import argo

    if not image:
        raise typer.BadParameter("--target argo-rollouts needs --image (the container image of "
                                 "the release)", param_hint="--image")
    settings = config_mod.load(root).settings.deploy
    app_name = re.sub(r"[^a-z0-9-]+", "-", root.name.lower()).strip("-") or "app"
    manifests = argo.render(settings, app_name, image, env, judge_url)
    paths = argo.write(manifests, out if out.is_absolute() else root / out)
    for p in paths:
        out_console.print(f"wrote {p}")
