"""The one wrapper for running tools: timeouts, environment and error text live here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


_VERSIONS: dict[tuple[str, ...], str] = {}


def tool_version(cmd: Sequence[str]) -> str:
    """First line of `cmd` (e.g. `ruff --version`), memoised for the life of the process."""
    key = tuple(cmd)
    if key not in _VERSIONS:
        res = run(key, timeout=60)
        text = (res.stdout or res.stderr).strip().splitlines()
        _VERSIONS[key] = text[0].strip() if text and res.returncode == 0 else "unknown"
    return _VERSIONS[key]


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> CmdResult:
    """Run a command to completion and return its result; never raises on a non-zero exit.

    Raises ToolError when the program is missing and CmdTimeout when it runs too long.
    """
    cmd = tuple(str(c) for c in cmd)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=tool_env(env),
            input=input_text,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolError(
            f"{cmd[0]} is not installed or not on PATH",
            hint=f"install it (pip install 'suture[gates]' installs every gate's tool): {exc}",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout)
        err = _text(exc.stderr)
        raise CmdTimeout(
            f"{' '.join(cmd)} timed out after {timeout:g}s",
            hint="raise the gate's `timeout:` in suture.yml, or make the tool faster\n"
            + format_failure(cmd, None, out, err),
        ) from exc
    return CmdResult(cmd, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data
