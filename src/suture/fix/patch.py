"""A candidate as a patch: captured from a remedy's scratch worktree, applied to a fresh one.

Capturing as a git diff (binary-safe, new files included) means every candidate, whatever
remedy made it, is checked and applied the same way, and one that does not apply is refused
whole: `git apply` changes nothing unless every hunk fits.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from suture.errors import ToolError
from suture.heal.worktree import git

_SYMLINK_MODE = "120000"
_GITLINK_MODE = "160000"


@dataclass(frozen=True)
class FileChange:
    """One path a patch touches: how (added, modified, deleted) and its new mode."""

    path: str
    status: str  # A, M, D (renames are captured as D + A)
    mode: str  # the new mode ("000000" when deleted)

    @property
    def is_link(self) -> bool:
        """A symbolic link or a submodule: content that points elsewhere."""
        return self.mode in (_SYMLINK_MODE, _GITLINK_MODE)


@dataclass(frozen=True)
class Patch:
    """The edits of one candidate, as a binary git diff against the commit it was made on.

    The diff's paths are relative to the repository's top (what `git apply` reads); `changes`
    name them relative to the project folder (what the checks compare).
    """

    diff: str
    changes: tuple[FileChange, ...]

    @property
    def files(self) -> tuple[str, ...]:
        """Every path the patch touches."""
        return tuple(c.path for c in self.changes)

    @property
    def lines_changed(self) -> int:
        """Added plus removed lines, headers excluded."""
        return sum(1 for line in self.diff.splitlines()
                   if line[:1] in "+-" and not line.startswith(("+++", "---")))


def capture(workdir: Path) -> Patch:
    """The edits in `workdir` against its HEAD, untracked files included (ignored ones not)."""
    git(workdir, "add", "--all", "--intent-to-add", ".")
    diff = git(workdir, "diff", "--binary", "--no-renames", "--no-ext-diff", "HEAD").stdout
    # Paths relative to the project folder: what the checks compare with suture.yml's paths.
    raw = git(workdir, "diff", "--raw", "-z", "--no-renames", "--no-abbrev", "--relative",
              "HEAD").stdout
    return Patch(diff=diff, changes=_parse_raw(raw))


def reset(workdir: Path) -> None:
    """Put `workdir` back at its HEAD: edits undone, new files removed."""
    git(workdir, "reset", "--quiet", "--hard", "HEAD")
    git(workdir, "clean", "--quiet", "-d", "--force")


def apply(tree: Path, patch: Patch) -> None:
    """Apply `patch` to the worktree at `tree` and its index; all or nothing."""
    if not patch.diff.strip():
        raise ToolError("the candidate changes nothing", hint="nothing to apply")
    with tempfile.TemporaryDirectory(prefix="suture-patch-") as tmp:
        path = Path(tmp) / "candidate.patch"
        path.write_text(patch.diff, encoding="utf-8")
        res = git(tree, "apply", "--index", "--binary", "--whitespace=nowarn", str(path),
                  check=False)
    if res.returncode != 0:
        raise ToolError("the candidate does not apply", hint=res.stderr.strip()[-500:])


def _parse_raw(raw: str) -> tuple[FileChange, ...]:
    """`git diff --raw -z`: ':old_mode new_mode old_sha new_sha status\\0path\\0' entries."""
    parts = raw.split("\0")
    changes: list[FileChange] = []
    i = 0
    while i + 1 < len(parts) and parts[i].startswith(":"):
        fields = parts[i][1:].split()
        changes.append(FileChange(path=parts[i + 1], status=fields[4][0], mode=fields[1]))
        i += 2
    return tuple(changes)
