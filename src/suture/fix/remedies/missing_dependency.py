"""Remedy `missing-dependency`: declare the distribution that provides a module tests cannot import.

The module comes from the diagnosis ("module 'X' is not installed in the project's environment")
or from "No module named 'X'" in the failing tests. Its distribution is looked up in the project's
environment, then in suture's own, then in a table of import names that differ from their
distribution names (yaml is PyYAML), else it is the import name itself. It is declared in
requirements.txt if the project has one, else in pyproject `[project]` dependencies, following
the file's pinning style and layout.

It proposes nothing for a standard-library module or a module of the repository itself (a file or
package of that name: a path problem, not a dependency), for a distribution already declared (the
environment is the problem, not the declaration), for a requirements file in pip's hash-checking
mode (a line without hashes would break the install), and for dynamic pyproject dependencies.
Declaring does not install: the rationale says how to install, and the engine decides acceptance.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from suture import proc
from suture.errors import ToolError
from suture.fix.remedies import manifests
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.gates import files
from suture.model import Category

_NO_MODULE = re.compile(r"No module named '?([\w.]+)'?")
_ROOT_CAUSE = re.compile(r"module '([\w.]+)' is not installed")
_DEPENDENCIES = re.compile(r"^\s*dependencies\s*=\s*\[")
_ITEM = re.compile(r"^(?P<indent>\s*)(?P<q>[\"'])(?P<text>.+?)(?P=q)(?P<comma>\s*,)?\s*(#.*)?$")
_PROBE_TIMEOUT_S = 120.0
# Runs in the project's interpreter (any Python 3.8+): the distributions whose installed files
# include the module, with their versions. File lists rather than top-level names, so a dotted
# module in a shared namespace (google.protobuf) maps to the one distribution that ships it.
_PROBE = """\
import importlib.metadata as md, json, sys
parts = sys.argv[1].split(".")
found = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    for f in (dist.files or ()) if name else ():
        p = list(f.parts[: len(parts)])
        if len(p) < len(parts):
            continue
        is_file = len(f.parts) == len(parts)
        if is_file:
            p[-1] = p[-1].split(".")[0]
        if p == parts and (not is_file or f.parts[-1].endswith((".py", ".so", ".pyd"))):
            found[name] = dist.version
            break
print(json.dumps(found))
"""
# Import names that differ from the distribution that provides them (the common cases).
KNOWN_DISTRIBUTIONS: dict[str, str] = {
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "jwt": "PyJWT",
    "jose": "python-jose",
    "dotenv": "python-dotenv",
    "multipart": "python-multipart",
    "attr": "attrs",
    "google.protobuf": "protobuf",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "nacl": "PyNaCl",
    "dns": "dnspython",
    "git": "GitPython",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "magic": "python-magic",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "MySQLdb": "mysqlclient",
    "ldap": "python-ldap",
    "slugify": "python-slugify",
    "fitz": "PyMuPDF",
    "gi": "PyGObject",
    "win32api": "pywin32",
    "fhir.resources": "fhir.resources",
    "jsonpath_ng": "jsonpath-ng",
}


@dataclass(frozen=True)
class Distribution:
    """The distribution chosen for a module, its installed version if known, and why."""

    name: str
    version: str | None  # installed in the project's environment
    source: str


@dataclass(frozen=True)
class Declaration:
    """A file's new text declaring one requirement, and what was written where."""

    path: str
    text: str
    requirement: str
    line: int  # 1-based line of the new entry
    note: str  # why the requirement is pinned (or not) the way it is


