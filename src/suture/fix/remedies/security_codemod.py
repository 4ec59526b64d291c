"""The `security-codemod` remedy: exact libcst rewrites for the insecure calls bandit reports.

One proposal per finding, most severe first, each changing only the reported call (and, for
yaml, the import it needs). The rewrites themselves live in `codemods`; this module picks the
findings, checks what the project's interpreter supports, and explains each change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from suture import proc
from suture.errors import ToolError
from suture.fix.remedies import codemods
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.model import Finding

_SEVERITY = re.compile(r"\(severity (\w+), confidence (\w+)\)")
_RANK = {"high": 0, "medium": 1, "low": 2}
_NEEDS_INTERPRETER = frozenset({"B202", "B324"})
_PROBE = ("import sys, tarfile; "
          "print(sys.version_info[0], sys.version_info[1], sys.version_info[2], "
          "int(hasattr(tarfile, 'data_filter')))")
_MAX_SUMMARY = 72

_SUMMARY = {
    "B506": "Use yaml.safe_load in {loc} (B506)",
    "B113": "Add a timeout to {callee} in {loc} (B113)",
    "B202": "Extract tar members with filter='data' in {loc} (B202)",
    "B201": "Turn off the Flask debugger in {loc} (B201)",
    "B324": "Mark {algo} as not for security in {loc} (B324)",
    "B602": "Run the command without a shell in {loc} (B602)",
    "B604": "Run the command without a shell in {loc} (B604)",
}

_WHY = {
    "B506": (
        "yaml.load with a full or unsafe Loader builds arbitrary Python objects from tags such "
        "as !!python/object/apply, so a crafted file runs code when it is read (CWE-20). "
        "yaml.safe_load builds only plain data: mappings, lists, strings, numbers, booleans, "
        "null and dates, which is all a configuration or data file holds. Such files load to "
        "the same objects as before; only documents with Python-specific tags, the attack "
        "itself, now raise a ConstructorError instead of running."
    ),
    "B113": (
        "Without a timeout the call waits forever on a server that stops answering: the "
        "worker hangs, and under load every worker does (CWE-400). timeout={seconds} bounds "
        "the connect and each wait between bytes, not the whole transfer, so slow but live "
        "transfers still finish; only a server silent for {seconds} s now raises a timeout "
        "error instead of hanging."
    ),
    "B202": (
        "extractall trusts member names, so an archive can write outside the target folder "
        "(../ or absolute paths, links pointing out) or create device files and setuid "
        "programs (CWE-22). filter='data' (PEP 706, the default from Python 3.14) refuses "
        "those members with a tarfile.FilterError and otherwise extracts the same files with "
        "the same content; it also ignores archived owners and clears setuid, setgid, sticky "
        "and group/other write bits. The project's Python ({python}) supports the filter."
    ),
    "B201": (
        "app.run(debug=True) starts the Werkzeug debugger, which lets anyone who can reach "
        "the server run Python code from a browser (CWE-94). debug=False is the simple, safe "
        "choice; an environment toggle was not used because a toggle left on in production "
        "is the same hole. The routes serve exactly as before; only the debugger and the "
        "reloader are off. For local debugging, `flask run --debug` does not use this line."
    ),
    "B324": (
        "{algo} is broken as a security hash (CWE-327). usedforsecurity=False declares that "
        "this digest is a checksum, cache key or identifier: the bytes it produces are "
        "identical, so nothing that stores or compares them changes, and FIPS-mode OpenSSL "
        "keeps allowing it. suture cannot know the purpose: if this hash protects anything "
        "(passwords, tokens, signatures, integrity against an attacker), reject this "
        "candidate and switch to hashlib.sha256 or a password hash, as bandit advises."
    ),
    "B602": (
        "shell=True hands the string to /bin/sh, so any later edit that splices input into "
        "it becomes command injection (CWE-78). This command is a literal with no shell "
        "syntax (no pipes, redirects, globs, variables, substitutions or builtins), so the "
        "shell only split it into words; the argument list does that split ahead of time "
        "with POSIX rules and runs the same program with the same arguments, environment and "
        "working directory, without a shell."
    ),
}
_WHY["B604"] = _WHY["B602"]


class SecurityCodemod:
    """Rewrites yaml.load, timeout-less requests, unfiltered tar extraction, Flask debug,
    weak hashes and literal shell=True commands into their safe forms, keeping formatting."""

    name = "security-codemod"

    def applies(self, target: FixTarget) -> bool:
        """A sast stage with at least one new bandit finding a codemod knows."""
        return target.stage.kind == "sast" and any(_known(f) for f in target.stage.new_findings)

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """One candidate per known finding, most severe first; refused ones yield nothing."""
        findings = sorted((f for f in target.stage.new_findings if _known(f)), key=_order)
        caps, python = codemods.Capabilities(), ""
        if any(f.rule_id in _NEEDS_INTERPRETER for f in findings):
            caps, python = probe(ctx)
        originals: dict[Path, bytes] = {}
        for finding in findings:
            path = _source(workdir, finding.path)
            if path is None or finding.line is None:
                continue
            if path not in originals:
                originals[path] = path.read_bytes()
            result = codemods.rewrite(finding.rule_id, originals[path], finding.line,
                                      finding.column, caps)
            if isinstance(result, codemods.Refusal):
                continue
            path.write_bytes(result.source)
            yield Proposal(summary=_summary(finding, result),
                           rationale=_rationale(finding, result, python),
                           addresses=(finding.fingerprint,))


def probe(ctx: RemedyContext) -> tuple[codemods.Capabilities, str]:
    """What the project's interpreter supports, and its version, asked of the interpreter."""
    res = proc.run((ctx.python, "-c", _PROBE), cwd=ctx.root, timeout=60.0, env=ctx.env)
    try:
        major, minor, micro, tar_filter = (int(x) for x in res.stdout.split())
    except ValueError:
        raise ToolError("could not ask the project's Python what it supports",
                        hint=res.describe()) from None
    caps = codemods.Capabilities(usedforsecurity=(major, minor) >= (3, 9),
                                 tar_filter=bool(tar_filter))
    return caps, f"{major}.{minor}.{micro}"


