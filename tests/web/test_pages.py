"""The dashboard's pages over a real store: what a person sees, and what bad input gets."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from suture.audit import AuditLog
from suture.store import open_store
from suture.store.releases import ReleaseStore
from suture.web import service
from suture.web.pages import LOG_PAGE_CHARS
from tests.fixtures.web import History, app_for


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_every_page_renders(dashboard: TestClient, history: History) -> None:
    for path in ("/", "/runs", f"/runs/{history.failed_run}", "/releases",
                 f"/releases/{history.rolled_back}", "/approvals", "/audit",
                 "/api/docs", "/login"):
        resp = dashboard.get(path)
        assert resp.status_code == 200, (path, resp.text[:300])
        assert "<main" in resp.text and 'lang="en"' in resp.text


def test_overview_shows_the_four_keys_kpis_and_trends(dashboard: TestClient) -> None:
    page = dashboard.get("/?since=7d&env=production").text
    for title in ("Deployment frequency", "Lead time for changes", "Change failure rate",
                  "Failed deployment recovery time", "Deployment success rate",
                  "Open security vulnerabilities", "Test coverage", "Mean time to recovery",
                  "AI fix success rate", "Compliance score"):
        assert title in page
    # one promoted and one rolled back in production: half the changes failed
    assert "50.0%" in page
    assert page.count("<svg") == 4
    assert '<option selected>production</option>' in page


def test_run_detail_shows_whys_fix_diff_and_code(dashboard: TestClient,
                                                 history: History) -> None:
    page = dashboard.get(f"/runs/{history.failed_run[:8]}").text
    assert "Why did test_total fail?" in page
    assert "commit changed total() to subtract instead of add" in page
    assert '<span class="add">+    return a + b</span>' in page
    assert '<span class="del">-    return a - b</span>' in page
    # the finding's line, read from the run's commit, is highlighted
    assert re.search(r'class="hit"><span class="ln">2</span>\s+return a - b', page)
    # a 180,000-character log is cut to its tail with a link to the whole file
    assert "Download the whole log" in page
    assert "line 5999 of a very chatty tool" in page
    assert "line 0 of a very chatty tool" not in page
    log = dashboard.get(f"/runs/{history.failed_run}/stages/tests/log")
    with open_store(history.repo.path) as store:  # the store keeps a chatty log's head and tail
        stored = store.get_run(history.failed_run).stages[0].log
    assert log.status_code == 200 and log.text == stored and len(stored) > LOG_PAGE_CHARS
    assert "attachment" in log.headers["content-disposition"]


def test_missing_records_get_a_404_page_not_a_traceback(dashboard: TestClient) -> None:
    for path in ("/runs/0000dead", "/releases/nope", "/no/such/page",
                 "/runs/ffffffff/stages/nope/log"):
        resp = dashboard.get(path)
        assert resp.status_code == 404, path
        assert "Not found" in resp.text and "Traceback" not in resp.text
    resp = dashboard.get("/runs?status=bogus")
    assert resp.status_code == 422 and "status" in resp.text


def test_runs_are_paginated(dashboard: TestClient, history: History) -> None:
    from tests.fixtures.web import failed_run

    with open_store(history.repo.path) as store:
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(60):
            r = failed_run(f"{i:032x}", history.commit, base + timedelta(minutes=i))
            store.begin_run(r)
            store.finish_run(r)
    first = dashboard.get("/runs").text
    assert "1–50 of 62" in first and 'rel="next"' in first
    second = dashboard.get("/runs?offset=50").text
    assert "51–62 of 62" in second and 'rel="next"' not in second and 'rel="prev"' in second


def test_approve_from_the_page(dashboard: TestClient, history: History) -> None:
    page = dashboard.get("/approvals").text
    assert history.waiting[:12] in page and "Approve" in page
    resp = dashboard.post(f"/releases/{history.waiting}/decision", follow_redirects=False,
                          data={"decision": "approve", "comment": "looks good",
                                "csrf": csrf_of(page)})
    assert resp.status_code == 303
    done = dashboard.get(resp.headers["location"]).text
    assert f"Release {history.waiting[:12]} approved." in done
    assert "Approved by Bob Approver" in done and 'value="approve"' not in done
    with open_store(history.repo.path) as store:
        (rec,) = ReleaseStore(store).approvals(history.waiting)
        events = AuditLog.for_store(store).events(actions=["approval.granted"])
    assert (rec.approver, rec.decision, rec.comment) == (
        "Bob Approver <bob@example.org>", "approved", "looks good")
    assert events[0].subject == f"release/{history.waiting}"
    assert "Bob Approver" in dashboard.get(f"/releases/{history.waiting}").text


def test_a_forged_form_is_refused(dashboard: TestClient, history: History) -> None:
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": "0" * 64}):
        resp = dashboard.post(f"/releases/{history.waiting}/decision", data=data)
        assert resp.status_code == 403 and "CSRF" in resp.text
    with open_store(history.repo.path) as store:
        assert ReleaseStore(store).approvals(history.waiting) == []


def test_the_author_cannot_approve_their_own_release(history: History) -> None:
    with app_for(history.repo.path, local_actor="Ann <ANN@example.org>") as client:
        page = client.get("/approvals").text
        resp = client.post(f"/releases/{history.waiting}/decision",
                           data={"decision": "approve", "csrf": csrf_of(page)})
    assert resp.status_code == 409
    assert "cannot approve its release" in resp.text


def test_release_detail_has_risk_steps_charts_and_mttr(dashboard: TestClient,
                                                       history: History) -> None:
    page = dashboard.get(f"/releases/{history.rolled_back}").text
    assert "touches auth/" in page and "Risk 42 / 100 (medium)" in page
    assert "0.10% / 0.20%" in page  # stable / canary error rate of the first step
    assert "Error rate per version, by step" in page and page.count("<svg") == 2
    assert "Time to restore" in page and "7.5s" in page


def test_a_database_that_is_down_is_reported_and_the_process_stays_up(history: History) -> None:
    url = "postgresql+psycopg://suture@127.0.0.1:1/suture"
    with app_for(history.repo.path, url=url) as client:
        for _ in range(2):
            page = client.get("/runs")
            assert page.status_code == 503
            assert "Database unavailable" in page.text and "Traceback" not in page.text
        api = client.get("/api/v1/runs")
        assert api.status_code == 503 and "hint" in api.json()
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["database"] == "down"


def test_compliance_is_computed_in_the_background(dashboard: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # A report slower than a page waits for (as on a store of 100,000 runs): "being computed".
    monkeypatch.setattr(service, "QUICK_WAIT_S", 0.0)
    first = dashboard.get("/compliance?pack=soc2")
    assert first.status_code == 202
    assert "being computed" in first.text and 'http-equiv="refresh"' in first.text
    deadline = time.monotonic() + 60
    while (page := dashboard.get("/compliance?pack=soc2")).status_code == 202:
        assert time.monotonic() < deadline, "the report never finished"
        time.sleep(0.2)
    assert page.status_code == 200 and "CC8.1" in page.text and "Score:" in page.text
    # a small store's report is ready within the wait: no "being computed" step at all
    monkeypatch.undo()
    assert dashboard.get("/compliance?pack=hipaa").status_code == 200
    api = dashboard.get("/api/v1/compliance/soc2").json()
    assert api["pack_id"] == "soc2" and api["controls"]
    assert dashboard.get("/compliance?pack=nope").status_code == 404
