"""The OSV API client against a real HTTP server on 127.0.0.1, and against no server at all."""

from __future__ import annotations

import pytest

from suture.errors import ToolError
from suture.gates.deps.osv_online import OnlineAdvisoryDB
from suture.gates.deps.records import Pin
from tests.fixtures.osv_server import OSVServer, closed_port_url


def test_vulnerable_and_clean_pins(osv_server: OSVServer) -> None:
    vulnerable, clean = Pin("Jinja2", "2.7.1", "requirements.txt", 1), Pin("jinja2", "3.1.4")
    found = OnlineAdvisoryDB(osv_server.url).lookup([vulnerable, clean])
    assert set(found) == {vulnerable}
    fixes = {m.advisory.id: m.fixed for m in found[vulnerable]}
    assert fixes == {
        "PYSEC-2014-8": "2.7.2",
        "PYSEC-2014-82": "2.7.3",
        "PYSEC-2019-217": "2.10.1",
        "PYSEC-2019-220": "2.8.1",
        "PYSEC-2021-66": "2.11.3",
    }
    # one batch query for both pins, then one fetch per advisory
    assert osv_server.requests.count(("POST", "/v1/querybatch")) == 1
    assert ("GET", "/v1/vulns/PYSEC-2014-8") in osv_server.requests


def test_paged_answers_are_followed_to_the_end(osv_server: OSVServer) -> None:
    osv_server.page_size = 2
    pin = Pin("jinja2", "2.7.1")
    found = OnlineAdvisoryDB(osv_server.url).lookup([pin])
    assert len(found[pin]) == 5
    assert osv_server.requests.count(("POST", "/v1/querybatch")) == 3


def test_base_url_from_environment(osv_server: OSVServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUTURE_OSV_URL", osv_server.url + "/")
    db = OnlineAdvisoryDB()
    assert db.base_url == osv_server.url
    assert db.lookup([Pin("requests", "2.19.0")])


def test_no_pins_asks_nothing(osv_server: OSVServer) -> None:
    assert OnlineAdvisoryDB(osv_server.url).lookup([]) == {}
    assert osv_server.requests == []


def test_server_error_is_a_tool_error(osv_server: OSVServer) -> None:
    osv_server.fail_status = 503
    with pytest.raises(ToolError, match=r"answered HTTP 503") as err:
        OnlineAdvisoryDB(osv_server.url).lookup([Pin("jinja2", "2.7.1")])
    assert "SUTURE_ADVISORY_DB" in (err.value.hint or "")


def test_unreachable_network_is_a_tool_error() -> None:
    url = closed_port_url()
    with pytest.raises(ToolError, match=f"could not reach the OSV API at {url}/v1/querybatch"):
        OnlineAdvisoryDB(url, timeout=5).lookup([Pin("jinja2", "2.7.1")])