class MissingDependency:
    """Declares the distribution of a module the tests could not import."""

    name = "missing-dependency"

    def applies(self, target: FixTarget) -> bool:
        """A missing-dependency diagnosis, or "No module named" in the stage's log or findings."""
        diagnosis = target.diagnosis
        if diagnosis is not None and diagnosis.category is Category.MISSING_DEPENDENCY:
            return True
        return any(_NO_MODULE.search(text) for text in _stage_texts(target))

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """One candidate per missing module that a declaration can supply."""
        local: set[str] | None = None
        for module in missing_modules(target):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names:
                continue
            local = local if local is not None else _local_modules(workdir)
            if top in local:
                continue
            dist = resolve(module, ctx.python, workdir)
            declaration = declare(workdir, dist)
            if declaration is None:
                continue
            manifests.write_text(workdir / declaration.path, declaration.text)
            yield _proposal(target, module, dist, declaration)


def missing_modules(target: FixTarget) -> list[str]:
    """The modules the failure could not import: the diagnosed one first, in order seen."""
    texts = [*_stage_texts(target), *_diagnosis_texts(target)]
    found = [m for text in texts for m in _NO_MODULE.findall(text)]
    diagnosis = target.diagnosis
    if diagnosis is not None and diagnosis.category is Category.MISSING_DEPENDENCY:
        m = _ROOT_CAUSE.search(diagnosis.root_cause)
        # The diagnosis also files "cannot import name 'X'" here, where X is no module at all.
        if m and (m[1] in found or not any(f"cannot import name '{m[1]}'" in t for t in texts)):
            found.insert(0, m[1])
    return list(dict.fromkeys(found))


def resolve(module: str, python: str, cwd: Path) -> Distribution:
    """The distribution that provides `module`: installed ones first, then the table."""
    installed = _providers(python, module, cwd)
    if installed:
        name = _pick(installed, module)
        return Distribution(name, installed[name],
                            f"installed in the project's environment ({python})")
    if not _same_environment(python, sys.executable):
        elsewhere = _providers(sys.executable, module, cwd)
        if elsewhere:
            return Distribution(_pick(elsewhere, module), None, "installed in suture's environment")
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        known = KNOWN_DISTRIBUTIONS.get(".".join(parts[:n]))
        if known:
            return Distribution(known, None, "suture's table of import names that differ from "
                                "their distribution names")
    return Distribution(parts[0], None, "no installed distribution provides it, so the import "
                        "name is taken as the distribution name")


def declare(workdir: Path, dist: Distribution) -> Declaration | None:
    """The project's declaration file with `dist` added, or None when declaring is no fix."""
    requirements = workdir / "requirements.txt"
    if requirements.is_file():
        return _declare_requirements(requirements, "requirements.txt", dist)
    pyproject = workdir / "pyproject.toml"
    if pyproject.is_file():
        return _declare_pyproject(pyproject, "pyproject.toml", dist)
    return None


def _providers(python: str, module: str, cwd: Path) -> dict[str, str]:
    res = proc.run((python, "-c", _PROBE, module), cwd=cwd, timeout=_PROBE_TIMEOUT_S)
    try:
        found = json.loads(res.stdout) if res.returncode == 0 else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ToolError(f"could not list the distributions installed for {python}",
                        hint=f"check that {python} runs and has importlib.metadata (Python 3.8+)"
                        f"\n{res.describe()}")
    return {str(k): str(v) for k, v in found.items()}


def _same_environment(python: str, other: str) -> bool:
    """Same interpreter path; not resolved, since a venv's python is a link to its base's."""
    def where(cmd: str) -> str:
        return os.path.abspath(shutil.which(cmd) or cmd)

    return where(python) == where(other)


def _pick(installed: dict[str, str], module: str) -> str:
    """The distribution named like the module if one is, else the first by name."""
    top = canonicalize_name(module.split(".")[0])
    same = [n for n in installed if canonicalize_name(n) == top]
    return same[0] if same else sorted(installed, key=str.lower)[0]


def _local_modules(workdir: Path) -> set[str]:
    """Top-level names of the repository's own modules and packages, at any depth."""
    names = set()
    for rel in files.repo_files(workdir):
        if files.is_excluded(rel, ()) or not rel.endswith(".py"):
            continue
        parts = rel.split("/")
        names.add(parts[-1][:-3])
        if len(parts) > 1:
            names.add(parts[-2])  # a package (or namespace package) folder
    return names


