"""Prometheus, both ways: scrape an instance's exposition-format metrics, or ask a server PromQL."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from suture.deploy.model import RequestSample
from suture.errors import ToolError

# Labels and values exactly as PromQL's instant-vector answer gives them.
VectorSample = tuple[dict[str, str], float]

_SCRAPE_HINT = "check that the instance is up and `deploy.metrics_path` names its metrics endpoint"
_QUERY_HINT = "check `deploy.prometheus_url` (or --prometheus-url) and that Prometheus is up"


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _snippet(text: object, limit: int = 200) -> str:
    """At most `limit` characters of a body, on one line, for an error message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _unreachable(what: str, url: str, exc: httpx.HTTPError, hint: str) -> ToolError:
    return ToolError(f"could not reach {what} at {url}: {exc or type(exc).__name__}", hint=hint)


def sample_key(name: str, labels: dict[str, str]) -> str:
    """`name{a="1",b="2"}` with labels sorted, the way the exposition format writes a series."""
    if not labels:
        return name
    escaped = (
        (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        for k, v in sorted(labels.items())
    )
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in escaped) + "}"


def parse_exposition(text: str, source: str = "metrics") -> dict[str, float]:
    """Every sample of an exposition-format text as `name{labels}` -> value."""
    samples: dict[str, float] = {}
    try:
        # The parser is lazy: a malformed line only raises while iterating.
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[sample_key(sample.name, dict(sample.labels))] = float(sample.value)
    except (ValueError, TypeError, IndexError) as exc:
        raise ToolError(
            f"{source} is not in the Prometheus exposition format: {exc}",
            hint="the endpoint must answer `text/plain; version=0.0.4` metrics, "
            "as prometheus_client's generate_latest() writes them",
        ) from exc
    return samples


def scrape(url: str, timeout: float = 5.0) -> dict[str, float]:
    """Fetch an instance's metrics endpoint and return sample `name{labels}` -> value."""
    try:
        resp = httpx.get(url, timeout=_timeout(timeout), follow_redirects=False,
                         headers={"Accept": "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"})
    except httpx.HTTPError as exc:
        raise _unreachable("the metrics endpoint", url, exc, _SCRAPE_HINT) from exc
    if resp.status_code != 200:
        raise ToolError(
            f"the metrics endpoint {url} answered HTTP {resp.status_code}: {_snippet(resp.text)}",
            hint=_SCRAPE_HINT,
        )
    return parse_exposition(resp.text, source=f"the metrics endpoint {url}")


def client(timeout: float = 10.0) -> httpx.Client:
    """An HTTP client for many queries: a new one per query costs more than a local answer."""
    return httpx.Client(timeout=_timeout(timeout), follow_redirects=False)


def query(base_url: str, promql: str, timeout: float = 10.0,
          http: httpx.Client | None = None) -> list[VectorSample]:
    """Run an instant PromQL query; each series of the answer as (labels, value).

    A scalar answer comes back as one sample with no labels; an empty vector as []. Pass
    `http` (from `client()`) to reuse connections across queries.
    """
    url = base_url.rstrip("/") + "/api/v1/query"
    try:
        if http is None:
            resp = httpx.get(url, params={"query": promql}, timeout=_timeout(timeout))
        else:
            resp = http.get(url, params={"query": promql}, timeout=_timeout(timeout))
    except httpx.HTTPError as exc:
        raise _unreachable("Prometheus", base_url, exc, _QUERY_HINT) from exc
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        status = "" if resp.status_code == 200 else f"HTTP {resp.status_code} and "
        raise ToolError(
            f"Prometheus at {base_url} answered {status}no JSON object to {promql!r}: "
            f"{_snippet(resp.text)!r}",
            hint="the URL must be a Prometheus server's base URL (its /api/v1/query answers JSON)",
        )
    if body.get("status") == "error" or resp.status_code != 200:
        kind = body.get("errorType") or f"HTTP {resp.status_code}"
        raise ToolError(
            f"Prometheus at {base_url} rejected {promql!r}: {kind}: "
            f"{_snippet(body.get('error') or resp.text)}",
            hint="check the PromQL (metric and label names) against what Prometheus stores",
        )
    return _result(body.get("data"), base_url, promql)