def _known(finding: Finding) -> bool:
    return finding.tool == "bandit" and finding.rule_id in codemods.RULES


def _order(finding: Finding) -> tuple[int, int, str, int]:
    """Most severe first, then most confident, then by place in the code."""
    match = _SEVERITY.search(finding.message)
    severity, confidence = match.groups() if match else ("", "")
    return (_RANK.get(severity, 3), _RANK.get(confidence, 3), finding.path or "",
            finding.line or 0)


def _source(workdir: Path, rel: str | None) -> Path | None:
    """The finding's Python file inside `workdir`, or None if it is missing or outside."""
    if not rel or not rel.endswith(".py"):
        return None
    path = workdir / rel
    try:
        inside = workdir.resolve() in path.resolve().parents
    except OSError:
        return None
    return path if inside and path.is_file() else None


def _summary(finding: Finding, result: codemods.Rewrite) -> str:
    template = _SUMMARY[finding.rule_id]
    algo = result.callee.rsplit(".", 1)[-1]
    for loc in (f"{finding.path}:{finding.line}",
                f"{Path(finding.path or '').name}:{finding.line}"):
        text = template.format(loc=loc, callee=result.callee, algo=algo)
        if len(text) <= _MAX_SUMMARY:
            return text
    return text[:_MAX_SUMMARY - 3] + "..."


def _rationale(finding: Finding, result: codemods.Rewrite, python: str) -> str:
    why = _WHY[finding.rule_id].format(seconds=codemods.REQUEST_TIMEOUT_S, python=python,
                                       algo=result.callee.rsplit(".", 1)[-1].upper())
    cwe = f" ({finding.cwe})" if finding.cwe else ""
    lines = [f"bandit {finding.rule_id}{cwe} at {finding.path}:{finding.line}: "
             f"{finding.message}", "", why]
    if result.notes:
        lines += ["", *(f"- {note[0].upper()}{note[1:]}." for note in result.notes)]
    changed = "only the flagged call and the yaml imports it uses" if any(
        "import" in note for note in result.notes) else "only the flagged call"
    lines += ["", f"Rewritten with libcst: {changed} changed; formatting and comments are kept."]
    return "\n".join(lines)
