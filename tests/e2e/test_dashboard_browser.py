"""The dashboard in a real browser: the journeys of issue 7, keyboard use and axe-core's checks.

Chromium (Debian's, through Playwright) talks to a `suture serve` subprocess reading a store that
the real CLI and store APIs filled. Each journey ends with a full-page screenshot in the
artefacts folder ($SUTURE_TEST_ARTIFACTS, else .pytest-artifacts/screenshots).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import APPROVER, AUTHOR_TOKEN, DemoSite, GuardedSite
from tests.fixtures.dashboard import ServedDashboard, chromium_path

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="browser tests need Debian's Chromium at /usr/bin/chromium or `chromium` on PATH "
    "(apt-get install chromium; Playwright's own browser download is never used)")

AXE = Path(__file__).resolve().parents[1] / "fixtures" / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
NAV = ["Overview", "Runs", "Releases", "Approvals", "Audit", "Compliance"]
OpenPage = Callable[[ServedDashboard], Page]
Shoot = Callable[[Page, str], Path]


def sign_in(page: Page, secret: str, then: str) -> None:
    """Open `then`, get sent to the sign-in form, paste the token, and land back on `then`."""
    page.goto(then)
    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("API token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))


def release_card(page: Page, release_id: str) -> Locator:
    """The approvals page's card of one release."""
    return page.get_by_role("region", name=f"Release {release_id[:12]}")


def approvals_list(page: Page) -> Locator:
    """The release page's list of approvals and rejections."""
    return page.get_by_role("heading", name="Approvals", exact=True).locator(
        "xpath=following::ul[1]")


# -- 1. see a failed run's diagnosis -----------------------------------------------------------

def test_a_failed_run_shows_its_whys_code_and_fix(demo_site: DemoSite, open_page: OpenPage,
                                                  screenshot: Shoot) -> None:
    page = open_page(demo_site.served)
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link",
                                                               name=demo_site.run_id[:12]))
    expect(row).to_contain_text("failed")
    expect(row).to_contain_text("lint")  # the failed gate
    row.get_by_role("link", name=demo_site.run_id[:12]).click()
    expect(page).to_have_url(re.compile(f"/runs/{demo_site.run_id}$"))

    expect(page.get_by_role("heading", name="Why it failed")).to_be_visible()
    why = page.get_by_role("region", name="Diagnosis of lint")
    root = why.locator("p.root")
    expect(root).to_contain_text("Root cause:")
    expect(root).to_contain_text("calc.py:1")
    expect(root).to_contain_text(demo_site.culprit[:10])  # the commit that introduced it
    steps = why.locator("ol.whys > li")
    expect(steps.first).to_contain_text("Why did the lint gate fail?")
    assert steps.count() >= 3
    for i in range(steps.count()):  # open every step of the chain, as a reader would
        details = steps.nth(i).locator("details")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        expect(steps.nth(i).locator(".evidence li").first).to_be_visible()
    code_evidence = why.locator(".evidence li").filter(has=page.locator(".tag", has_text="code"))
    expect(code_evidence.first).to_be_visible()
    expect(code_evidence.first).to_contain_text("import os")
    commit_evidence = why.locator(".evidence li").filter(
        has=page.locator(".tag", has_text="commit"))
    expect(commit_evidence.first).to_contain_text(demo_site.culprit[:10])

    gate = page.get_by_role("region", name="Gate lint")
    finding = gate.locator("ul.findings > li").filter(has_text="F401")
    expect(finding).to_contain_text("`os` imported but unused")
    code = finding.locator("pre.code")
    expect(code).to_be_visible()
    expect(code.locator(".hit")).to_contain_text("import os")  # the finding's line, marked
    expect(code).to_contain_text('"""Arithmetic."""')  # and the lines around it

    fix = page.get_by_role("region", name="Fix ruff-fix for lint")
    expect(fix.locator(".status")).to_have_text("accepted")
    diff = fix.locator("pre.diff")
    expect(diff).to_be_visible()
    expect(diff.locator("span.del").filter(has_text="import os")).to_have_text("-import os")
    expect(fix.locator("ul.checks")).to_contain_text("passed: lint passes")
    screenshot(page, "journey1-run-diagnosis")


# -- 2. approve a release ----------------------------------------------------------------------