def _result(data: Any, base_url: str, promql: str) -> list[VectorSample]:
    if not isinstance(data, dict):
        raise ToolError(f"Prometheus at {base_url} answered {promql!r} without a `data` object",
                        hint=_QUERY_HINT)
    kind: Any = data.get("resultType")
    result: Any = data.get("result")
    try:
        if kind == "scalar":
            return [({}, _number(result[1]))]
        if kind == "vector":
            return [({str(k): str(v) for k, v in item["metric"].items()},
                     _number(item["value"][1])) for item in result]
    except (TypeError, KeyError, IndexError, ValueError) as exc:
        raise ToolError(f"Prometheus at {base_url} answered {promql!r} with a malformed "
                        f"{kind} result: {exc!r}", hint=_QUERY_HINT) from exc
    raise ToolError(
        f"Prometheus at {base_url} answered {promql!r} with a {kind} result, not an instant vector",
        hint="ask for an instant vector: drop the range selector or wrap it, e.g. in increase()",
    )


def _number(text: Any) -> float:
    # Prometheus writes sample values as strings, including "NaN" and "+Inf".
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise ValueError(f"not a sample value: {text!r}")
    return float(text)


def total(samples: list[VectorSample]) -> float:
    """The sum of a query's values, NaN-free; 0.0 when the vector is empty (no series yet)."""
    return sum(v for _, v in samples if not math.isnan(v))


# --- One version's traffic, as a Prometheus server counted it -----------------------------------

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\\n]|\\.)*"\s*'
_SELECTOR = re.compile(rf"{_MATCHER}(?:,{_MATCHER})*,?\s*")
_RANGE = re.compile(r"[1-9][0-9]*(?:ms|s|m|h|d|w|y)")

DEFAULT_SAMPLE_CAP = 20_000
"""Most requests rebuilt per version per look; more are scaled down (proportions kept)."""


def check_selector(selector: str) -> str:
    """`selector` if it is PromQL label matchers (`app="x",hash="y"`), else ValueError.

    Only matchers pass, so a caller naming versions cannot slip other PromQL into a query.
    """
    if not _SELECTOR.fullmatch(selector) or not selector.strip():
        raise ValueError(f"not a list of PromQL label matchers like app=\"clinic\": {selector!r}")
    return selector.strip().rstrip(",")


def check_name(name: str, label: bool = False) -> str:
    """`name` if it is a valid Prometheus metric (or, with `label`, label) name."""
    if not (_LABEL if label else _NAME).fullmatch(name):
        raise ValueError(f"not a Prometheus {'label' if label else 'metric'} name: {name!r}")
    return name


def check_range(text: str) -> str:
    """`text` if it is a PromQL range duration such as 90s or 5m."""
    if not _RANGE.fullmatch(text):
        raise ValueError(f"not a PromQL duration like 90s or 5m: {text!r}")
    return text


@dataclass(frozen=True, slots=True)
class TrafficQueries:
    """The PromQL that reads one version's requests, errors and latency histogram."""

    requests: str
    errors: str
    buckets: str

    @classmethod
    def build(cls, selector: str, window: str, requests_metric: str = "http_requests_total",
              latency_metric: str = "http_request_duration_seconds",
              status_label: str = "code") -> TrafficQueries:
        """Queries over `window` for the series matching `selector` (all arguments checked)."""
        sel, w = check_selector(selector), check_range(window)
        req, lat = check_name(requests_metric), check_name(latency_metric)
        code = check_name(status_label, label=True)
        return cls(
            requests=f"sum(increase({req}{{{sel}}}[{w}]))",
            errors=f'sum(increase({req}{{{sel},{code}=~"5.."}}[{w}]))',
            buckets=f"sum by (le) (increase({lat}_bucket{{{sel}}}[{w}]))",
        )


@dataclass(frozen=True, slots=True)
class Traffic:
    """One version's request and error counts and cumulative latency buckets over a window."""

    requests: float
    errors: float
    buckets: tuple[tuple[float, float], ...] = ()  # (upper bound `le`, cumulative count)


