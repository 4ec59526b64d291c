"""`culprit-revert`: undo the hunks of the commit `suture why` named, smallest change first.

The culprit's code hunks (tests excluded: a test that changed with the code is the new
expectation, not the bug) are reverted one at a time, then all together, and a candidate is
proposed only when the failing tests pass with it. Reverting fewer lines keeps more of the
commit's intended work.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from suture.fix.integrity import is_test_file
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.heal.bisect import split_hunks
from suture.heal.worktree import git, toplevel
from suture.model import Category

_FAILURE_RULES = ("tests/failed", "tests/error")


class CulpritRevert:
    """Revert the culprit commit's offending hunks."""

    name = "culprit-revert"

    def applies(self, target: FixTarget) -> bool:
        """A regression diagnosis naming the culprit commit."""
        d = target.diagnosis
        return bool(d and d.culprit_commit and d.category == Category.REGRESSION)

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """Each single code hunk reverted, then the whole code change, if the tests then pass."""
        assert target.diagnosis is not None and target.diagnosis.culprit_commit  # noqa: S101
        culprit = target.diagnosis.culprit_commit
        subject = git(workdir, "log", "-1", "--format=%s", culprit).stdout.strip()
        top = toplevel(workdir)  # hunk paths are relative to it, as `git apply` reads them
        diff = git(workdir, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-U0",
                   f"{culprit}^", culprit, "--", ".").stdout
        hunks = [h for h in split_hunks(diff) if "@@" in h and not is_test_file(_path(h))]
        failing = [f.message.split(" ", 1)[0] for f in target.stage.new_findings
                   if f.rule_id in _FAILURE_RULES]
        tries = [[h] for h in sorted(hunks, key=len)] + ([hunks] if len(hunks) > 1 else [])
        for chosen in tries:
            if not _reverse_apply(top, chosen):
                continue
            if failing and not ctx.run_tests(workdir, failing).passed:
                _reverse_apply(top, chosen, undo=True)
                continue
            files = sorted({_path(h) for h in chosen})
            scope = (f"hunk {hunks.index(chosen[0]) + 1} of {len(hunks)}" if len(chosen) == 1
                     else f"all {len(chosen)} code hunks")
            yield Proposal(
                summary=f"Revert {scope} of {culprit[:10]} in {', '.join(files)}"[:72],
                rationale=f"suture why found that commit {culprit[:10]} \"{subject}\" broke "
                f"{', '.join(failing[:3]) or 'the gate'}. Reverting {scope} of its code "
                f"changes ({', '.join(files)}) makes the failing tests pass again; the rest of "
                "the commit is kept. The commit's intent still needs a correct implementation.",
                addresses=tuple(failing),
            )


def _path(hunk: str) -> str:
    """The file a hunk changes, relative to the repository's top."""
    old = ""
    for line in hunk.splitlines()[:3]:
        if line.startswith("+++ ") and line[4:] != "/dev/null":
            return line[4:].removeprefix("b/")
        if line.startswith("--- ") and line[4:] != "/dev/null":
            old = line[4:].removeprefix("a/")
    return old


def _reverse_apply(top: Path, hunks: list[str], *, undo: bool = False) -> bool:
    """Apply the hunks in reverse under `top` (forward when undoing); all or nothing."""
    with tempfile.TemporaryDirectory(prefix="suture-revert-") as tmp:
        path = Path(tmp) / "revert.patch"
        path.write_text("\n".join(hunks) + "\n", encoding="utf-8")
        direction = () if undo else ("--reverse",)
        # Zero-context hunks revert exactly the changed lines, however close together.
        res = git(top, "apply", *direction, "--unidiff-zero", str(path), check=False)
    return res.returncode == 0
