"""Who counts as the same person when approving a release (separation of duties)."""

from __future__ import annotations

import pytest

from suture.deploy.approvals import same_person


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Ann Author <ann@example.org>", "Ann A. <ANN@example.org>", True),
    ("Ann Author <ann@example.org>", "ann@example.org", True),  # a token named by e-mail
    ("ann@example.org", "Ann@Example.org", True),
    ("Ann Author <ann@example.org>", "Bob <bob@example.org>", False),
    ("Ann Author <ann@example.org>", "Ann Author", False),  # a name alone is no proof
    ("alice", "ALICE", True),
    ("alice", None, False),
    ("", "", False),
])
def test_same_person(a: str, b: str | None, same: bool) -> None:
    assert same_person(a, b) is same
