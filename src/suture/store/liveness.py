"""Is the process that began a run still alive? Decides which `running` runs were abandoned."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_host() -> str:
    """The name this machine records as a run's writer."""
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A killed child that nobody reaped still answers kill(0); Linux shows it as state Z.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
