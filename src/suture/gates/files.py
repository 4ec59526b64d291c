"""Which files of the repository a gate looks at."""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

# Never scanned: suture's own state, virtualenvs and caches.
ALWAYS_EXCLUDED = (".suture/*", ".git/*", ".venv/*", "venv/*", "*/__pycache__/*", "*.pyc",
                   "node_modules/*", ".tox/*", ".nox/*", "*.egg-info/*", "build/*", "dist/*")


def repo_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files, repo-relative, sorted."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return sorted(
            str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
        )
    names = {n for n in out.decode("utf-8", "replace").split("\0") if n}
    return sorted(n for n in names if (root / n).is_file())


def is_excluded(rel: str, patterns: Iterable[str]) -> bool:
    """True when a repo-relative path matches any glob (a folder glob covers its contents)."""
    for pat in (*ALWAYS_EXCLUDED, *patterns):
        pat = pat.rstrip("/")
        if fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, f"{pat}/*") or rel.startswith(
            f"{pat}/"
        ):
            return True
    return False


def select(
    root: Path,
    *,
    suffixes: Sequence[str] = (),
    names: Sequence[str] = (),
    under: Sequence[str] = (),
    exclude: Iterable[str] = (),
) -> list[Path]:
    """Repository files filtered by suffix or exact basename, folders, and exclude globs."""
    exclude = tuple(exclude)
    picked = []
    for rel in repo_files(root):
        if is_excluded(rel, exclude):
            continue
        if under and not any(
            u in (".", "") or rel == u or rel.startswith(u.rstrip("/") + "/") for u in under
        ):
            continue
        base = rel.rsplit("/", 1)[-1]
        if (suffixes or names) and not (base.endswith(tuple(suffixes)) or base in names):
            continue
        picked.append(root / rel)
    return picked


def relative(root: Path, filename: str | None) -> str | None:
    """A tool's (often absolute) filename as a repo-relative POSIX path."""
    if not filename:
        return None
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root.resolve())
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")
