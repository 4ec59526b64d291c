"""Fixtures of the dashboard's browser tests: Debian's Chromium, two served stores, screenshots.

`demo_site` is single-user (no token): a failed run explained and fixed by the real CLI, a month
of releases, one release awaiting approval. `guarded_site` has tokens made with the real CLI and
three releases of a commit by Ann awaiting approval, one per environment. Each is one
`suture serve` process for the whole package; a test that decides on a release is the only one
that reads it, so the tests pass in any order.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from suture.deploy.model import ReleaseStatus
from suture.store import open_store
from tests.fixtures.calc import CALC
from tests.fixtures.cli import run_suture
from tests.fixtures.dashboard import (
    ServedDashboard,
    author_of,
    canary_release,
    chromium_path,
    commit_as,
    create_token,
    record_release,
    serve_dashboard,
)
from tests.fixtures.git import GIT_ENV, make_repo

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_ENV = "SUTURE_TEST_ARTIFACTS"
# The person serving the single-user dashboard (what `who()` would read from git config).
DEMO_ACTOR = "Dee Demo <dee@example.org>"
AUTHOR = "Ann <ann@example.org>"  # wrote the commit the guarded site's releases ship
APPROVER = "bob@example.org"  # a token name may not hold spaces or <>, so Bob is his e-mail
VIEWER = "vic"
AUTHOR_TOKEN = "ann@example.org"
DAY = timedelta(days=1)


def artifacts_dir() -> Path:
    """Where screenshots go: $SUTURE_TEST_ARTIFACTS, else <repo>/.pytest-artifacts/screenshots."""
    where = Path(os.environ.get(ARTIFACTS_ENV) or REPO_ROOT / ".pytest-artifacts" / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    """Keep each phase's report on the item, so `open_page` can tell a failed test."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Headless Chromium driven by Playwright (never a downloaded browser)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's package (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Browser, request: pytest.FixtureRequest
              ) -> Iterator[Callable[[ServedDashboard], Page]]:
    """Factory: a page in a fresh browser context (own cookies) on a served dashboard.

    A failed test leaves a full-page screenshot of each of its pages in the artefacts folder.
    """
    pages: list[Page] = []
    for stale in artifacts_dir().glob(f"FAILED-{slug(request.node.name)}-*.png"):
        stale.unlink()  # from an earlier run of this test: it would tell a different story

    def make(site: ServedDashboard) -> Page:
        context = chromium.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    rep = getattr(request.node, "rep_call", None)
    for i, page in enumerate(pages):
        if rep is not None and rep.failed and not page.is_closed():
            page.screenshot(path=artifacts_dir() / f"FAILED-{slug(request.node.name)}-{i}.png",
                            full_page=True)
        page.context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as `<name>.png` in the artefacts folder; returns its path."""
    def shoot(page: Page, name: str) -> Path:
        path = artifacts_dir() / f"{slug(name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return shoot


def slug(text: str) -> str:
    """A file name made of the text's letters, digits, dots and dashes."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


@dataclass(frozen=True)
class DemoSite:
    """The single-user dashboard and the ids its pages show."""

    served: ServedDashboard
    run_id: str  # the failed run, diagnosed and fixed
    culprit: str  # the commit that added the unused import
    pending: str  # a release awaiting approval
    rolled_back: str


@dataclass(frozen=True)
class GuardedSite:
    """The dashboard with tokens, their secrets, and Ann's two releases awaiting approval."""

    served: ServedDashboard
    approver: str
    viewer: str
    author: str
    for_approval: str  # production: Bob approves it
    authors_own: str  # staging: Ann tries to approve it
    undecided: str  # qa: nobody may decide it (a viewer, a forged form)


@pytest.fixture(scope="package")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """A lint failure run, explained and fixed by `suture run --why` and `suture fix`, then three
    promoted releases and one rolled back over the last ten days, and one awaiting approval."""
    repo = make_repo(tmp_path_factory.mktemp("demo") / "repo")
    repo.write("calc.py", "import os\n" + CALC)
    repo.write("suture.yml", "gates:\n  lint: {}\n")
    repo.write(".gitignore", ".suture/\n")
    culprit = repo.commit("calc with an unused import")
    cli_env = {**GIT_ENV, "HOME": str(repo.path.parent)}
    ran = run_suture(repo.path, "run", "--why", env=cli_env)
    assert ran.code == 1, ran.out
    fixed = run_suture(repo.path, "fix", "--json", env=cli_env)
    assert fixed.code == 0, fixed.out
    run_id = json.loads(fixed.stdout)["run_id"]

    # Lead times 6 h, 12 h and 2 h (median 6 h); the fourth change is rolled back in 90 s.
    now = datetime.now(UTC).replace(microsecond=0)
    shipped = [(now - 10 * DAY, 6), (now - 6 * DAY, 12), (now - 3 * DAY, 2), (now - 2 * DAY, 1)]
    commits = [commit_as(repo, f"notes/{i}.md", f"change {i}\n", f"change {i}", when=at)
               for i, (at, _) in enumerate(shipped)]
    author = author_of(repo, commits[0])
    promoted = [canary_release(f"{i + 1}" * 32, c, ReleaseStatus.PROMOTED, at, author=author,
                               ended_at=at + timedelta(hours=h))
                for i, (c, (at, h)) in enumerate(zip(commits[:3], shipped[:3], strict=True))]
    bad_at = shipped[3][0] + timedelta(minutes=20)
    rolled = canary_release("4" * 32, commits[3], ReleaseStatus.ROLLED_BACK, shipped[3][0],
                            author=author, weights=(10,), ended_at=bad_at + timedelta(minutes=2),
                            mttr_s=90.0, first_bad_at=bad_at,
                            restored_at=bad_at + timedelta(seconds=90),
                            error="canary error rate 4.0% against 0.2% on stable")
    waiting = canary_release("5" * 32, commits[3], ReleaseStatus.AWAITING_APPROVAL,
                             now - timedelta(minutes=5), author=author, weights=())
    with open_store(repo.path) as store:
        for r in (*promoted, rolled, waiting):
            record_release(store, r)
    with serve_dashboard(repo.path, env={"SUTURE_ACTOR": DEMO_ACTOR}) as served:
        yield DemoSite(served, run_id, culprit, waiting.id, rolled.id)


@pytest.fixture(scope="package")
def guarded_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedSite]:
    """Tokens from `suture token create` (approver Bob, viewer Vic, approver Ann) and three
    releases of Ann's commit awaiting approval: production, staging and qa."""
    repo = make_repo(tmp_path_factory.mktemp("guarded") / "repo")
    repo.write("suture.yml", "gates:\n  lint: {}\n")
    repo.write(".gitignore", ".suture/\n")
    repo.commit("start")
    commit = commit_as(repo, "calc.py", CALC, "add calc", author=AUTHOR)
    author = author_of(repo, commit)
    assert author == AUTHOR
    now = datetime.now(UTC).replace(microsecond=0)
    waiting = [canary_release(f"{i + 6}" * 32, commit, ReleaseStatus.AWAITING_APPROVAL,
                              now - timedelta(minutes=9 - i), env=env, author=author, weights=())
               for i, env in enumerate(("production", "staging", "qa"))]
    with open_store(repo.path) as store:
        for r in waiting:
            record_release(store, r)
    approver = create_token(repo.path, "approver", APPROVER)
    viewer = create_token(repo.path, "viewer", VIEWER)
    own_token = create_token(repo.path, "approver", AUTHOR_TOKEN)
    with serve_dashboard(repo.path) as served:
        yield GuardedSite(served, approver, viewer, own_token, *(r.id for r in waiting))
