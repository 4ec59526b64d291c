"""What both routers share: checking a traffic split, ports, and small state files."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from suture.deploy.routers.interface import Backend, RouterState
from suture.errors import UsageError


def validate_backends(backends: Sequence[Backend]) -> tuple[Backend, ...]:
    """The split as given, or a UsageError when nobody would get traffic or a field is invalid."""
    found = tuple(backends)
    names = [b.name for b in found]
    if len(set(names)) != len(names):
        raise UsageError(f"backend names must be unique, got {names}")
    for b in found:
        if b.weight < 0:
            raise UsageError(f"backend {b.name!r} has a negative weight ({b.weight})")
        if not 0 < b.port < 65536:
            raise UsageError(f"backend {b.name!r} has an invalid port ({b.port})")
        if not b.version or not b.host:
            raise UsageError(f"backend {b.name!r} needs a version and a host")
    if not any(b.weight > 0 for b in found):
        raise UsageError(
            "no backend has a traffic weight above 0",
            hint="route at least one running version with a positive weight",
        )
    return found


def port_in_use_error(port: int) -> UsageError:
    """The error both routers raise when their listen port is taken."""
    return UsageError(
        f"port {port} is in use by another process; choose another `port:` for the environment",
        hint=f"`ss -ltnp 'sport = :{port}'` shows which process holds it",
    )


def ensure_port_free(port: int) -> None:
    """Raise the port-in-use error unless a listener could bind 127.0.0.1:`port` right now.

    SO_REUSEADDR matches what the routers themselves do, so connections of a just-stopped router
    lingering in TIME_WAIT do not count as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise port_in_use_error(port) from exc
            raise


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on at this instant."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` atomically, readable only by its owner (router state holds an admin token)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove(path: Path) -> None:
    """Delete a file if it exists."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def log_tail(path: Path, limit: int = 2000) -> str:
    """The end of a log file, for an error's hint."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-limit:].strip() or "(empty log)"


def attach_info(kind: str, want: RouterState, default_workdir: Path
                ) -> tuple[Path, dict[str, Any]]:
    """The workdir and saved `router.json` of the router `want` names; a clear error otherwise."""
    if want.kind != kind:
        raise UsageError(f"cannot attach a {kind} router to a {want.kind!r} router")
    workdir = Path(want.workdir) if want.workdir else default_workdir
    info = read_json(workdir / "router.json")
    if info is None:
        raise UsageError(f"no {kind} router state in {workdir}",
                         hint="the router was stopped or never started; start a new one")
    if want.pid is not None and info.get("pid") != want.pid:
        raise UsageError(
            f"the router in {workdir} is pid {info.get('pid')}, not pid {want.pid}",
            hint="the recorded router was replaced; attach with the current state",
        )
    return workdir, info
