"""The Prometheus client: scraping real exposition text and PromQL over Prometheus's HTTP API."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from suture.deploy import prometheus
from suture.errors import ToolError
from tests.fixtures.osv_server import closed_port_url
from tests.fixtures.prometheus_server import PrometheusServer


def _app_metrics() -> str:
    """What an instrumented app serves: a request counter by code and a latency histogram."""
    registry = CollectorRegistry()
    requests = Counter("http_requests", "Requests.", ["code"], registry=registry)
    latency = Histogram("http_request_duration_seconds", "Latency.", registry=registry,
                        buckets=(0.05, 0.1, 0.5))
    requests.labels(code="200").inc(97)
    requests.labels(code="500").inc(3)
    for seconds in (0.01, 0.02, 0.07, 0.3, 2.0):
        latency.observe(seconds)
    return generate_latest(registry).decode()


def test_scrape_reads_counters_and_histogram_buckets(prometheus_server: PrometheusServer) -> None:
    prometheus_server.exposition = _app_metrics()
    samples = prometheus.scrape(f"{prometheus_server.url}/metrics", timeout=5)
    assert samples['http_requests_total{code="200"}'] == 97
    assert samples['http_requests_total{code="500"}'] == 3
    # Buckets are cumulative, as the exposition format has them.
    assert samples['http_request_duration_seconds_bucket{le="0.05"}'] == 2
    assert samples['http_request_duration_seconds_bucket{le="0.5"}'] == 4
    assert samples['http_request_duration_seconds_bucket{le="+Inf"}'] == 5
    assert samples["http_request_duration_seconds_count"] == 5


def test_scrape_errors_name_the_endpoint_and_cause(prometheus_server: PrometheusServer) -> None:
    down = closed_port_url()
    with pytest.raises(ToolError, match="could not reach the metrics endpoint") as exc:
        prometheus.scrape(f"{down}/metrics", timeout=2)
    assert exc.value.hint and "metrics_path" in exc.value.hint

    with pytest.raises(ToolError, match="answered HTTP 404"):
        prometheus.scrape(f"{prometheus_server.url}/nothing-here", timeout=5)

    prometheus_server.exposition = 'http_requests_total{code=200} 1\n'
    with pytest.raises(ToolError, match="not in the Prometheus exposition format.*code=200"):
        prometheus.scrape(f"{prometheus_server.url}/metrics", timeout=5)


def test_query_returns_labels_and_values(prometheus_server: PrometheusServer) -> None:
    promql = 'sum by (version) (rate(http_requests_total{app="clinic"}[1m]))'
    prometheus_server.vectors[promql] = [({"version": "v1"}, 12.5), ({"version": "v2"}, 0.25)]
    got = prometheus.query(prometheus_server.url, promql, timeout=5)
    assert got == [({"version": "v1"}, 12.5), ({"version": "v2"}, 0.25)]
    assert prometheus_server.queries == [promql]
    # A metric Prometheus has never seen answers an empty vector, not an error.
    assert prometheus.query(prometheus_server.url + "/", "nothing_total", timeout=5) == []


def test_query_keeps_prometheus_special_values(prometheus_server: PrometheusServer) -> None:
    prometheus_server.vectors["q"] = [({"le": "+Inf"}, math.inf), ({}, math.nan), ({}, 2.0)]
    got = prometheus.query(prometheus_server.url, "q")
    assert got[0] == ({"le": "+Inf"}, math.inf)
    assert math.isnan(got[1][1])
    assert prometheus.total(got[1:]) == 2.0


def test_query_scalar_answer_is_one_unlabelled_sample(prometheus_server: PrometheusServer) -> None:
    prometheus_server.raw = {"status": "success",
                             "data": {"resultType": "scalar", "result": [1700000000, "4"]}}
    assert prometheus.query(prometheus_server.url, "scalar(vector(4))") == [({}, 4.0)]


def test_query_errors_are_one_line_with_a_hint(prometheus_server: PrometheusServer) -> None:
    with pytest.raises(ToolError, match="could not reach Prometheus") as exc:
        prometheus.query(closed_port_url(), "up", timeout=2)
    assert "--prometheus-url" in (exc.value.hint or "")

    prometheus_server.fail_status = 503
    with pytest.raises(ToolError, match="rejected 'up': unavailable: scripted outage"):
        prometheus.query(prometheus_server.url, "up")

    prometheus_server.fail_status = None
    prometheus_server.bad_data = True
    with pytest.raises(ToolError, match="bad_data: 1:1: parse error") as exc:
        prometheus.query(prometheus_server.url, "up{")
    assert "\n" not in exc.value.message

    prometheus_server.bad_data = False
    prometheus_server.garbage = True
    with pytest.raises(ToolError, match="no JSON object") as exc:
        prometheus.query(prometheus_server.url, "up")
    assert "base URL" in (exc.value.hint or "")


def test_query_refuses_a_range_vector(prometheus_server: PrometheusServer) -> None:
    prometheus_server.raw = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    with pytest.raises(ToolError, match="matrix result, not an instant vector"):
        prometheus.query(prometheus_server.url, "up[5m]")

    prometheus_server.raw = {"status": "success", "data": {"resultType": "vector",
                                                           "result": [{"metric": {}}]}}
    with pytest.raises(ToolError, match="malformed vector result"):
        prometheus.query(prometheus_server.url, "up")


def test_latencies_follow_the_histogram_buckets() -> None:
    inf = math.inf
    # Cumulative counts as increase() returns them, one bucket slightly non-monotone.
    got = prometheus.latencies_from_buckets([(0.1, 5.0), (0.5, 4.9), (1.0, 8.0), (inf, 10.0)],
                                            10)
    assert got is not None and len(got) == 10 and got == sorted(got)
    assert sum(x <= 0.1 for x in got) == 5  # half the requests were under 100 ms
    assert sum(0.5 < x < 1.0 for x in got) == 3
    assert got[-2:] == [1.0, 1.0]  # slower than the largest bound: placed at that bound
    assert prometheus.latencies_from_buckets([(inf, 10.0)], 10) is None  # no latency in it
    assert prometheus.latencies_from_buckets([], 3) is None


def test_samples_rebuilt_from_counts_keep_counts_and_error_share() -> None:
    traffic = prometheus.Traffic(requests=400.4, errors=20.2,
                                 buckets=((0.05, 200.0), (0.2, 400.0), (math.inf, 400.0)))
    samples, scale = prometheus.samples_from_traffic("canary", traffic, end=1000.0, window_s=60)
    assert scale == 1.0 and len(samples) == 400
    assert sum(s.is_error for s in samples) == 20
    assert all(940.0 < s.at < 1000.0 for s in samples)
    assert sorted(s.latency_s for s in samples)[199] <= 0.05 < sorted(
        s.latency_s for s in samples)[200]
    # Past the cap the samples are scaled down, the error share kept.
    many, scale = prometheus.samples_from_traffic(
        "canary", prometheus.Traffic(1e6, 1e4), end=1000.0, window_s=60, cap=1000)
    assert (len(many), scale, sum(s.is_error for s in many)) == (1000, 0.001, 10)
    assert {s.latency_s for s in many} == {0.0}  # no histogram: latency unknown


def test_queries_only_take_label_matchers_and_names() -> None:
    q = prometheus.TrafficQueries.build('app="clinic",hash="a1"', "90s", status_label="status")
    assert q.errors == ('sum(increase(http_requests_total{app="clinic",hash="a1",status=~"5.."}'
                        '[90s]))')
    assert q.buckets.startswith("sum by (le) (increase(http_request_duration_seconds_bucket{")
    for selector in ('app="x"} or vector(1) #', "app=x", "", 'app="x" + 1'):
        with pytest.raises(ValueError, match="label matchers"):
            prometheus.check_selector(selector)
    with pytest.raises(ValueError, match="metric name"):
        prometheus.TrafficQueries.build('app="x"', "90s", requests_metric="up or vector(1)")
