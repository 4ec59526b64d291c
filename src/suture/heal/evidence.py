"""Gathering evidence from the repository: code at a line, who last changed it, log lines."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from suture import proc
from suture.errors import SutureError
from suture.model import Evidence, EvidenceKind, Finding
from suture.pipeline.findings import snippet

_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\b[0-9a-f]{7,40}\b|\d+(\.\d+)*")
_PATHS = re.compile(r"(/[\w.@-]+)+")
_ERRORISH = re.compile(r"error|exception|traceback|fail|fatal|denied|refused|not found|"
                       r"no such|timed out|cannot|could not|unable|missing", re.I)


def code_at(root: Path, path: str | None, line: int | None) -> Evidence | None:
    """The source around path:line, the flagged line marked, as evidence."""
    if not path or not line:
        return None
    file = root / path
    try:
        if root.resolve() not in file.resolve().parents:
            return None
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    text = snippet(lines, line)
    return Evidence(kind=EvidenceKind.CODE, text=text, path=path, line=line) if text else None


def blame(root: Path, path: str | None, line: int | None) -> Evidence | None:
    """The commit that last changed path:line (git blame), or None when git can't tell."""
    if not path or not line:
        return None
    try:
        res = proc.run(("git", "blame", "--porcelain", "-L", f"{line},{line}", "--", path),
                       cwd=root, timeout=60)
    except SutureError:
        return None
    if res.returncode != 0 or not res.stdout:
        return None
    head = res.stdout.splitlines()
    sha = head[0].split()[0]
    if set(sha) == {"0"}:
        return Evidence(kind=EvidenceKind.COMMIT, text="uncommitted change in the working tree",
                        path=path, line=line)
    fields = dict(ln.split(" ", 1) for ln in head[1:] if " " in ln and not ln.startswith("\t"))
    return Evidence(
        kind=EvidenceKind.COMMIT, commit=sha, path=path, line=line,
        text=f"{sha[:10]} {fields.get('summary', '')} ({fields.get('author', '?')})",
    )


def finding_evidence(f: Finding) -> Evidence:
    """A finding as evidence, without any code (the message and location only)."""
    where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "")
    cwe = f" {f.cwe}" if f.cwe else ""
    return Evidence(kind=EvidenceKind.FINDING, text=f"{f.rule_id}{cwe} {where} {f.message}".strip(),
                    path=f.path, line=f.line, ref=f.fingerprint or None)


def template(line: str) -> str:
    """A log line with its variable parts (numbers, ids, paths) masked: its template."""
    return _NUMBERS.sub("<*>", _PATHS.sub("<path>", line.strip()))


def salient_log_lines(log: str, limit: int = 5) -> list[Evidence]:
    """Error-looking log lines, one per template, rarest templates first.

    A small stand-in for drain3-style template mining (drain3 pins a cachetools that conflicts with
    checkov's): repeated noise shares a template, the line that explains a failure usually doesn't.
    """
    lines = [ln for ln in log.splitlines() if ln.strip()]
    counts = Counter(template(ln) for ln in lines)
    seen: set[str] = set()
    picked: list[tuple[int, int, str]] = []
    for i, ln in enumerate(lines):
        t = template(ln)
        if t in seen or not _ERRORISH.search(ln):
            continue
        seen.add(t)
        picked.append((counts[t], -i, ln.strip()))
    picked.sort()
    return [Evidence(kind=EvidenceKind.LOG, text=text[:500]) for _, _, text in picked[:limit]]
