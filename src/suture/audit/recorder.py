"""`record()` and `checkpoint()`: the one-line API the pipeline, why and fix call sites use."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from suture.audit.events import AuditAction, AuditEvent, Checkpoint
from suture.audit.keys import ENV_KEY
from suture.audit.log import AuditLog
from suture.store.db import ENV_URL
from suture.store.runs import RunStore

_LOCK = threading.Lock()
# One AuditLog per store or root, so repeated calls reuse the engine and the loaded key.
_BY_STORE: weakref.WeakKeyDictionary[RunStore, AuditLog] = weakref.WeakKeyDictionary()
_BY_ROOT: dict[tuple[str, str, str], AuditLog] = {}


def audit_log(store_or_root: RunStore | Path | str, *, root: Path | str | None = None
              ) -> AuditLog:
    """The (cached) AuditLog for an open RunStore, or for the repository at a path."""
    with _LOCK:
        if isinstance(store_or_root, RunStore):
            found = _BY_STORE.get(store_or_root)
            if found is None:
                found = AuditLog.for_store(store_or_root, root=root)
                _BY_STORE[store_or_root] = found
            return found
        top = str(Path(store_or_root).resolve())
        cache_key = (top, os.environ.get(ENV_URL, ""), os.environ.get(ENV_KEY, ""))
        found = _BY_ROOT.get(cache_key)
        if found is None:
            found = AuditLog.open(top)
            _BY_ROOT[cache_key] = found
        return found


def record(store_or_root: RunStore | Path | str, action: AuditAction | str, subject: str,
           payload: Mapping[str, Any] | BaseModel | None = None, actor: str | None = None,
           *, root: Path | str | None = None) -> AuditEvent:
    """Append one event to the audit log of `store_or_root` and return it (raises on failure)."""
    return audit_log(store_or_root, root=root).append(action, subject, payload, actor=actor)


def checkpoint(store_or_root: RunStore | Path | str, *, root: Path | str | None = None
               ) -> Checkpoint | None:
    """Sign the audit log's current head (call at the end of each run); None if it is empty."""
    return audit_log(store_or_root, root=root).checkpoint()
