"""HTML: one self-contained page, every user-controlled string escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from suture.model import RunStatus
from suture.pipeline.reports.html import render_html, safe_url


class _Page(HTMLParser):
    """Collects tags, attributes and text so tests look at structure, not substrings."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.pre: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "pre":
            self._in_pre += 1
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre -= 1

    def handle_data(self, data):
        if self._in_pre:
            self.pre[-1] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_script_in_a_message_is_shown_not_run(sample_run):
    out = render_html(sample_run)
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in out
    assert "use `None` | a &lt;default&gt;" in out


def test_no_external_resources(sample_run):
    out = render_html(sample_run)
    page = _parse(out)
    help_links = {f.help_uri for s in sample_run.stages for f in s.findings if f.help_uri}
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs and "style" not in attrs
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith("#") or href in help_links, href
    # `http` appears only inside those help links' href attributes.
    outside = re.sub(r'href="https?://[^"]*"', "", out)
    assert "http" not in outside
    assert "@import" not in out and "url(" not in out


def test_only_http_help_links_become_links(sample_run):
    out = render_html(sample_run)
    assert 'href="https://bandit.readthedocs.io/en/latest/plugins/b608.html"' in out
    assert "javascript:" not in out
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url("https://example.test/rule") == "https://example.test/rule"


def test_header_summary_and_gate_sections(sample_run):
    out = render_html(sample_run)
    page = _parse(out)
    assert "<title>suture run r-20260102-0930: failed</title>" in out
    assert "0123456789ab" in out and "feature/fhir-export" in out and "1m 23s" in out
    gates = [a for t, a in page.tags if t == "details" and "gate" in (a.get("class") or "")]
    assert [g["id"] for g in gates] == [f"gate-{i}" for i in range(len(sample_run.stages))]
    # Failing and errored gates open; passing and skipped ones closed.
    assert ["open" in g for g in gates] == [False, True, True, True, True, False]
    badges = [a["class"] for t, a in page.tags if t == "span" and "badge" in (a.get("class") or "")]
    assert badges.count("badge lv-warning") == 1 and "badge lv-error" in badges


def test_code_context_and_log_tail_in_pre_blocks(sample_run):
    page = _parse(render_html(sample_run))
    assert "1 import json\n2 import sys\n3 import os" in page.pre
    assert any("q = f\"SELECT * FROM p WHERE n='{name}'\"" in p for p in page.pre)
    assert "collecting\nERROR: ConnectionError: advisory database unreachable" in page.pre


def test_baselined_findings_are_set_apart(sample_run):
    out = render_html(sample_run)
    assert out.count("1 baselined finding (accepted, not failing)") == 2
    assert "Line too long (130 &gt; 100)" in out


def test_an_interrupted_run_shows_error(sample_run):
    out = render_html(sample_run.model_copy(update={"status": RunStatus.RUNNING,
                                                    "error": "killed <by> signal"}))
    assert '<span class="pill st-error">error</span>' in out
    assert "killed &lt;by&gt; signal" in out


def test_a_clean_run_renders(clean_run):
    out = render_html(clean_run)
    assert '<span class="pill st-passed">passed</span>' in out
    assert "No new findings." in out
