"""What a candidate may touch: inside the project, no links, no CI or suture configuration.

A fix that edits the pipeline that judges it, the secrets baseline, or suture.yml could make
any gate pass; those files are a person's decision, so a patch touching them is refused whole.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import PurePosixPath

from suture.fix.patch import Patch

# Pipelines and the files that configure how suture judges: never edited by a fix.
PROTECTED = (
    ".github/*", ".gitlab-ci.yml", ".gitlab/*", ".circleci/*", ".ci/*", "Jenkinsfile",
    "azure-pipelines.yml", "bitbucket-pipelines.yml", ".buildkite/*", ".drone.yml",
    ".pre-commit-config.yaml", "suture.yml", ".suture/*", ".secrets.baseline",
)


def refusals(patch: Patch, *, extra_protected: tuple[str, ...] = (),
             max_lines: int = 400) -> list[str]:
    """Why the patch may not be applied (empty when it may), one line each."""
    problems: list[str] = []
    if not patch.changes:
        return ["the candidate changes nothing"]
    for change in patch.changes:
        path = PurePosixPath(change.path)
        if path.is_absolute() or ".." in path.parts:
            problems.append(f"{change.path}: outside the project")
        elif change.is_link:
            problems.append(f"{change.path}: a symbolic link or submodule")
        elif any(fnmatch(change.path, p) or fnmatch(change.path, p.rstrip("/*") + "/*")
                 for p in PROTECTED + extra_protected):
            problems.append(f"{change.path}: CI, suture or secrets configuration is not a "
                            "fix's to change")
    if patch.lines_changed > max_lines:
        problems.append(f"{patch.lines_changed} lines changed; a fix is at most {max_lines}")
    return problems