def _pinned(dist: Distribution, style: str | None) -> tuple[str, str]:
    """The requirement to write, and a note on why it is written that way."""
    if style is None:
        return dist.name, "unpinned, like the file's other requirements"
    if dist.version is None:
        return dist.name, (f"unpinned although the file uses {style}: {dist.name} is not "
                           "installed in the project's environment, so no version is known")
    return f"{dist.name}{style}{dist.version}", (
        f"the file pins with {style}; {dist.version} is the version installed in the project's "
        "environment")


def _declare_requirements(path: Path, rel: str, dist: Distribution) -> Declaration | None:
    text = manifests.read_text(path)
    entries = manifests.requirement_lines(text)
    name = canonicalize_name(dist.name)
    if any(e.hashed for e in entries) or any(e.name == name for e in entries):
        return None
    style = manifests.specifier_style([e.requirement for e in entries]) if entries else None
    requirement, note = _pinned(dist, style)
    lines = text.splitlines(keepends=True)
    newline = manifests.newline_of(text)
    names = [e.name for e in entries]
    later = [e for e in entries if e.name > name]
    if len(names) > 1 and names == sorted(names) and later:
        index = later[0].first
    else:
        index = entries[-1].last + 1 if entries else len(lines)
    if index > 0 and index == len(lines) and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    lines.insert(index, requirement + newline)
    new_text = "".join(lines)
    if name not in {e.name for e in manifests.requirement_lines(new_text)}:
        return None
    return Declaration(rel, new_text, requirement, index + 1, note)


def _declare_pyproject(path: Path, rel: str, dist: Distribution) -> Declaration | None:
    text = manifests.read_text(path)
    data = manifests.parse_toml(text)
    project = (data or {}).get("project")
    if not isinstance(project, dict) or "dependencies" in (project.get("dynamic") or []):
        return None
    existing = [str(d) for d in project.get("dependencies") or []]
    try:
        parsed = [Requirement(d) for d in existing]
    except InvalidRequirement:
        return None
    if any(canonicalize_name(r.name) == canonicalize_name(dist.name) for r in parsed):
        return None
    requirement, note = _pinned(dist, manifests.specifier_style(parsed) if parsed else None)
    edit = _insert_dependency(text, requirement)
    if edit is None:
        return None
    new_text, line = edit
    after = manifests.parse_toml(new_text) or {}
    declared = list((after.get("project") or {}).get("dependencies") or [])
    if sorted(declared) != sorted([*existing, requirement]):
        return None  # the text edit did not mean what it should: leave the file alone
    return Declaration(rel, new_text, requirement, line, note)


def _insert_dependency(text: str, requirement: str) -> tuple[str, int] | None:
    """`text` with `requirement` added to `[project]` dependencies, and its 1-based line."""
    lines = text.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    newline = manifests.newline_of(text)
    tables = manifests.toml_tables(bare)
    in_project = [i for i, t in enumerate(tables) if t == "project"]
    if not in_project:
        return None
    start = next((i for i in in_project if _DEPENDENCIES.match(bare[i])), None)
    if start is None:
        content = [i for i in in_project
                   if bare[i].strip() and not bare[i].lstrip().startswith("#")]
        index = content[-1] + 1
        if index == len(lines) and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.insert(index, f'dependencies = ["{requirement}"]{newline}')
        return "".join(lines), index + 1
    column = bare[start].index("[", bare[start].index("="))
    end = manifests.array_end(bare, start, column)
    if end is None:
        return None
    row, close = end
    if row == start:
        return _insert_inline(lines, start, column, close, requirement), start + 1
    return _insert_multiline(lines, bare, start, column, end, requirement, newline)


