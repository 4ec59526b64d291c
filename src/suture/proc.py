"""The one wrapper for running tools: timeouts, environment and error text live here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from suture.errors import ToolError

DEFAULT_TIMEOUT_S = 600.0
# Enough output to debug a failure without letting one chatty tool fill the database.
MAX_LOG_CHARS = 64_000


@dataclass(frozen=True)
class CmdResult:
    """What a finished command returned."""

    cmd: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    def describe(self) -> str:
        """Command, exit code, and both streams, for error messages and logs."""
        return format_failure(self.cmd, self.returncode, self.stdout, self.stderr)


class CmdTimeout(ToolError):
    """A command ran past its timeout and was killed."""


def format_failure(cmd: Sequence[str], rc: int | None, stdout: str, stderr: str) -> str:
    """Render a command's failure the way a bug report wants it."""
    return (
        f"command: {' '.join(cmd)}\n"
        f"return code: {rc}\n"
        f"stdout:\n{clip(stdout) or '(none)'}\n"
        f"stderr:\n{clip(stderr) or '(none)'}"
    )


def clip(text: str, limit: int = MAX_LOG_CHARS) -> str:
    """Keep the head and tail of long output, where the useful parts usually are."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every tool runs with: the caller's, made deterministic where it matters."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    # When suture itself runs under coverage, its tools must not be measured into that data.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "COVERAGE_FILE"):
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def find_tool(name: str, python: str | None = None) -> str | None:
    """Locate a tool: in the project's environment, then next to suture, then on PATH.

    The project's own copy wins so that its pinned tool version and plugins are used.
    """
    dirs = [Path(python).parent] if python else []
    dirs.append(Path(sys.executable).parent)
    for folder in dirs:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def require_tool(name: str, python: str | None = None, package: str | None = None) -> str:
    """Like find_tool, but a missing tool is a ToolError saying what to install."""
    found = find_tool(name, python)
    if found is None:
        raise ToolError(
            f"{name} is not installed or not on PATH",
            hint=f"pip install {package or name} (pip install 'suture[gates]' installs every "
            "gate's tool)",
        )
    return found


_VERSIONS: dict[str, str] = {}
_VERSIONS_LOCK = threading.Lock()


def tool_version(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The stripped output of a version command such as `ruff --version`.

    Memoised in memory and on disk, keyed by the executable's path, size and modification time
    (a reinstall rewrites it), because some tools take seconds just to print their version.
    Raises ToolError when the command fails.
    """
    cmd = tuple(str(c) for c in cmd)
    key = _version_key(cmd)
    with _VERSIONS_LOCK:
        if key not in _VERSIONS:
            _VERSIONS.update(_read_version_cache())
        known = _VERSIONS.get(key)
    if known is not None:
        return known
    res = run(cmd, timeout=120, env=env)
    text = (res.stdout or res.stderr).strip()
    if res.returncode != 0 or not text:
        raise ToolError(f"{' '.join(cmd)} failed", hint=res.describe())
    with _VERSIONS_LOCK:
        _VERSIONS[key] = text
        _write_version_cache(_VERSIONS)
    return text


def _version_key(cmd: tuple[str, ...]) -> str:
    exe = Path(cmd[0])
    try:
        st = exe.stat()
        ident = f"{exe.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = cmd[0]
    return f"{ident}|{' '.join(cmd[1:])}"


def _version_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "suture" / "tool-versions.json"


def _read_version_cache() -> dict[str, str]:
    try:
        data = json.loads(_version_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_version_cache(versions: dict[str, str]) -> None:
    """Best effort: a read-only home only costs the next run a few seconds."""
    path = _version_cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(versions, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


_LIVE: set[subprocess.Popen[str]] = set()
_LIVE_LOCK = threading.Lock()
# Set by stop_all(): gates still finishing in worker threads may not start new tools.
_STOPPING = threading.Event()


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> CmdResult:
    """Run a command to completion and return its result; never raises on a non-zero exit.

    Raises ToolError when the program is missing and CmdTimeout when it runs too long. Each
    command gets its own process group, so a timeout or an interrupt stops its children too.
    """
    cmd = tuple(str(c) for c in cmd)
    if _STOPPING.is_set():
        raise ToolError(f"not starting {cmd[0]}: suture is stopping")
    start = time.monotonic()
    try:
        child = subprocess.Popen(
            cmd, cwd=cwd, env=tool_env(env), text=True, errors="replace",
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ToolError(
            f"{cmd[0]} is not installed or not on PATH",
            hint=f"install it (pip install 'suture[gates]' installs every gate's tool): {exc}",
        ) from exc
    with _LIVE_LOCK:
        _LIVE.add(child)
    try:
        stdout, stderr = child.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        stdout, stderr = child.communicate()
        raise CmdTimeout(
            f"{' '.join(cmd)} timed out after {timeout:g}s",
            hint="raise the gate's `timeout:` in suture.yml, or make the tool faster\n"
            + format_failure(cmd, None, stdout, stderr),
        ) from None
    except BaseException:
        _kill_group(child)
        child.wait()
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(child)
    return CmdResult(cmd, child.returncode, stdout, stderr, time.monotonic() - start)


def stop_all() -> int:
    """Kill every tool still running (on Ctrl-C or SIGTERM); returns how many were stopped."""
    _STOPPING.set()
    with _LIVE_LOCK:
        live = list(_LIVE)
    for child in live:
        _kill_group(child)
    return len(live)


def allow_runs() -> None:
    """Let tools start again after stop_all() (a library caller starting a new run)."""
    _STOPPING.clear()


def _kill_group(child: subprocess.Popen[str]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def spawn(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> int:
    """Start a long-lived process (an app instance, a router) that outlives suture; return its pid.

    It gets its own session, so Ctrl-C on `suture deploy` does not take the serving version down
    with it, and its output goes to `log_path` (kept for the bug report) or nowhere.
    """
    cmd = tuple(str(c) for c in cmd)
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        child = subprocess.Popen(
            cmd, cwd=cwd, env=tool_env(env), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
    except FileNotFoundError as exc:
        raise ToolError(f"{cmd[0]} is not installed or not on PATH",
                        hint=f"check the command in suture.yml: {exc}") from exc
    finally:
        if log_path and not isinstance(out, int):
            out.close()
    _SPAWNED[child.pid] = child
    return child.pid


def terminate(pid: int, grace_s: float = 5.0) -> None:
    """Stop a spawned process and its group: SIGTERM, then SIGKILL after `grace_s`."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _running(pid):
                break
            time.sleep(0.02)
        else:
            continue
        break
    child = _SPAWNED.pop(pid, None)
    if child is not None:
        child.poll()


def _running(pid: int) -> bool:
    child = _SPAWNED.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def running(pid: int | None) -> bool:
    """Whether a process (spawned here or found in a state file) is alive and not a zombie."""
    return pid is not None and pid > 0 and _running(pid)


# Spawned children are kept so they can be reaped (no zombies while the controller lives).
_SPAWNED: dict[int, subprocess.Popen[bytes]] = {}
