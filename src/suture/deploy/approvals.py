"""Approval gates: who may approve a release, recording the decision, and waiting for it."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from suture.audit.actor import default_actor
from suture.audit.events import AuditAction
from suture.audit.recorder import record
from suture.deploy.model import Release, ReleaseStatus, RiskLevel
from suture.deploy.settings import Approval, Environment
from suture.errors import SutureError, UsageError
from suture.store.releases import ApprovalRecord, ReleaseStore
from suture.store.runs import RunStore

ENV_ACTOR = "SUTURE_ACTOR"
_EMAIL = re.compile(r"<([^<>]+)>\s*$")
_BARE_EMAIL = re.compile(r"^([^\s<>@]+@[^\s<>@]+)$")


class ApprovalRefused(SutureError):
    """A release was rejected, or nobody approved it in time (exit 1)."""

    exit_code = 1


def who(root: Path) -> str:
    """The person acting: $SUTURE_ACTOR (set by CI or a wrapper), else the git identity."""
    return os.environ.get(ENV_ACTOR, "").strip() or default_actor(root)


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two identities name one person: same e-mail when both have one, else same text.

    "Name <e-mail>" and a bare e-mail (an API token may be named by one) both count.
    """
    if not a or not b:
        return False
    ea, eb = _email(a), _email(b)
    if ea and eb:
        return ea == eb
    return a.strip().lower() == b.strip().lower()


def _email(identity: str) -> str | None:
    found = _EMAIL.search(identity) or _BARE_EMAIL.match(identity.strip())
    return found.group(1).strip().lower() if found else None


def required(env: Environment, risk_level: RiskLevel, auto_high: bool) -> bool:
    """Whether policy holds this release for a person: always, on high risk, or `auto` said so."""
    if env.approval is Approval.REQUIRED:
        return True
    if env.approval is Approval.HIGH_RISK and risk_level is RiskLevel.HIGH:
        return True
    return auto_high


def decide(root: Path, store: RunStore, ref: str, *, approve: bool, comment: str = "",
           approver: str | None = None) -> tuple[Release, ApprovalRecord]:
    """Record a person's approval or rejection of a release awaiting one."""
    releases = ReleaseStore(store)
    release = releases.get(ref)
    person = approver or who(root)
    if release.status is not ReleaseStatus.AWAITING_APPROVAL:
        raise UsageError(f"release {release.id[:12]} is {release.status.value}, not awaiting "
                         "approval", hint="`suture releases` shows which releases wait")
    if approve and same_person(person, release.author):
        raise UsageError(
            f"{person} wrote commit {release.commit[:10]} and cannot approve its release",
            hint="policy requires approval by a person other than the change's author",
        )
    rec = releases.add_approval(release.id, person, "approved" if approve else "rejected",
                                comment)
    action = AuditAction.APPROVAL_GRANTED if approve else AuditAction.APPROVAL_DENIED
    record(store, action, f"release/{release.id}", {
        "env": release.env, "commit": release.commit, "author": release.author,
        "comment": comment,
    }, actor=person, root=root)
    return release, rec


def wait(releases: ReleaseStore, release: Release, timeout_s: float,
         on_wait: Callable[[float], None] | None = None, poll_s: float = 1.0) -> ApprovalRecord:
    """Block until a person decides; ApprovalRefused on rejection or when time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        for rec in releases.approvals(release.id):
            if rec.decision == "rejected":
                raise ApprovalRefused(f"release {release.id[:12]} was rejected by {rec.approver}"
                                      + (f": {rec.comment}" if rec.comment else ""))
            if rec.decision == "approved":
                return rec
        left = deadline - time.monotonic()
        if left <= 0:
            raise ApprovalRefused(
                f"release {release.id[:12]} was not approved within {timeout_s:g}s",
                hint=f"ask an approver to run `suture approve {release.id[:12]}`, then "
                "deploy again (or raise approval_timeout_s for the environment)")
        if on_wait is not None:
            on_wait(left)
        time.sleep(min(poll_s, left))
