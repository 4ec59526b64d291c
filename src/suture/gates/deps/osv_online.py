"""The OSV API (api.osv.dev or a mirror): batch query the pins, then fetch each advisory."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx

from suture.errors import ToolError
from suture.gates.deps.osv import ECOSYSTEM, Advisory, Match, match, minimal_fix, parse_record
from suture.gates.deps.records import Pin

DEFAULT_URL = "https://api.osv.dev"
URL_ENV = "SUTURE_OSV_URL"
# The API accepts at most 1000 queries per batch.
BATCH = 1000
_HINT = (
    "check network access to the OSV API (or set SUTURE_OSV_URL to a mirror), or work offline: "
    "set deps.advisories in suture.yml or SUTURE_ADVISORY_DB to a directory or zip of OSV records"
)


class OnlineAdvisoryDB:
    """Advisories looked up live; any failure to get an answer raises ToolError, never passes."""

    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    @property
    def description(self) -> str:
        """Where the advisories come from, for summaries and logs."""
        return f"the OSV API at {self.base_url}"

    def lookup(self, pins: Sequence[Pin]) -> dict[Pin, tuple[Match, ...]]:
        """The advisories affecting each pin (pins with none are left out)."""
        unique = list(dict.fromkeys(pins))
        if not unique:
            return {}
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            ids = self._query(client, unique)
            details = {i: self._vuln(client, i) for i in sorted({i for v in ids for i in v})}
        found: dict[Pin, tuple[Match, ...]] = {}
        for pin, vuln_ids in zip(unique, ids, strict=True):
            matches = tuple(
                _match(adv, pin) for i in vuln_ids if (adv := details[i]) is not None
            )
            if matches:
                found[pin] = matches
        return found

    def _query(self, client: httpx.Client, pins: list[Pin]) -> list[list[str]]:
        """The advisory ids of each pin, following `next_page_token` until every page is read."""
        ids: list[list[str]] = [[] for _ in pins]
        pending: dict[int, str | None] = dict.fromkeys(range(len(pins)))
        while pending:
            todo = list(pending.items())[:BATCH]
            queries = [_query(pins[i], token) for i, token in todo]
            body = self._call(client, "POST", "/v1/querybatch", json={"queries": queries})
            results = body.get("results")
            if not isinstance(results, list) or len(results) != len(todo):
                raise ToolError(
                    f"{self.base_url}/v1/querybatch answered {len(todo)} queries with "
                    f"{len(results) if isinstance(results, list) else 'no'} results",
                    hint=_HINT,
                )
            for (i, _), result in zip(todo, results, strict=True):
                ids[i] += [str(v["id"]) for v in (result or {}).get("vulns") or ()]
                token = (result or {}).get("next_page_token")
                if token:
                    pending[i] = str(token)
                else:
                    del pending[i]
        return [list(dict.fromkeys(v)) for v in ids]

    def _vuln(self, client: httpx.Client, vuln_id: str) -> Advisory | None:
        return parse_record(self._call(client, "GET", f"/v1/vulns/{vuln_id}"))

    def _call(self, client: httpx.Client, method: str, path: str, **kw: Any) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            resp = client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise ToolError(
                f"could not reach the OSV API at {url}: {exc or type(exc).__name__}", hint=_HINT
            ) from exc
        if resp.status_code != 200:
            raise ToolError(
                f"the OSV API at {url} answered HTTP {resp.status_code}: {resp.text[:200]}",
                hint=_HINT,
            )
        try:
            data = resp.json()
        except ValueError as exc:
            raise ToolError(f"the OSV API at {url} answered with no JSON", hint=_HINT) from exc
        if not isinstance(data, dict):
            raise ToolError(f"the OSV API at {url} answered with no JSON object", hint=_HINT)
        return data


def _query(pin: Pin, token: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {
        "package": {"name": pin.name, "ecosystem": ECOSYSTEM},
        "version": pin.version,
    }
    if token:
        query["page_token"] = token
    return query


def _match(advisory: Advisory, pin: Pin) -> Match:
    # The API already decided the version is affected (it also resolves GIT ranges, which are
    # not evaluated locally); the record is only needed for the minimal fixed version.
    found = match(advisory, pin.name, pin.version)
    if found is not None:
        return found
    entries = [a for a in advisory.affected if a.package == pin.name]
    return Match(advisory, minimal_fix(entries, pin.version))
