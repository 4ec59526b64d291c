"""A small real virtualenv (pip and setuptools only) whose SBOM is quick to make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a fresh venv made with the standard library's `venv` (with pip)."""
    where = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    return where / "bin" / "python"


def installed_version(python: Path, dist: str) -> str:
    """The version of `dist` as that interpreter's importlib.metadata reports it."""
    return subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