def test_an_approver_signs_in_and_approves_with_a_comment(guarded_site: GuardedSite,
                                                           open_page: OpenPage,
                                                           screenshot: Shoot) -> None:
    page = open_page(guarded_site.served)
    sign_in(page, guarded_site.approver, "/approvals")
    expect(page.locator("header .who")).to_contain_text(f"{APPROVER} (approver)")
    card = release_card(page, guarded_site.for_approval)
    expect(card).to_contain_text("by Ann <ann@example.org>")
    card.get_by_label("Comment (optional)").fill("canary numbers look fine")
    card.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(re.compile(r"/approvals\?done=approved"))
    expect(page.get_by_role("status")).to_have_text(
        f"Release {guarded_site.for_approval[:12]} approved.")
    release_card(page, guarded_site.for_approval).get_by_role(
        "link", name=f"Release {guarded_site.for_approval[:12]}").click()
    expect(page).to_have_url(re.compile(f"/releases/{guarded_site.for_approval}$"))
    expect(approvals_list(page)).to_contain_text(
        f"{APPROVER} approved: canary numbers look fine")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    granted = page.get_by_role("row").filter(has_text="approval.granted").filter(
        has_text=f"release/{guarded_site.for_approval}")
    expect(granted).to_have_count(1)
    expect(granted).to_contain_text(APPROVER)
    screenshot(page, "journey2-approval-audited")


def test_a_viewer_sees_no_decision_buttons(guarded_site: GuardedSite, open_page: OpenPage,
                                          screenshot: Shoot) -> None:
    page = open_page(guarded_site.served)
    sign_in(page, guarded_site.viewer, "/approvals")
    card = release_card(page, guarded_site.undecided)
    expect(card).to_be_visible()
    expect(card).to_contain_text("Your role cannot approve.")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    screenshot(page, "journey2-viewer-no-buttons")


def test_the_commits_author_is_refused(guarded_site: GuardedSite, open_page: OpenPage,
                                       screenshot: Shoot) -> None:
    page = open_page(guarded_site.served)
    sign_in(page, guarded_site.author, "/approvals")
    expect(page.locator("header .who")).to_contain_text(f"{AUTHOR_TOKEN} (approver)")
    card = release_card(page, guarded_site.authors_own)
    card.get_by_role("button", name="Approve").click()
    message = page.locator("p.error[role=alert]")
    expect(message).to_contain_text(f"{AUTHOR_TOKEN} wrote commit")
    expect(message).to_contain_text("cannot approve its release")
    expect(message).to_contain_text("a person other than the change's author")
    screenshot(page, "journey2-author-refused")
    page.goto(f"/releases/{guarded_site.authors_own}")
    expect(approvals_list(page)).to_have_text("None.")


def test_a_forged_decision_without_the_csrf_field_is_refused(guarded_site: GuardedSite,
                                                             open_page: OpenPage) -> None:
    page = open_page(guarded_site.served)
    sign_in(page, guarded_site.approver, "/approvals")
    url = f"/releases/{guarded_site.undecided}/decision"
    for form in ({"decision": "approve", "comment": "forged"},
                 {"decision": "approve", "comment": "forged", "csrf": "0" * 64}):
        resp = page.request.post(url, form=form, max_redirects=0)
        assert resp.status == 403, resp.text()
        assert "CSRF token is missing or wrong" in resp.text()
    # The same request from another client that stole nothing but the cookie: refused too.
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=guarded_site.served.url, cookies=cookie) as client:
        resp = client.post(url, data={"decision": "approve", "comment": "forged"})
    assert resp.status_code == 403
    page.goto(f"/releases/{guarded_site.undecided}")
    expect(approvals_list(page)).to_have_text("None.")
    expect(page.locator("main")).not_to_contain_text("forged")


# -- 3. read the DORA overview -----------------------------------------------------------------

def test_the_overview_shows_the_four_keys_kpis_and_trends(demo_site: DemoSite,
                                                          open_page: OpenPage,
                                                          screenshot: Shoot) -> None:
    page = open_page(demo_site.served)
    page.goto("/")
    expect(page.get_by_label("Period")).to_have_value("30d")
    expected = {  # 3 promoted in 30 days; lead 6, 12, 2 h; 1 of 4 failed; restored in 90 s
        "Deployment frequency": ("0.10/day", "medium"),
        "Lead time for changes": ("6.0h", "elite"),
        "Change failure rate": ("25.0%", "low"),
        "Failed deployment recovery time": ("1.5m", "elite"),
    }
    for title, (value, band) in expected.items():
        card = page.get_by_role("region", name=title, exact=True)
        expect(card.locator(".value")).to_have_text(value)
        expect(card.locator(".band")).to_have_text(band)

    targets = {
        "Deployment success rate": ("75.0%", "≥ 100%", "no"),
        "Open security vulnerabilities": ("no data", "≤ 0 findings", "–"),
        "Test coverage": ("no data", "≥ 95%", "–"),
        "Mean time to recovery": ("1.5m", "≤ 1.0m", "no"),
        "Change failure rate": ("25.0%", "≤ 0%", "no"),
        "AI fix success rate": ("100.0%", "≥ 95%", "yes"),
        "Compliance score": (None, "≥ 100%", None),
    }
    kpis = page.locator("table[aria-labelledby=kpis] tbody tr")
    expect(kpis).to_have_count(len(targets))
    for title, (value, target, met) in targets.items():
        cells = kpis.filter(has=page.get_by_role("rowheader", name=title, exact=True)
                            ).locator("td")
        if value is not None:
            expect(cells.nth(0)).to_have_text(value)
        expect(cells.nth(1)).to_have_text(target)
        if met is not None:
            expect(cells.nth(2)).to_have_text(met)

    charts = page.locator(".charts svg.chart[role=img]")
    expect(charts).to_have_count(4)
    for name in ("Deployments per day", "Change failure rate", "Lead time for changes",
                 "Failed deployment recovery time"):
        chart = page.get_by_role("img", name=name, exact=True)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50
        # Each has data: a line or a point for the days that had releases.
        assert chart.locator("polyline, circle").count() >= 1, name
    screenshot(page, "journey3-dora-overview")