def read_traffic(base_url: str, queries: TrafficQueries, timeout: float = 10.0,
                 http: httpx.Client | None = None) -> Traffic:
    """Ask Prometheus for one version's traffic; missing series count as zero."""
    buckets = []
    for labels, count in query(base_url, queries.buckets, timeout, http):
        try:
            buckets.append((float(labels["le"]), count))
        except (KeyError, ValueError):
            continue  # not a histogram bucket series
    return Traffic(
        requests=total(query(base_url, queries.requests, timeout, http)),
        errors=total(query(base_url, queries.errors, timeout, http)),
        buckets=tuple(sorted(buckets)),
    )


def latencies_from_buckets(buckets: Sequence[tuple[float, float]], n: int) -> list[float] | None:
    """`n` latencies (ascending) spread like a histogram's counts; None without bucket counts.

    An approximation: within a bucket the latencies are spread evenly between its bounds, and
    requests slower than the largest finite bound are placed at that bound (the histogram does
    not say how much slower). Counts are made monotone first, because `increase()` extrapolates
    each bucket series on its own.
    """
    bounds, counts, running = [], [], 0.0
    for le, cum in sorted(buckets):
        if math.isnan(cum):
            continue
        running = max(running, cum)
        bounds.append(le)
        counts.append(running)
    if n <= 0:
        return []
    if not counts or counts[-1] <= 0:
        return None
    finite = [b for b in bounds if math.isfinite(b)]
    if not finite:
        return None  # only the +Inf bucket: a count, but nothing about latency
    per_bucket = [c - p for c, p in zip(counts, [0.0, *counts[:-1]], strict=True)]
    shares = _largest_remainder([c / counts[-1] * n for c in per_bucket], n)
    latencies: list[float] = []
    lower = 0.0
    for upper, k in zip(bounds, shares, strict=True):
        top = upper if math.isfinite(upper) else finite[-1]
        latencies += [lower + (j + 0.5) / k * (top - lower) for j in range(k)]
        lower = top
    return latencies


def _largest_remainder(quotas: list[float], n: int) -> list[int]:
    """Whole numbers summing to `n`, as close to `quotas` as rounding allows."""
    whole = [math.floor(q) for q in quotas]
    rest = sorted(range(len(quotas)), key=lambda i: quotas[i] - whole[i], reverse=True)
    for i in rest[: n - sum(whole)]:
        whole[i] += 1
    return whole


def samples_from_traffic(version: str, traffic: Traffic, end: float, window_s: float,
                         cap: int = DEFAULT_SAMPLE_CAP) -> tuple[list[RequestSample], float]:
    """Rebuild per-request samples from counts, for a judge that wants samples; and the scale.

    Prometheus keeps counts, not requests: each version gets round(requests) samples (scaled
    down to at most `cap`, proportions kept; the scale is returned), round(errors) of them
    status 500 spread evenly across the latency range, the rest 200; latencies come from the
    histogram (see `latencies_from_buckets`; 0.0 when there is none) and `at` is spread over
    the window ending at `end`.
    """
    n = max(0, round(traffic.requests))
    scale = min(1.0, cap / n) if n else 1.0
    n = round(n * scale)
    errors = min(n, max(0, round(traffic.errors * scale)))
    latencies = latencies_from_buckets(traffic.buckets, n) or [0.0] * n
    bad = {math.floor((k + 0.5) * n / errors) for k in range(errors)} if errors else set()
    start = end - window_s
    return [
        RequestSample(version=version, at=start + (i + 0.5) * window_s / n,
                      latency_s=latencies[i], status=500 if i in bad else 200)
        for i in range(n)
    ], scale


def gauge(base_url: str, metric: str, selector: str, window: str, timeout: float = 10.0,
          http: httpx.Client | None = None) -> float:
    """A metric's average over `window` for the matching series; NaN when there is none."""
    promql = (f"avg(avg_over_time({check_name(metric)}{{{check_selector(selector)}}}"
              f"[{check_range(window)}]))")
    values = [v for _, v in query(base_url, promql, timeout, http)]
    return values[0] if values else math.nan
