"""`suture judge serve` over real HTTP, reading traffic from a Prometheus stand-in on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from suture.cli.judge import judge_app
from suture.deploy.judge_server import JudgeServer, JudgeService
from suture.deploy.settings import DeploySettings, JudgeSettings
from suture.deploy.targets import argo
from suture.errors import UsageError
from tests.fixtures.osv_server import closed_port_url
from tests.fixtures.prometheus_server import PrometheusServer

CANARY = 'app="clinic",hash="c4n4ry"'
# One client for the module: a new httpx client per request costs more than the answer.
HTTP = httpx.Client(timeout=10)
STABLE = 'app="clinic",hash="st4bl3"'


@dataclass
class Version:
    """What Prometheus counted for one version over the window: requests, 5xx, latency."""

    requests: float
    errors: float
    buckets: dict[str, float]  # cumulative, as `sum by (le) (increase(..._bucket))` answers


def fast(n: float) -> dict[str, float]:
    """A healthy latency histogram: most requests under 50 ms."""
    return {"0.025": 0.5 * n, "0.05": 0.8 * n, "0.1": 0.95 * n, "0.25": 0.99 * n, "0.5": n,
            "1": n, "+Inf": n}


def slow(n: float) -> dict[str, float]:
    """The same service about 200 ms slower."""
    return {"0.025": 0, "0.05": 0, "0.1": 0, "0.25": 0.6 * n, "0.5": 0.95 * n, "1": n,
            "+Inf": n}


def serve(prom: PrometheusServer, versions: dict[str, Version],
          gauges: dict[str, dict[str, float]] | None = None) -> None:
    """Answer the judge's PromQL: the version by its hash matcher, the quantity by its shape."""
    def respond(promql: str) -> list[tuple[dict[str, str], float]]:
        hit = [(marker, v) for marker, v in versions.items() if marker in promql]
        if not hit:
            return []
        marker, v = hit[0]
        if promql.startswith("avg(avg_over_time("):
            name = promql.removeprefix("avg(avg_over_time(").split("{")[0]
            value = (gauges or {}).get(name, {}).get(marker)
            return [] if value is None else [({}, value)]
        if "_bucket{" in promql:
            return [({"le": le}, count) for le, count in v.buckets.items()]
        if '=~"5.."' in promql:
            return [({}, v.errors)]
        return [({}, v.requests)]

    prom.responder = respond


HEALTHY = {"st4bl3": Version(3000, 3, fast(3000)), "c4n4ry": Version(300, 0, fast(300))}
ERRORS = {"st4bl3": Version(3000, 3, fast(3000)), "c4n4ry": Version(300, 30, fast(300))}
SLOW = {"st4bl3": Version(3000, 3, fast(3000)), "c4n4ry": Version(300, 0, slow(300))}
QUIET = {"st4bl3": Version(3000, 3, fast(3000)), "c4n4ry": Version(10, 0, fast(10))}


