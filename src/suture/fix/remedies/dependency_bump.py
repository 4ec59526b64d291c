"""Remedy `dependency-bump`: move a vulnerable pin to the lowest version that fixes its advisories.

It reads the deps gate's findings ("NAME VERSION is vulnerable to ID (CVE-..); fixed in X"),
groups them by package, and rewrites every pin of that package at a reported vulnerable version
in the files that declare it: requirements files (`==`/`===` kept, extras, markers and comments
kept), pyproject `[project]` dependency strings and poetry dependency tables. One candidate per
package, the package with the most advisories first.

It deliberately proposes nothing for a package when
- a pin of it comes from a lock file (poetry.lock, uv.lock, Pipfile.lock, pylock.toml): a lock
  is written by a resolver and must be regenerated, not edited, and bumping only the file it was
  resolved from would leave the lock (and so the gate) at the vulnerable version;
- a pin of it carries `--hash` options: the hashes belong to the old version's files, and pip
  refuses a bumped line whose hashes do not match;
- a reported pin could not be found and rewritten in its file (edited since the run, or written
  through an environment variable).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from suture.fix.remedies import manifests
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.gates.deps.pins import detect, reader_for
from suture.gates.deps.requirements import exact_version, read_requirements
from suture.model import Finding

_MESSAGE = re.compile(
    r"^(?P<name>\S+) (?P<version>\S+) is vulnerable to (?P<id>\S+)"
    r"(?: \((?P<aliases>[^)]*)\))?; (?:fixed in (?P<fixed>\S+)|no fixed version published)$"
)
_SUMMARY_MAX = 72
# A version ends where a PEP 440 version character stops.
_VERSION_END = r"(?![\w.+!*-])"


@dataclass(frozen=True)
class Advisory:
    """One deps finding: which pin it is about, where it was read, and the fix if one exists."""

    package: str  # normalized name
    version: str  # the vulnerable pinned version
    id: str
    aliases: tuple[str, ...]
    fixed: Version | None  # None: no fixed release published
    path: str | None
    line: int | None
    fingerprint: str


@dataclass(frozen=True)
class PinEdit:
    """One rewritten pin: the file, its 1-based line, and the line's text before and after."""

    path: str
    line: int
    before: str
    after: str


def parse_finding(finding: Finding) -> Advisory | None:
    """The advisory a deps finding reports (`fixed` None when no fix is published)."""
    m = _MESSAGE.match(finding.message)
    if m is None:
        return None
    try:
        fixed = Version(m["fixed"]) if m["fixed"] else None
    except InvalidVersion:
        return None
    aliases = tuple(a.strip() for a in (m["aliases"] or "").split(",") if a.strip())
    return Advisory(package=canonicalize_name(m["name"]), version=m["version"], id=m["id"],
                    aliases=aliases, fixed=fixed, path=finding.path, line=finding.line,
                    fingerprint=finding.fingerprint)


