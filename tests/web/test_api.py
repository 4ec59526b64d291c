"""The REST API: the same numbers as the pages, pagination, tokens and roles, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from suture.errors import UsageError
from suture.store import open_store
from suture.store.releases import ReleaseStore
from suture.store.tokens import Role, TokenStore
from suture.web.auth import check_bind, is_loopback
from tests.fixtures.web import History, app_for


def token(history: History, name: str, role: Role,
          expires_in: timedelta | None = None) -> str:
    """A fresh token's secret."""
    with open_store(history.repo.path) as store:
        return TokenStore(store).create(name, role, expires_in=expires_in,
                                        created_by="test")[1]


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


def test_metrics_runs_releases_and_approvals(dashboard: TestClient, history: History) -> None:
    m = dashboard.get("/api/v1/metrics", params={"since": "7d", "env": "production"}).json()
    assert m["schema_version"] == 1
    assert m["dora"]["change_failure_rate"]["value"] == 50.0
    assert {k["key"] for k in m["kpis"]} >= {"deployment_success_rate", "test_coverage"}
    runs = dashboard.get("/api/v1/runs", params={"limit": 1}).json()
    assert (runs["total"], runs["next_offset"], len(runs["items"])) == (2, 1, 1)
    assert runs["items"][0]["run_id"] == history.passed_run
    failed = dashboard.get("/api/v1/runs", params={"status": "failed"}).json()
    assert [r["failed"] for r in failed["items"]] == [["tests"]]
    detail = dashboard.get(f"/api/v1/runs/{history.failed_run}").json()
    assert detail["diagnoses"][0]["culprit_commit"] == history.commit
    assert detail["fixes"][0]["status"] == "accepted"
    rel = dashboard.get(f"/api/v1/releases/{history.rolled_back}").json()
    assert rel["release"]["mttr_s"] == 7.5 and len(rel["release"]["steps"]) == 2
    pending = dashboard.get("/api/v1/approvals").json()
    assert [p["release"]["id"] for p in pending] == [history.waiting]
    assert dashboard.get("/api/v1/runs/nope").status_code == 404
    assert dashboard.get("/api/v1/runs", params={"limit": 500}).status_code == 422


def test_openapi_lists_the_endpoints(dashboard: TestClient) -> None:
    spec = dashboard.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/metrics", "/api/v1/runs", "/api/v1/runs/{run_id}",
                 "/api/v1/releases", "/api/v1/releases/{release_id}/approve",
                 "/api/v1/releases/{release_id}/reject", "/api/v1/audit",
                 "/api/v1/compliance/{pack}", "/api/v1/events"):
        assert path in paths, path
    assert "post" in paths["/api/v1/releases/{release_id}/approve"]


def test_audit_pages_with_a_cursor(dashboard: TestClient, history: History) -> None:
    with open_store(history.repo.path) as store:
        from suture.audit import AuditLog

        log = AuditLog.for_store(store)
        for i in range(7):
            log.append("run.started", f"run/{i}", {"i": i})
    first = dashboard.get("/api/v1/audit", params={"limit": 5}).json()
    assert [e["subject"] for e in first["events"]][:2] == ["run/6", "run/5"]
    rest = dashboard.get("/api/v1/audit", params={"limit": 5,
                                                  "before": first["next_before"]}).json()
    assert rest["events"][0]["seq"] == first["events"][-1]["seq"] - 1
    only = dashboard.get("/api/v1/audit", params={"action": "run.*"}).json()
    assert {e["action"] for e in only["events"]} == {"run.started"}


def test_once_a_token_exists_every_request_needs_one(dashboard: TestClient,
                                                     history: History) -> None:
    viewer = token(history, "val", Role.VIEWER)
    resp = dashboard.get("/api/v1/runs")
    assert resp.status_code == 401 and "token" in resp.json()["error"]
    page = dashboard.get("/runs", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/runs")
    assert dashboard.get("/metrics").status_code == 401
    assert dashboard.get("/api/v1/runs", headers=bearer(viewer)).status_code == 200
    assert dashboard.get("/metrics", headers=bearer(viewer)).status_code == 200
    assert dashboard.get("/healthz").status_code == 200  # liveness stays open
    bad = dashboard.get("/api/v1/runs", headers=bearer(viewer[:-2] + "xx"))
    assert bad.status_code == 401 and "unknown" in bad.json()["error"]


def test_roles_decide_who_may_approve(dashboard: TestClient, history: History) -> None:
    viewer = token(history, "val", Role.VIEWER)
    approver = token(history, "bob@example.org", Role.APPROVER)
    author = token(history, "ANN@example.org", Role.APPROVER)
    url = f"/api/v1/releases/{history.waiting}/approve"
    denied = dashboard.post(url, headers=bearer(viewer), json={"comment": "x"})
    assert denied.status_code == 403 and "approver" in denied.json()["error"]
    own = dashboard.post(url, headers=bearer(author))
    assert own.status_code == 400 and "cannot approve" in own.json()["error"]
    ok = dashboard.post(url, headers=bearer(approver), json={"comment": "ship it"})
    assert ok.status_code == 200
    assert ok.json()["approver"] == "bob@example.org"
    assert ok.json()["decision"] == "approved"
    with open_store(history.repo.path) as store:
        recs = ReleaseStore(store).approvals(history.waiting)
    assert [(r.approver, r.comment) for r in recs] == [("bob@example.org", "ship it")]
    done = dashboard.post(f"/api/v1/releases/{history.promoted}/reject", headers=bearer(approver))
    assert done.status_code == 400 and "not awaiting approval" in done.json()["error"]


def test_expired_and_revoked_tokens_are_refused(dashboard: TestClient, history: History) -> None:
    old = token(history, "old", Role.ADMIN, expires_in=timedelta(microseconds=1))
    gone = token(history, "gone", Role.ADMIN)
    with open_store(history.repo.path) as store:
        TokenStore(store).revoke("gone")
    for secret, reason in ((old, "expired"), (gone, "revoked")):
        resp = dashboard.get("/api/v1/runs", headers=bearer(secret))
        assert resp.status_code == 401 and reason in resp.json()["error"]


def test_sign_in_sets_a_strict_cookie_and_forms_need_csrf(dashboard: TestClient,
                                                          history: History) -> None:
    approver = token(history, "bob@example.org", Role.APPROVER)
    wrong = dashboard.post("/login", data={"token": "sut_nope", "next": "/approvals"})
    assert wrong.status_code == 401 and "token rejected" in wrong.text
    resp = dashboard.post("/login", data={"token": approver, "next": "//evil.example/"},
                          follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = dashboard.get("/approvals")
    assert page.status_code == 200 and 'value="approve"' in page.text
    # a browser session writing through the API needs the CSRF header too
    api = f"/api/v1/releases/{history.waiting}/reject"
    assert dashboard.post(api).status_code == 403


def test_a_non_loopback_bind_needs_a_token(history: History) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    with open_store(history.repo.path) as store:
        tokens = TokenStore(store)
        check_bind("127.0.0.1", tokens)
        with pytest.raises(UsageError, match="refusing to listen on 0.0.0.0"):
            check_bind("0.0.0.0", tokens)
        tokens.create("admin", Role.ADMIN, expires_in=None, created_by="test")
        check_bind("0.0.0.0", tokens)


def test_prometheus_endpoint_serves_the_exposition_format(history: History) -> None:
    with app_for(history.repo.path) as client:
        resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert 'suture_runs_total{status="failed"} 1.0' in resp.text
    assert 'suture_rollbacks_total{env="production"} 1.0' in resp.text
