"""Crash logs: what a bug report needs when suture fails unexpectedly."""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from suture import __version__

_PACKAGES = ("typer", "rich", "pydantic", "sqlalchemy", "alembic", "ruff", "bandit",
             "detect-secrets", "checkov", "coverage", "pytest")


def write_log(exc: BaseException) -> Path:
    """Write versions, the command line and the traceback; return the log's path."""
    folder = Path.cwd() / ".suture"
    if not os.access(Path.cwd(), os.W_OK):
        folder = Path.home() / ".cache" / "suture"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crash.log"
    lines = [
        f"time: {datetime.now(UTC).isoformat()}",
        f"suture: {__version__}",
        f"python: {sys.version.split()[0]} ({sys.executable})",
        f"platform: {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        "packages:",
    ]
    for name in _PACKAGES:
        try:
            lines.append(f"  {name}: {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"  {name}: not installed")
    lines += ["traceback:", "".join(traceback.format_exception(exc))]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
