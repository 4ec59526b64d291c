"""`suture token` as an admin runs it: the secret shown once, listed without it, audited."""

from __future__ import annotations

import json

import pytest

from suture.audit import AuditLog
from suture.store import open_store
from suture.store.tokens import Role, TokenRejected, TokenStore
from tests.fixtures.cli import run_suture
from tests.fixtures.git import GitRepo

ADMIN = {"SUTURE_ACTOR": "Ann Admin <ann@example.org>"}


def test_create_prints_the_secret_once_and_audits_without_it(git_repo: GitRepo) -> None:
    res = run_suture(git_repo.path, "token", "create", "--role", "approver", "--name", "alice",
                     env=ADMIN)
    assert res.code == 0, res.out
    secret = res.stdout.strip()
    assert secret.startswith("sut_") and "\n" not in secret  # stdout is the secret alone
    assert "not shown again" in res.stderr and "alice" in res.stderr
    with open_store(git_repo.path) as store:
        record = TokenStore(store).verify(secret)
    assert (record.name, record.role, record.created_by) == ("alice", Role.APPROVER,
                                                              ADMIN["SUTURE_ACTOR"])
    listed = run_suture(git_repo.path, "token", "list", "--json")
    assert listed.code == 0, listed.out
    tokens = json.loads(listed.stdout)["tokens"]
    assert [(t["id"], t["name"], t["state"]) for t in tokens] == [(record.id, "alice", "active")]
    table = run_suture(git_repo.path, "token", "list")
    assert "alice" in table.stdout and "approver" in table.stdout
    for out in (listed.out, table.out):
        assert secret.split("_", 2)[2] not in out
    with AuditLog.open(git_repo.path) as log:
        events = log.events(actions=["token.*"])
        assert log.verify().ok
    assert [(e.action, e.subject, e.actor) for e in events] == [
        ("token.created", f"token/{record.id}", ADMIN["SUTURE_ACTOR"])]
    assert json.loads(events[0].payload)["role"] == "approver"
    assert secret.split("_", 2)[2] not in events[0].payload


def test_json_create_revoke_and_refusals(git_repo: GitRepo) -> None:
    res = run_suture(git_repo.path, "token", "create", "--role", "viewer", "--name", "dash",
                     "--expires", "never", "--json", env=ADMIN)
    assert res.code == 0, res.out
    data = json.loads(res.stdout)
    assert data["schema_version"] == 1 and data["token"]["expires_at"] is None
    assert data["secret"].startswith(f"sut_{data['token']['id']}_")

    again = run_suture(git_repo.path, "token", "create", "--role", "admin", "--name", "dash")
    assert again.code == 2 and "already exists" in again.stderr
    assert "Traceback" not in again.out

    revoked = run_suture(git_repo.path, "token", "revoke", "dash", env=ADMIN)
    assert revoked.code == 0, revoked.out
    assert data["token"]["id"] in revoked.stdout
    with open_store(git_repo.path) as store, pytest.raises(TokenRejected) as err:
        TokenStore(store).verify(data["secret"])
    assert err.value.reason == "revoked"
    twice = run_suture(git_repo.path, "token", "revoke", data["token"]["id"])
    assert twice.code == 2 and "already revoked" in twice.stderr
    listed = json.loads(run_suture(git_repo.path, "token", "list", "--all", "--json").stdout)
    assert [t["state"] for t in listed["tokens"]] == ["revoked"]
    with AuditLog.open(git_repo.path) as log:
        actions = [e.action for e in log.events(actions=["token.*"], newest_first=False)]
    assert actions == ["token.created", "token.revoked"]


@pytest.mark.parametrize("args, needle", [
    (("--role", "viewer", "--name", "x", "--expires", "soon"), "not a lifetime"),
    (("--role", "viewer", "--name", "x", "--expires", "0d"), "not a lifetime"),
    (("--role", "root", "--name", "x"), "root"),
    (("--role", "viewer", "--name", "bad name"), "not a usable token name"),
])
def test_bad_input_exits_2(git_repo: GitRepo, args: tuple[str, ...], needle: str) -> None:
    res = run_suture(git_repo.path, "token", "create", *args)
    assert res.code == 2, res.out
    assert needle in res.stderr and "Traceback" not in res.out