class DependencyBump:
    """Bumps each vulnerable pin to the highest of its advisories' minimal fixed versions."""

    name = "dependency-bump"

    def applies(self, target: FixTarget) -> bool:
        """A deps stage with at least one new finding that names a fixed version."""
        return target.stage.kind == "deps" and any(
            (adv := parse_finding(f)) is not None and adv.fixed is not None
            for f in target.stage.new_findings
        )

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """One candidate per vulnerable package, most advisories first."""
        by_package: dict[str, list[Advisory]] = {}
        for finding in target.stage.new_findings:
            adv = parse_finding(finding)
            if adv is not None and adv.path is not None:  # None: pins read from an environment
                by_package.setdefault(adv.package, []).append(adv)
        for package, found in sorted(by_package.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            fixable = [a for a in found if a.fixed is not None]
            plan = _plan(workdir, package, fixable) if fixable else None
            if plan is None:
                continue
            texts, edits = plan
            for rel, text in texts.items():
                manifests.write_text(workdir / rel, text)
            unfixed = [a for a in found if a.fixed is None]
            yield _proposal(package, fixable, unfixed, edits)


def _plan(workdir: Path, package: str, advisories: Sequence[Advisory]
          ) -> tuple[dict[str, str], list[PinEdit]] | None:
    """New texts of every file to change, or None when the package must be left alone."""
    if any(manifests.is_lock_file(a.path or "") for a in advisories):
        return None
    target = _target(advisories)
    vulnerable = {a.version for a in advisories}
    reported = list(dict.fromkeys(a.path for a in advisories if a.path))
    detected = [p.relative_to(workdir).as_posix() for p in detect(workdir)]
    texts: dict[str, str] = {}
    edits: list[PinEdit] = []
    for rel in dict.fromkeys([*reported, *detected]):
        path = workdir / rel
        # A pin read from outside the repository (an absolute -r include) is not ours to edit.
        inside = path.resolve().is_relative_to(workdir.resolve())
        if manifests.is_lock_file(rel) or not inside or not path.is_file():
            if rel in reported:
                return None
            continue
        original = manifests.read_text(path)
        result = _edit_file(rel, original, package, vulnerable, str(target))
        if result is None:
            return None  # a pin that cannot be bumped correctly (hashes, invalid result)
        text, changed = result
        if not changed:
            if rel in reported:
                return None  # the gate's pin is not where it said: do not guess
            continue
        texts[rel] = text
        edits += changed
    return (texts, edits) if edits else None


def _edit_file(rel: str, text: str, package: str, vulnerable: set[str], target: str
               ) -> tuple[str, list[PinEdit]] | None:
    if rel.rsplit("/", 1)[-1] == "pyproject.toml":
        return _edit_pyproject(rel, text, package, vulnerable, target)
    if reader_for(rel) is read_requirements or rel.endswith((".txt", ".in")):
        return _edit_requirements(rel, text, package, vulnerable, target)
    return text, []


def _edit_requirements(rel: str, text: str, package: str, vulnerable: set[str], target: str
                       ) -> tuple[str, list[PinEdit]] | None:
    lines = text.splitlines(keepends=True)
    edits = []
    for entry in manifests.requirement_lines(text):
        version = exact_version(entry.requirement)
        if entry.name != package or version not in vulnerable:
            continue
        if entry.hashed:
            return None
        for index in range(entry.first, entry.last + 1):
            new = _bump_requirement_text(lines[index], version, target)
            if new is not None:
                edits.append(PinEdit(rel, index + 1, lines[index].rstrip("\r\n"),
                                     new.rstrip("\r\n")))
                lines[index] = new
                break
        else:
            return None
    new_text = "".join(lines)
    left = [e for e in manifests.requirement_lines(new_text)
            if e.name == package and exact_version(e.requirement) in vulnerable]
    return (new_text, edits) if not left else None


def _bump_requirement_text(line: str, old: str, new: str) -> str | None:
    """`line` with its `==old` (or `===old`) before any marker or comment changed to `new`."""
    cut = min((i for i in (line.find(";"), _comment_at(line)) if i >= 0), default=len(line))
    pattern = re.compile(rf"(===?\s*){re.escape(old)}{_VERSION_END}")
    m = pattern.search(line)
    if m is None or m.start() >= cut:
        return None
    return line[: m.start()] + m.group(1) + new + line[m.end():]


def _comment_at(line: str) -> int:
    m = re.search(r"(^|\s)#", line)
    return m.start() if m else -1


def _edit_pyproject(rel: str, text: str, package: str, vulnerable: set[str], target: str
                    ) -> tuple[str, list[PinEdit]] | None:
    before = manifests.parse_toml(text)
    if before is None:
        return None
    lines = text.splitlines(keepends=True)
    tables = manifests.toml_tables([line.rstrip("\r\n") for line in lines])
    edits = []
    for index, line in enumerate(lines):
        if manifests.is_pep621_table(tables[index]):
            new = _bump_pep508_strings(line, package, vulnerable, target)
        elif manifests.is_poetry_table(tables[index]):
            new = _bump_poetry_entry(line, package, vulnerable, target)
        else:
            continue
        if new is not None and new != line:
            edits.append(PinEdit(rel, index + 1, line.rstrip("\r\n"), new.rstrip("\r\n")))
            lines[index] = new
    new_text = "".join(lines)
    after = manifests.parse_toml(new_text)
    if after is None or _pyproject_versions(after, package) & vulnerable:
        return None
    if edits and target not in _pyproject_versions(after, package):
        return None
    return new_text, edits


def _bump_pep508_strings(line: str, package: str, vulnerable: set[str], target: str
                         ) -> str | None:
    out, last = [], 0
    for start, end, value in manifests.quoted_strings(line):
        try:
            req = Requirement(value)
        except InvalidRequirement:
            continue
        version = exact_version(req)
        if canonicalize_name(req.name) != package or version not in vulnerable:
            continue
        new = _bump_requirement_text(value, version, target)
        if new is None:
            return None
        out += [line[last:start], new]
        last = end
    return "".join(out) + line[last:] if out else None


def _bump_poetry_entry(line: str, package: str, vulnerable: set[str], target: str
                       ) -> str | None:
    key = re.match(r"^\s*(?P<q>[\"']?)(?P<name>[A-Za-z0-9._-]+)(?P=q)\s*=\s*", line)
    if key is None or canonicalize_name(key["name"]) != package:
        return None
    rest = line[key.end():]
    # poetry reads a bare version, "==X" and "=X" as exactly X
    for old in vulnerable:
        value = re.compile(
            rf"(?P<head>(?:^|version\s*=\s*)(?P<q>[\"'])(?:={{1,3}}\s*)?){re.escape(old)}"
            rf"(?P=q)"
        )
        m = value.search(rest)
        if m is not None:
            quote = m["q"]
            return line[: key.end()] + rest[: m.start()] + m["head"] + target + quote + \
                rest[m.end():]
    return None


def _pyproject_versions(data: dict[str, Any], package: str) -> set[str]:
    """Exact versions `package` is pinned to in a parsed pyproject (PEP 621 and poetry)."""
    found = set()
    for text in manifests.declared_requirements(data):
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        version = exact_version(req)
        if canonicalize_name(req.name) == package and version is not None:
            found.add(version)
    for spec in manifests.poetry_dependencies(data).get(package, []):
        bare = spec.strip().lstrip("=").strip()
        if bare and re.fullmatch(r"[\w.+!-]+", bare):
            found.add(bare)
    return found


def _target(advisories: Sequence[Advisory]) -> Version:
    """The highest of the advisories' minimal fixed versions."""
    return max(a.fixed for a in advisories if a.fixed is not None)


def _proposal(package: str, advisories: Sequence[Advisory], unfixed: Sequence[Advisory],
              edits: Sequence[PinEdit]) -> Proposal:
    target = _target(advisories)
    old = "/".join(sorted({a.version for a in advisories}, key=_version_key))
    ordered = sorted({a.id: a for a in advisories}.values(),
                     key=lambda a: (a.fixed or Version("0"), a.id))
    # The subject names the newest fixes first: they are the ones that set the target.
    tokens = ([ordered[0].id, *ordered[0].aliases] if len(ordered) == 1
              else [a.id for a in reversed(ordered)])
    summary = _fit(f"Bump {package} {old} -> {target}", tokens)
    where = ", ".join(dict.fromkeys(f"{a.path}:{a.line}" if a.line else str(a.path)
                                    for a in advisories))
    lines = [f"The deps gate reported {package} {old} ({where}) as affected by "
             f"{len(ordered)} published advisor{'ies' if len(ordered) != 1 else 'y'}:"]
    lines += [f"- {a.id}{_aliases(a)}: fixed in {a.fixed}" for a in ordered]
    lines += [
        "",
        f"{target} is the highest of these minimal fixed versions: the lowest release that fixes "
        "every one of them. The pin moves there and no further, to keep the upgrade small.",
    ]
    if unfixed:
        ids = ", ".join(sorted({a.id for a in unfixed}))
        lines += ["", f"Not fixed by this bump (no fixed release is published): {ids}."]
    lines += [
        "",
        "Pins changed:",
        *(f"- {e.path}:{e.line}: {e.before.strip()}  ->  {e.after.strip()}" for e in edits),
        "",
        "This changes the declared version only. Reinstall so the environment runs the fixed "
        f"release: {_install_hint(edits)}",
    ]
    addresses = tuple(dict.fromkeys(a.fingerprint for a in advisories if a.fingerprint))
    return Proposal(summary=summary, rationale="\n".join(lines), addresses=addresses)


def _install_hint(edits: Sequence[PinEdit]) -> str:
    files = [e.path for e in edits if not e.path.endswith("pyproject.toml")]
    if files:
        return f"pip install -r {files[0]}"
    return "pip install -e . (poetry projects: poetry lock, then poetry install)"


def _aliases(adv: Advisory) -> str:
    return f" ({', '.join(adv.aliases)})" if adv.aliases else ""


def _fit(head: str, tokens: Sequence[str]) -> str:
    """`head (token, token +N more)`, with as many tokens as fit in a commit subject."""
    for keep in range(len(tokens), 0, -1):
        more = f" +{len(tokens) - keep} more" if keep < len(tokens) else ""
        candidate = f"{head} ({', '.join(tokens[:keep])}{more})"
        if len(candidate) <= _SUMMARY_MAX:
            return candidate
    return head


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return 0, Version(text)
    except InvalidVersion:
        return 1, text
