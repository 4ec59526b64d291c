"""Post-processing every gate's findings: stable fingerprints and code context."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from suture.model import Finding

SNIPPET_CONTEXT = 2
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def finish(root: Path, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Give each finding a fingerprint stable across unrelated edits, and a code snippet.

    The fingerprint hashes tool, rule, path and the text of the flagged line (not its number),
    so adding lines above a finding does not change it; identical lines count occurrences.
    """
    cache: dict[str, list[str] | None] = {}
    seen: Counter[str] = Counter()
    done = []
    for f in findings:
        lines = _lines(root, f.path, cache)
        seed = f.fingerprint or _line_seed(f, lines)
        base = "\x1f".join((f.tool, f.rule_id, f.path or "", seed))
        seen[base] += 1
        digest = hashlib.sha256(f"{base}\x1f{seen[base]}".encode()).hexdigest()[:32]
        context = f.snippet if f.snippet is not None else snippet(lines, f.line)
        done.append(f.model_copy(update={"fingerprint": digest, "snippet": context}))
    return tuple(done)


def _line_seed(f: Finding, lines: list[str] | None) -> str:
    if lines is not None and f.line and 0 < f.line <= len(lines):
        return _SPACE.sub(" ", lines[f.line - 1].strip())
    # No source line: the message without its numbers (counts and line numbers change).
    return _DIGITS.sub("#", f.message)


def _lines(root: Path, rel: str | None, cache: dict[str, list[str] | None]) -> list[str] | None:
    if not rel:
        return None
    if rel not in cache:
        path = root / rel
        try:
            inside = root.resolve() in path.resolve().parents
            data = path.read_bytes() if inside and path.is_file() else None
        except OSError:
            data = None
        cache[rel] = None if data is None or b"\0" in data[:8192] else data.decode(
            "utf-8", "replace").splitlines()
    return cache[rel]


def snippet(lines: list[str] | None, line: int | None) -> str | None:
    """Lines around `line` (1-based) with numbers, the line itself marked with `>`."""
    if lines is None or not line or not 0 < line <= len(lines):
        return None
    lo, hi = max(1, line - SNIPPET_CONTEXT), min(len(lines), line + SNIPPET_CONTEXT)
    width = len(str(hi))
    rows = []
    for n in range(lo, hi + 1):
        mark = ">" if n == line else " "
        rows.append(f"{mark} {n:>{width}} | {lines[n - 1][:200]}")
    return "\n".join(rows)
