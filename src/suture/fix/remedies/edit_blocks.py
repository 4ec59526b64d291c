"""Search/replace edits proposed by a model: parse them, check them, apply them all or none.

An edit names a file, a stretch of its text (`search`) and what replaces it. `search` must occur
exactly once: whitespace-exact first, else line by line with whitespace runs collapsed (the
usual slip of a model copying code), still requiring one match. Edits may only change existing
project files inside the worktree: never tests, CI configuration, suture's own files, or
anything reached through `..`, an absolute path or a symlink leading out. One bad edit rejects
the whole answer, and files already written are restored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from suture.errors import SutureError
from suture.llm.redact import Kind

# A redacted value as the gateway writes it, e.g. [SSN_1]: never real code.
_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(k.value for k in Kind) + r")_\d+\]")
_BLOCK = re.compile(
    r"^(?P<path>[^\n]+?)[ \t]*\n(?:```[^\n]*\n)?<{5,9} SEARCH[ \t]*\n(?P<search>.*?)^={5,9}[ \t]*\n"
    r"(?P<replace>.*?)^>{5,9} REPLACE[ \t]*$",
    re.M | re.S,
)
_CI_DIRS = (".github", ".gitlab", ".ci", ".circleci", ".buildkite")
_CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", ".travis.yml")
# suture's own state and records: a fix must not rewrite the rules it is judged by.
_SUTURE_FILES = ("suture.yml", ".secrets.baseline", "suture-quarantine.json")
_SUTURE_DIRS = (".git", ".suture")


@dataclass(frozen=True)
class EditBlock:
    """Replace the one occurrence of `search` in the file at `path` (repo-relative) by `replace`."""

    path: str
    search: str
    replace: str


class EditRefused(SutureError):
    """An edit that may not or cannot be applied; the message says which one and why."""


def parse_blocks(text: str) -> list[EditBlock]:
    """The SEARCH/REPLACE blocks in `text`, each preceded by its file path on its own line.

        src/app.py
        <<<<<<< SEARCH
        old
        =======
        new
        >>>>>>> REPLACE
    """
    return [EditBlock(path=m["path"].strip().strip("`").strip(), search=m["search"],
                      replace=m["replace"])
            for m in _BLOCK.finditer(text)]


def protected_reason(rel: str) -> str | None:
    """Why the repo-relative path `rel` may not be edited by a model, or None when it may."""
    parts = PurePosixPath(rel).parts
    name = parts[-1] if parts else ""
    if not parts:
        return "no file named"
    if parts[0] in _SUTURE_DIRS or rel in _SUTURE_FILES or name == "suture.yml":
        return "it is suture's own configuration or state"
    if parts[0] in _CI_DIRS or name in _CI_FILES:
        return "it is CI configuration"
    if "tests" in parts[:-1] or "test" in parts[:-1]:
        return "it is a test file (tests are the specification; fix the code instead)"
    if name == "conftest.py" or re.fullmatch(r"test_.*\.py|.*_test\.py", name):
        return "it is a test file (tests are the specification; fix the code instead)"
    return None


def check_path(workdir: Path, rel: str) -> Path:
    """The existing file `rel` names inside `workdir`, or EditRefused saying why not."""
    if not rel or rel.strip() != rel or "\\" in rel or "\x00" in rel:
        raise EditRefused(f"path {rel!r} is not a plain repository-relative path")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", rel):
        raise EditRefused(f"path {rel!r} is absolute; use a path relative to the repository")
    if ".." in pure.parts:
        raise EditRefused(f"path {rel!r} leaves the repository through '..'")
    reason = protected_reason(pure.as_posix())
    if reason:
        raise EditRefused(f"{rel} may not be edited: {reason}")
    base = workdir.resolve()
    target = (base / pure).resolve()
    if base not in target.parents:
        raise EditRefused(f"path {rel!r} leads outside the repository (through a symlink)")
    real = target.relative_to(base).as_posix()
    reason = protected_reason(real)
    if reason:
        raise EditRefused(f"{rel} (really {real}) may not be edited: {reason}")
    if not target.is_file():
        raise EditRefused(f"{rel} does not exist; edits may change existing files only, "
                          "not create or delete them")
    return target


def locate(text: str, search: str) -> tuple[int, int]:
    """The (start, end) of the one occurrence of `search` in `text`, else EditRefused.

    Whitespace-exact first; failing that, whole lines compared with whitespace runs collapsed.
    """
    first = text.find(search)
    if first != -1:
        if text.find(search, first + 1) != -1:
            raise EditRefused("the search text occurs more than once; include more lines so it "
                              "matches exactly one place")
        return first, first + len(search)
    wanted = [_norm(s) for s in _trim_blank(search.splitlines())]
    if not wanted:
        raise EditRefused("the search text is empty")
    lines = text.splitlines(keepends=True)
    normed = [_norm(s) for s in lines]
    hits = [i for i in range(len(lines) - len(wanted) + 1)
            if normed[i:i + len(wanted)] == wanted]
    if not hits:
        raise EditRefused("the search text was not found (copy the lines exactly, without the "
                          "line numbers shown in the prompt)")
    if len(hits) > 1:
        raise EditRefused("the search text matches more than one place (ignoring whitespace); "
                          "include more lines so it matches exactly one place")
    start = sum(len(s) for s in lines[:hits[0]])
    end = start + sum(len(s) for s in lines[hits[0]:hits[0] + len(wanted)])
    return start, end


def replace_once(text: str, edit: EditBlock) -> str:
    """`text` with the edit applied, re-indented when it matched only ignoring whitespace."""
    for field, value in (("search", edit.search), ("replace", edit.replace)):
        found = _PLACEHOLDER.search(value)
        if found:
            raise EditRefused(f"the {field} text contains {found.group(0)}, a redacted "
                              "placeholder, not real code: pick lines without redacted values")
    if not edit.search.strip():
        raise EditRefused("the search text is empty; edits replace existing code")
    if edit.search == edit.replace:
        raise EditRefused("search and replace are identical: the edit changes nothing")
    start, end = locate(text, edit.search)
    matched = text[start:end]
    if matched == edit.search:
        return text[:start] + edit.replace + text[end:]
    replacement = _reindent(edit.replace, _indent_of(edit.search), _indent_of(matched))
    if matched.endswith("\n") and not replacement.endswith("\n") and replacement:
        replacement += "\n"
    return text[:start] + replacement + text[end:]


class Applied:
    """Edits written to disk; `restore()` puts every touched file back as it was."""

    def __init__(self, originals: dict[Path, str], workdir: Path) -> None:
        self._originals = originals
        self._workdir = workdir

    @property
    def paths(self) -> tuple[str, ...]:
        """Repo-relative paths of the files changed, in the order first edited."""
        base = self._workdir.resolve()
        return tuple(p.relative_to(base).as_posix() for p in self._originals)

    def restore(self) -> None:
        """Write back the original text of every file the edits changed."""
        for path, text in self._originals.items():
            path.write_text(text, encoding="utf-8")


def apply_edits(workdir: Path, edits: Sequence[EditBlock]) -> Applied:
    """Apply every edit or none: all are checked in memory first; EditRefused names the bad one.

    Edits to one file apply in order, each to the text the previous ones left. A Python file
    that would no longer parse is refused too.
    """
    if not edits:
        raise EditRefused("the answer contains no edits")
    originals: dict[Path, str] = {}
    current: dict[Path, str] = {}
    for n, edit in enumerate(edits, 1):
        try:
            path = check_path(workdir, edit.path)
            if path not in current:
                originals[path] = current[path] = _read(path, edit.path)
            current[path] = replace_once(current[path], edit)
        except EditRefused as exc:
            raise EditRefused(f"edit {n} ({edit.path}): {exc.message}", hint=exc.hint) from None
    for path, text in current.items():
        rel = path.relative_to(workdir.resolve()).as_posix()
        if not text.strip():
            raise EditRefused(f"{rel} would be left empty; deleting files is not allowed")
        if path.suffix == ".py":
            _check_syntax(text, rel)
    changed = {p: originals[p] for p in current if current[p] != originals[p]}
    if not changed:
        raise EditRefused("the edits change nothing")
    written: dict[Path, str] = {}
    try:
        for path, original in changed.items():
            written[path] = original
            path.write_text(current[path], encoding="utf-8")
    except OSError as exc:
        Applied(written, workdir).restore()
        raise EditRefused(f"could not write {path.name}: {exc}") from exc
    return Applied(written, workdir)


def _read(path: Path, rel: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise EditRefused(f"{rel} is not UTF-8 text") from None


def _check_syntax(text: str, rel: str) -> None:
    try:
        compile(text, rel, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise EditRefused(f"{rel} would not parse after the edits: {exc.msg} at line "
                          f"{exc.lineno}") from None
    except ValueError as exc:  # e.g. a NUL byte
        raise EditRefused(f"{rel} would not parse after the edits: {exc}") from None


def _norm(line: str) -> str:
    return " ".join(line.split())


def _trim_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _indent_of(text: str) -> str:
    """The leading whitespace of the first non-blank line."""
    for line in text.splitlines():
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    return ""


def _reindent(text: str, was: str, now: str) -> str:
    """Shift `text` from indentation `was` to `now` when one extends the other; else keep it."""
    lines = _trim_blank(text.splitlines(keepends=True))
    if was == now:
        return "".join(lines)
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif now.startswith(was):
            out.append(now[len(was):] + line)
        elif was.startswith(now) and line.startswith(was[len(now):]):
            out.append(line[len(was) - len(now):])
        else:
            out.append(line)
    return "".join(out)
