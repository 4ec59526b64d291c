"""Cache keys: a gate whose inputs are unchanged reuses its last result."""

from __future__ import annotations

import hashlib
import json

from suture import __version__
from suture.gates.interface import Gate, GateContext

_CHUNK = 1 << 20


def cache_key(gate: Gate, ctx: GateContext, tool_version: str) -> str:
    """Digest of everything a gate's result depends on: its files, settings and tool version."""
    h = hashlib.sha256()
    head = {
        "suture": __version__,
        "kind": gate.kind,
        "name": gate.name,
        "config": gate.config.model_dump(mode="json"),
        "tool": tool_version,
        "python": ctx.python,
        "extra": gate.extra_cache_inputs(ctx),
    }
    h.update(json.dumps(head, sort_keys=True).encode())
    for path in sorted(set(gate.input_files(ctx))):
        h.update(b"\0" + str(path.relative_to(ctx.root)).encode() + b"\0")
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    h.update(chunk)
        except OSError:
            h.update(b"<unreadable>")
    return h.hexdigest()
