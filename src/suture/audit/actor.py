"""Who an event is attributed to when the caller names no one: git identity, else the OS user."""

from __future__ import annotations

import functools
import getpass
import os
from pathlib import Path

from suture import proc
from suture.errors import SutureError


def default_actor(root: Path | str | None = None) -> str:
    """`user.name <user.email>` from git config as seen in `root`, else the OS login name."""
    where = str(Path(root).resolve()) if root is not None else os.getcwd()
    return _actor_in(where)


@functools.cache
def _actor_in(where: str) -> str:
    return _git_identity(where) or os_user()


def os_user() -> str:
    """The OS login name, or `uid:N` where the user database has no entry (some containers)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid:{os.getuid()}"


def _git_identity(where: str) -> str | None:
    cwd = where if Path(where).is_dir() else None
    try:
        res = proc.run(("git", "config", "--get-regexp", r"^user\.(name|email)$"), cwd=cwd,
                       timeout=10)
    except SutureError:  # git missing or hung: the OS user still names someone
        return None
    if res.returncode != 0:
        return None
    found: dict[str, str] = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition(" ")
        if value.strip():
            found[key.lower()] = value.strip()
    name, email = found.get("user.name"), found.get("user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or (f"<{email}>" if email else None)