# -- 4. bad input and the keyboard -------------------------------------------------------------

def test_a_missing_run_shows_the_not_found_page(demo_site: DemoSite, open_page: OpenPage,
                                               screenshot: Shoot) -> None:
    page = open_page(demo_site.served)
    resp = page.goto("/runs/doesnotexist")
    assert resp is not None and resp.status == 404
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("no run 'doesnotexist'")
    expect(page.get_by_role("link", name="Back to the overview")).to_be_visible()
    assert "Traceback" not in page.content()
    screenshot(page, "journey4-not-found")


def test_a_wrong_token_is_refused_at_sign_in(guarded_site: GuardedSite, open_page: OpenPage,
                                            screenshot: Shoot) -> None:
    page = open_page(guarded_site.served)
    resp = page.goto("/")
    assert resp is not None and resp.status == 200
    expect(page).to_have_url(re.compile(r"/login\?next=/&reason="))
    expect(page.get_by_role("alert")).to_contain_text("this dashboard needs an API token")
    page.get_by_label("API token").fill("sut_0badc0de_" + "x" * 43)
    with page.expect_response(lambda r: r.url.endswith("/login")
                              and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("token rejected")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.context.cookies() == []  # nothing to sign in with was kept
    screenshot(page, "journey4-wrong-token")


def test_the_keyboard_reaches_the_skip_link_and_the_main_nav(demo_site: DemoSite,
                                                             open_page: OpenPage,
                                                             screenshot: Shoot) -> None:
    page = open_page(demo_site.served)
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to content")
    expect(focused).to_be_in_viewport()  # hidden off-screen until it has the focus
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/#main$"))
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto("/")
    reached: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.locator("nav[aria-label=Main] a:focus").count():
            reached.append(page.locator(":focus").inner_text())
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"  # the focus is visible
        if len(reached) == len(NAV):
            break
    assert reached == NAV
    for _ in range(len(NAV) - 2):  # back to Runs, then follow it
        page.keyboard.press("Shift+Tab")
    expect(page.locator(":focus")).to_have_text("Runs")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/runs$"))
    expect(page.get_by_role("heading", name="Runs", level=1)).to_be_visible()
    screenshot(page, "journey4-keyboard")


# -- 5. accessibility: axe-core ----------------------------------------------------------------

def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in found if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, what to do, and up to three elements."""
    out = []
    for v in violations:
        nodes = "\n".join(f"    {n['target']}: {n['html'][:160]}" for n in v["nodes"][:3])
        out.append(f"{v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} element(s)]\n"
                   f"{nodes}")
    return "\n".join(out)


PAGES = {
    "overview": "/",
    "runs": "/runs",
    "run-detail": "/runs/{run_id}",
    "approvals": "/approvals",  # with a release waiting: its form and buttons
    "audit": "/audit",
    "compliance": "/compliance",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(name: str, demo_site: DemoSite,
                                             open_page: OpenPage, screenshot: Shoot) -> None:
    page = open_page(demo_site.served)
    resp = page.goto(PAGES[name].format(run_id=demo_site.run_id))
    assert resp is not None and resp.status == 200
    expect(page.locator("main h1")).to_be_visible()
    page.locator("details:not([open])").evaluate_all(  # check what a reader can open too
        "els => els.forEach(d => { d.open = true; })")
    violations = axe_violations(page)
    screenshot(page, f"journey5-axe-{name}")
    assert not violations, describe(violations)


def test_axe_reports_what_a_screen_reader_would_miss(demo_site: DemoSite,
                                                      open_page: OpenPage) -> None:
    """The check above can fail: a button without a name and an image without alt are caught."""
    page = open_page(demo_site.served)
    page.goto("/")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend',
            '<button id="planted-button"></button><img id="planted-img" src="/static/none.png">');
    }""")
    found = {v["id"]: v for v in axe_violations(page)}
    assert {"button-name", "image-alt"} <= set(found), describe(list(found.values()))
    assert found["button-name"]["nodes"][0]["target"] == ["#planted-button"]