class Clock:
    """A clock the test moves (and that ticks `tick` seconds per reading, as time passes)."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now = 1_700_000_000.0
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


@pytest.fixture
def judge(prometheus_server: PrometheusServer) -> Iterator[JudgeServer]:
    """`suture judge` on 127.0.0.1 reading the Prometheus stand-in, with a test clock."""
    service = JudgeService(prometheus_server.url, timeout=5, clock=Clock(tick=1.0))
    with JudgeServer(service) as server:
        yield server


def ask(server: JudgeServer, **body: Any) -> httpx.Response:
    return HTTP.post(f"{server.url}/v1/judge", json={"canary": CANARY, "stable": STABLE,
                                                       **body})


def test_healthy_canary_continues_then_promotes(judge: JudgeServer,
                                                prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, HEALTHY)
    resp = ask(judge, step="1-5")
    assert resp.status_code == 200
    data = resp.json()
    assert data["verdict"] == "continue", data["reason"]
    assert data["metrics"]["canary_requests"] == 300
    assert data["metrics"]["baseline_errors"] == 3
    assert data["metrics"]["latency_samples"] == "histogram buckets (approximate)"
    final = ask(judge, step="1-5", final=True).json()
    assert final["verdict"] == "promote", final["reason"]
    assert final["reason"].startswith("no harm shown over 300 canary requests")


def test_errors_on_the_canary_roll_it_back(judge: JudgeServer,
                                           prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, ERRORS)
    data = ask(judge).json()
    assert data["verdict"] == "rollback"
    assert "error rate 10.0%" in data["reason"]


def test_slower_canary_rolls_back_on_the_latency_test(judge: JudgeServer,
                                                      prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, SLOW)
    data = ask(judge).json()
    assert data["verdict"] == "rollback"
    assert data["metrics"]["decided_by"] == "latency", data["reason"]
    assert data["metrics"]["median_delta_s"] > 0.15


def test_too_little_traffic_is_never_a_rollback(judge: JudgeServer,
                                                prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, QUIET)
    data = ask(judge, final=True).json()
    assert data["verdict"] == "continue"
    assert data["reason"] == "too little traffic: 10 of 50 requests"


def test_get_with_query_parameters_answers_the_same(judge: JudgeServer,
                                                    prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, ERRORS)
    resp = HTTP.get(f"{judge.url}/v1/judge", params={"canary": CANARY, "stable": STABLE,
                                                      "final": "true"})
    assert resp.status_code == 200 and resp.json()["verdict"] == "rollback"


def test_the_window_grows_from_the_step_start(prometheus_server: PrometheusServer) -> None:
    clock = Clock()
    serve(prometheus_server, HEALTHY)
    with JudgeServer(JudgeService(prometheus_server.url, clock=clock)) as server:
        ask(server, step="1-5")
        clock.now += 45
        ask(server, step="1-5")
        ask(server, step="2-25")  # a new step starts its own window (and its own tests)
    windows = [re.search(r"\[(\w+)\]", q).group(1)  # type: ignore[union-attr]
               for q in prometheus_server.queries if "hash=\"c4n4ry\"" in q and "5.." in q]
    assert windows == ["30s", "75s", "30s"]


def test_metric_and_label_names_can_be_those_the_app_exports(
        judge: JudgeServer, prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, ERRORS)
    data = ask(judge, requests_metric="flask_http_request_total", status_label="status",
               latency_metric="flask_http_request_duration_seconds", window="5m").json()
    assert data["verdict"] == "rollback" and data["metrics"]["window"] == "5m"
    assert ('sum(increase(flask_http_request_total{app="clinic",hash="c4n4ry",status=~"5.."}'
            '[5m]))') in prometheus_server.queries
    assert any(q.startswith("sum by (le) (increase(flask_http_request_duration_seconds_bucket{")
               for q in prometheus_server.queries)


def test_harm_shown_stays_shown_until_a_new_attempt(prometheus_server: PrometheusServer) -> None:
    clock = Clock(tick=1.0)
    with JudgeServer(JudgeService(prometheus_server.url, clock=clock)) as server:
        serve(prometheus_server, ERRORS)
        assert ask(server, step="1-5").json()["verdict"] == "rollback"
        # The sequential test keeps its evidence for the rest of the step...
        serve(prometheus_server, HEALTHY)
        assert ask(server, step="1-5").json()["verdict"] == "rollback"
        # ...but a retry after a pause (Argo's `retry` reuses the step) starts afresh.
        clock.now += 601
        data = ask(server, step="1-5").json()
    assert data["verdict"] == "continue" and data["metrics"]["window"] == "30s"


def test_configured_metrics_are_compared_too(prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, HEALTHY,
          gauges={"queue_depth": {"st4bl3": 4.0, "c4n4ry": 9.0}})
    service = JudgeService(prometheus_server.url,
                           JudgeSettings(metrics={"queue_depth": "lower"}))
    with JudgeServer(service) as server:
        data = ask(server, final=True).json()
    assert data["verdict"] == "rollback"
    assert data["metrics"]["decided_by"] == "metric:queue_depth"
    assert 'avg(avg_over_time(queue_depth{app="clinic",hash="c4n4ry"}[30s]))' in (
        prometheus_server.queries)


def test_prometheus_down_is_a_clear_error_not_a_traceback() -> None:
    with JudgeServer(JudgeService(closed_port_url(), timeout=2)) as server:
        resp = ask(server)
    assert resp.status_code == 503
    data = resp.json()
    assert data["error"].startswith("cannot judge: could not reach Prometheus at http://127.0.0.1")
    assert "--prometheus-url" in data["hint"]
    assert "Traceback" not in resp.text and "verdict" not in data


def test_prometheus_refusing_the_query_is_a_clear_error(judge: JudgeServer,
                                                        prometheus_server: PrometheusServer
                                                        ) -> None:
    prometheus_server.bad_data = True
    resp = ask(judge)
    assert resp.status_code == 503
    assert "bad_data: 1:1: parse error" in resp.json()["error"]


def test_bad_requests_are_refused_with_the_reason(judge: JudgeServer) -> None:
    cases = [
        ({"canary": CANARY}, "stable: Field required"),
        ({"canary": 'app="x"} or vector(1) #', "stable": STABLE}, "PromQL label matchers"),
        ({"canary": CANARY, "stable": STABLE, "window": "5 minutes"}, "PromQL duration"),
        ({"canary": CANARY, "stable": STABLE, "shoe_size": 9}, "shoe_size: Extra inputs"),
    ]
    for body, message in cases:
        resp = HTTP.post(f"{judge.url}/v1/judge", json=body)
        assert resp.status_code == 400, body
        assert message in resp.json()["error"], resp.json()
    resp = HTTP.post(f"{judge.url}/v1/judge", content=b"{not json")
    assert resp.status_code == 400 and "body is not JSON" in resp.json()["error"]


def test_health_and_unknown_paths(judge: JudgeServer, prometheus_server: PrometheusServer) -> None:
    resp = HTTP.get(f"{judge.url}/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "prometheus": prometheus_server.url}
    assert HTTP.get(f"{judge.url}/v1/flagger").status_code == 405
    resp = HTTP.get(f"{judge.url}/metrics")
    assert resp.status_code == 404 and "POST /v1/judge" in resp.json()["hint"]


# --- Flagger's webhook contract: 2xx lets the canary go on, anything else stops it ---------------

def flagger(server: JudgeServer, hook: str | None = None, phase: str = "Progressing",
            **meta: str) -> httpx.Response:
    metadata = {"canary": CANARY, "stable": STABLE, **meta}
    if hook:
        metadata["hook"] = hook
    return HTTP.post(f"{server.url}/v1/flagger", json={
        "name": "clinic", "namespace": "clinical", "phase": phase,
        "checksum": "6d8f9c7b5", "metadata": metadata})


def test_flagger_rollout_hook(judge: JudgeServer, prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, HEALTHY)
    resp = flagger(judge)
    assert resp.status_code == 200 and resp.json()["verdict"] == "continue"
    serve(prometheus_server, ERRORS)
    resp = flagger(judge)
    assert resp.status_code == 409
    assert resp.json()["verdict"] == "rollback"  # Flagger logs this body with the failed check


def test_flagger_gates_and_rollback_hooks(judge: JudgeServer,
                                          prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, QUIET)
    resp = flagger(judge, hook="confirm-promotion")
    assert (resp.status_code, resp.json()["verdict"]) == (409, "continue")  # wait for traffic
    serve(prometheus_server, HEALTHY)
    resp = flagger(judge, hook="confirm-promotion")
    assert (resp.status_code, resp.json()["verdict"]) == (200, "promote")
    # A rollback hook rolls the canary back when it answers 2xx.
    assert flagger(judge, hook="rollback").status_code == 409
    serve(prometheus_server, ERRORS)
    assert flagger(judge, hook="rollback").status_code == 200


def test_flagger_promoting_phase_is_the_final_look(judge: JudgeServer,
                                                   prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, HEALTHY)
    assert flagger(judge, phase="WaitingPromotion").json()["verdict"] == "promote"


def test_flagger_defaults_to_its_own_pod_labels(judge: JudgeServer,
                                                prometheus_server: PrometheusServer) -> None:
    resp = HTTP.post(f"{judge.url}/v1/flagger", json={
        "name": "podinfo", "namespace": "test", "phase": "Progressing", "checksum": "abc"})
    assert resp.status_code == 200  # no traffic counted yet: continue
    asked = " ".join(prometheus_server.queries)
    assert 'namespace="test",app="podinfo-primary"' in asked
    assert 'namespace="test",app="podinfo"}' in asked


def test_flagger_bad_payload_is_refused(judge: JudgeServer) -> None:
    resp = HTTP.post(f"{judge.url}/v1/flagger", json={"name": "podinfo"})
    assert resp.status_code == 400
    assert "namespace: Field required" in resp.json()["error"]


# --- The AnalysisTemplate's web metrics, sent the way Argo Rollouts sends them -----------------

def argo_measure(web: dict[str, Any], args: dict[str, str]) -> tuple[int, Any]:
    """Resolve {{args.*}}, send the request, apply the `{$.verdict}` JSONPath, like Argo."""
    def resolve(text: str) -> str:
        return re.sub(r"\{\{args\.([\w-]+)\}\}", lambda m: args[m.group(1)], text)

    resp = HTTP.request(web["method"], resolve(web["url"]), content=resolve(web["body"]),
                         headers={h["key"]: h["value"] for h in web["headers"]},
                         timeout=web["timeoutSeconds"])
    assert web["jsonPath"] == "{$.verdict}"
    return resp.status_code, resp.json().get("verdict")


def phase(metric: dict[str, Any], result: str) -> str:
    """Argo's measurement phase for `result` under the metric's two conditions."""
    def holds(condition: str) -> bool:
        wanted = re.findall(r'result == "(\w+)"', condition)
        assert condition == " || ".join(f'result == "{w}"' for w in wanted)  # nothing else
        return result in wanted

    if holds(metric["failureCondition"]):
        return "Failed"
    return "Successful" if holds(metric["successCondition"]) else "Inconclusive"


def test_the_rendered_analysis_template_and_the_judge_agree(
        judge: JudgeServer, prometheus_server: PrometheusServer) -> None:
    manifests = argo.render(DeploySettings(), "clinic", "img:1", "clinical", judge.url,
                            app_label="app", hash_label="hash")
    template = next(m for m in manifests if m["kind"] == "AnalysisTemplate")
    looking, final = template["spec"]["metrics"]
    args = {"canary-hash": "c4n4ry", "stable-hash": "st4bl3", "step": "1-5"}
    cases = [(HEALTHY, "Successful", "Successful"), (ERRORS, "Failed", "Failed"),
             (QUIET, "Successful", "Inconclusive")]
    for traffic, while_looking, at_the_end in cases:
        serve(prometheus_server, traffic)
        status, result = argo_measure(looking["provider"]["web"], args)
        assert status == 200 and phase(looking, result) == while_looking, result
        status, result = argo_measure(final["provider"]["web"], args)
        assert status == 200 and phase(final, result) == at_the_end, result
    assert any('namespace="clinical",app="clinic",hash="c4n4ry"' in q
               for q in prometheus_server.queries)


# --- The command itself -------------------------------------------------------------------------

_RUN_CLI = ("from suture.cli import app as cli, judge\n"
            "if not any(g.name == 'judge' for g in cli.app.registered_groups):\n"
            "    judge.register(cli.app)\n"
            "cli.main()\n")


def _cli(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-c", _RUN_CLI, "judge", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_command_answers_until_sigterm(tmp_path: Path,
                                             prometheus_server: PrometheusServer) -> None:
    serve(prometheus_server, QUIET)
    (tmp_path / "suture.yml").write_text(
        f"deploy:\n  prometheus_url: {prometheus_server.url}\n  judge:\n    min_requests: 5\n")
    proc = _cli(tmp_path, "serve", "--port", "0")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        assert HTTP.get(f"{url}/healthz").status_code == 200
        data = HTTP.post(f"{url}/v1/judge", json={"canary": CANARY, "stable": STABLE},
                          timeout=10).json()
        # suture.yml's judge settings apply: 10 canary requests are enough with min_requests 5.
        assert data["metrics"]["min_requests"] == 5 and data["verdict"] == "continue"
        assert not data["reason"].startswith("too little traffic")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "POST /v1/judge 200 continue" in err and "suture judge: stopped" in err


def test_serve_without_prometheus_explains_what_to_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no suture.yml here, and no --prometheus-url
    result = CliRunner().invoke(judge_app, ["serve", "--port", "0"])
    assert isinstance(result.exception, UsageError)
    assert result.exception.message == "no Prometheus server to read traffic from"
    assert "--prometheus-url" in (result.exception.hint or "")
    assert result.stdout == ""  # nothing listens, so no URL is printed
