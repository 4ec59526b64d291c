"""The embedded target: each instance is a process on its own 127.0.0.1 port, run from a git
worktree of its commit, so the stable and the new version run side by side on one machine.
"""

from __future__ import annotations

import shlex
import socket
import time
from pathlib import Path

import httpx

from suture import proc
from suture.deploy.settings import DeploySettings
from suture.deploy.state import Instance
from suture.errors import ConfigError, SutureError
from suture.heal.worktree import git, resolve_commit, toplevel
from suture.repo import project_python

_LOG_TAIL_CHARS = 2000


class DeployFailed(SutureError):
    """A version could not be started or did not become healthy (exit 1)."""

    exit_code = 1


class LocalTarget:
    """Runs `deploy.command` with `{port}` in a checkout of the commit, under .suture/deploy/."""

    kind = "local"

    def __init__(self, root: Path, env_dir: Path, settings: DeploySettings,
                 python: str | None = None) -> None:
        if not settings.command:
            raise ConfigError(
                "suture.yml has no `deploy.command`, so suture does not know how to start the app",
                hint="add e.g. `deploy: {command: \"{python} -m uvicorn app.main:app --port "
                "{port}\", health_path: /healthz}`",
            )
        self.root = root
        self.env_dir = env_dir
        self.settings = settings
        self.python = project_python(root, python)

    def checkout(self, commit: str) -> Path:
        """The project folder inside a worktree of `commit`, made once and then reused."""
        top = toplevel(self.root)
        sha = resolve_commit(top, commit)
        tree = self.env_dir / "versions" / sha[:12]
        if not (tree / ".git").exists():
            tree.parent.mkdir(parents=True, exist_ok=True)
            git(top, "worktree", "prune", check=False)
            git(top, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--quiet",
                "--force", str(tree), sha)
        return tree / self.root.resolve().relative_to(top)

    def start(self, commit: str, name: str) -> Instance:
        """Start one instance on a free port and wait (ready_timeout_s) for its health check."""
        workdir = self.checkout(commit)
        port = free_port()
        command = self.settings.command or ""
        try:
            argv = shlex.split(command.format(port=port, python=self.python))
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"deploy.command {command!r} cannot be expanded: {exc}",
                              hint="use only the placeholders {port} and {python}") from None
        logs = self.env_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        env = {"PORT": str(port), "SUTURE_RELEASE_COMMIT": commit}
        pid = proc.spawn(argv, cwd=workdir, env=env, log_path=log)
        instance = Instance(name=name, commit=commit, port=port, pid=pid, workdir=str(workdir),
                            log=str(log))
        try:
            self._wait_healthy(instance)
        except BaseException:
            self.stop(instance)
            raise
        return instance

    def alive(self, instance: Instance) -> bool:
        """Whether the instance's process is still running."""
        return proc.running(instance.pid)

    def healthy(self, instance: Instance) -> bool:
        """One health check: a 2xx answer from health_path within 2 seconds."""
        url = f"http://127.0.0.1:{instance.port}{self.settings.health_path}"
        try:
            return httpx.get(url, timeout=2.0).is_success
        except httpx.HTTPError:
            return False

    def stop(self, instance: Instance) -> None:
        """Stop the instance's process group."""
        proc.terminate(instance.pid, grace_s=5.0)

    def _wait_healthy(self, instance: Instance) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_s
        url = f"http://127.0.0.1:{instance.port}{self.settings.health_path}"
        last = "no answer"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not proc.running(instance.pid):
                    raise DeployFailed(
                        f"{instance.name} ({instance.commit[:10]}) exited before it became "
                        f"healthy", hint=f"its output ({instance.log}):\n{tail(instance.log)}")
                try:
                    res = client.get(url)
                    if res.is_success:
                        return
                    last = f"HTTP {res.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                time.sleep(0.1)
        raise DeployFailed(
            f"{instance.name} ({instance.commit[:10]}) did not become healthy within "
            f"{self.settings.ready_timeout_s:g}s ({url}: {last})",
            hint="check deploy.health_path and deploy.command in suture.yml, or raise "
            f"deploy.ready_timeout_s; its output ({instance.log}):\n{tail(instance.log)}",
        )


def free_port() -> int:
    """A port nothing listens on now (the app binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def tail(path: str, limit: int = _LOG_TAIL_CHARS) -> str:
    """The end of a log file, for error hints."""
    try:
        data = Path(path).read_bytes()[-limit:]
    except OSError:
        return "(no output)"
    return data.decode("utf-8", "replace").strip() or "(no output)"