def _insert_inline(lines: list[str], row: int, column: int, close: int, requirement: str) -> str:
    """`dependencies = ["a", "b"]` gains `, "requirement"` before its `]`."""
    line = lines[row]
    inner = line[column + 1:close]
    quote = next((q for q in inner if q in "\"'"), '"')
    item = f"{quote}{requirement}{quote}"
    body = inner.rstrip()
    separator = " " if body.endswith(",") else ", "
    new_inner = body + separator + item if body.strip() else item
    lines[row] = line[: column + 1] + new_inner + line[close:]
    return "".join(lines)


def _insert_multiline(lines: list[str], bare: Sequence[str], start: int, column: int,
                      end: tuple[int, int], requirement: str, newline: str
                      ) -> tuple[str, int] | None:
    """One item per line: the new one goes in name order if the list is sorted, else last."""
    row, close = end
    head, tail = bare[start][column + 1:].strip(), bare[row][:close].strip()
    if (head and not head.startswith("#")) or tail:
        return None  # items share the bracket lines: no one-per-line layout to follow
    items: list[tuple[int, re.Match[str]]] = []
    for i in range(start + 1, row):
        stripped = bare[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _ITEM.match(bare[i])
        if m is None:
            return None
        items.append((i, m))
    indent = items[0][1]["indent"] if items else "    "
    quote = items[0][1]["q"] if items else '"'
    entry = f"{indent}{quote}{requirement}{quote}"
    name = canonicalize_name(Requirement(requirement).name)
    names = [_name(m["text"]) for _, m in items]
    later = [i for (i, _), n in zip(items, names, strict=True) if n > name]
    if len(items) > 1 and names == sorted(names) and later:
        lines.insert(later[0], f"{entry},{newline}")
        return "".join(lines), later[0] + 1
    if items and not items[-1][1]["comma"]:
        last, m = items[-1]
        at = m.end("text") + 1  # just after the closing quote
        # close the old last item with a comma and keep the list's no-trailing-comma style
        lines[last] = lines[last][:at] + "," + lines[last][at:]
        lines.insert(row, f"{entry}{newline}")
    else:
        lines.insert(row, f"{entry},{newline}")
    return "".join(lines), row + 1


def _name(text: str) -> str:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return ""


def _stage_texts(target: FixTarget) -> list[str]:
    return [*(f.message for f in target.stage.new_findings), target.stage.log]


def _diagnosis_texts(target: FixTarget) -> list[str]:
    diagnosis = target.diagnosis
    if diagnosis is None:
        return []
    texts = [diagnosis.root_cause]
    for why in diagnosis.chain:
        texts += [why.answer, *(e.text for e in why.evidence)]
    return texts


def _proposal(target: FixTarget, module: str, dist: Distribution, decl: Declaration
              ) -> Proposal:
    texts = [*_stage_texts(target), *_diagnosis_texts(target)]
    needle = re.compile(rf"No module named '?{re.escape(module)}'?(?![\w.])")
    quoted = next((line.strip() for t in texts for line in t.splitlines() if needle.search(line)),
                  None)
    same = canonicalize_name(dist.name) == canonicalize_name(module)
    imported = "" if same else f" (imported as {module})"
    install = ("pip install -r requirements.txt" if decl.path == "requirements.txt"
               else "pip install -e .")
    lines = [
        f"The {target.stage.name} gate fails because Python cannot import '{module}'"
        + (f": {quoted[:300]}" if quoted else "."),
        f"'{module}' is provided by the distribution {dist.name} ({dist.source}), and "
        f"{decl.path} does not declare it.",
        f"This adds `{decl.requirement}` to {decl.path} (line {decl.line}): {decl.note}.",
        "",
        "Declaring a dependency does not install it. Install it into the project's environment "
        f"before the tests can import '{module}': {install}",
    ]
    addresses = tuple(f.fingerprint for f in target.stage.new_findings
                      if f.fingerprint and needle.search(f.message))
    return Proposal(summary=f"Declare {dist.name}{imported} in {decl.path}",
                    rationale="\n".join(lines), addresses=addresses,
                    install=(decl.requirement,))

