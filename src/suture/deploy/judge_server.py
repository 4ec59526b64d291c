"""The canary judge over HTTP: Argo Rollouts' web metric and Flagger's webhooks ask, it answers.

Each call names the canary's and the stable version's series (PromQL label matchers); the
server reads their request counts, 5xx counts and latency histograms from Prometheus, rebuilds
approximate per-request samples from those counts (see `prometheus.samples_from_traffic`: the
Mann-Whitney latency test runs on latencies spread within histogram buckets, not on measured
ones) and asks the same CanaryJudge the local target uses. One judge lives per step (per
rollout, for Flagger), so its sequential tests keep their false-alarm guarantee across looks,
and the PromQL window grows from the step's first look.

Endpoints: `POST|GET /v1/judge` (Argo web metric: 200 with {"verdict", "reason", "metrics"}),
`POST /v1/flagger` (Flagger webhook: 2xx lets the canary go on, 409 stops it) and
`GET /healthz`. Prometheus down or answering nonsense: 503 with {"error", "hint"}, which
Argo counts as a measurement error and Flagger as a failed check.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from suture.deploy import prometheus as prom
from suture.deploy.judge import CanaryJudge
from suture.deploy.model import Judgement, Verdict
from suture.deploy.settings import SLO, JudgeSettings
from suture.errors import SutureError, ToolError

STEP_LEAD_S = 30.0
"""How far before a step's first look its window reaches: about one scrape interval, so the
first look already sees samples (the canary served the same code a moment earlier)."""

MAX_STEPS = 512
"""Steps whose judges are kept; the least recently asked is forgotten first."""

STEP_IDLE_S = 600.0
"""A step nobody asked about for this long starts afresh when asked again: looks come every few
seconds (Argo) or every analysis interval (Flagger), so a longer silence means a new attempt,
such as `kubectl argo rollouts retry`, which must not inherit the last attempt's evidence."""

MAX_BODY = 64 * 1024

FLAGGER_FINAL_PHASES = frozenset({"WaitingPromotion", "Promoting"})
"""Flagger phases where the canary's time is up: promote now, or say why not."""

GATE_HOOKS = frozenset({"confirm-promotion", "confirm-traffic-increase", "confirm-rollout"})
"""Flagger hooks that only pause on non-2xx: they let the canary go on only after `promote`."""

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class JudgeRequest(BaseModel):
    """What a caller asks: which series are the canary and stable, and how to read them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    canary: str = Field(description='PromQL label matchers of the canary, e.g. app="x",hash="1"')
    stable: str = Field(description="PromQL label matchers of the stable version.")
    step: str = Field(default="", description="Names the step; a new value starts new tests.")
    final: bool = Field(default=False, description="The step's time is up: promote or not.")
    window: str | None = Field(
        default=None, description="Fixed PromQL range (90s, 5m); default: since the step began."
    )
    requests_metric: str = "http_requests_total"
    latency_metric: str = "http_request_duration_seconds"
    status_label: str = "code"

    @field_validator("canary", "stable")
    @classmethod
    def _selector(cls, value: str) -> str:
        return prom.check_selector(value)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        return None if value is None else prom.check_range(value)

    @field_validator("requests_metric", "latency_metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        return prom.check_name(value)

    @field_validator("status_label")
    @classmethod
    def _label(cls, value: str) -> str:
        return prom.check_name(value, label=True)


class FlaggerPayload(BaseModel):
    """Flagger's webhook body; `metadata` is the webhook's own key-value map from the Canary."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    phase: str = ""
    checksum: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def hook(self) -> str:
        """The webhook's type as the Canary's metadata names it (Flagger does not send it)."""
        return self.metadata.get("hook", "rollout")

    def request(self) -> JudgeRequest:
        """The judge request: selectors from metadata, else Flagger's own pod labels."""
        meta = self.metadata
        fields: dict[str, Any] = {k: meta[k] for k in JudgeRequest.model_fields if k in meta}
        fields.setdefault("canary", f'namespace="{self.namespace}",app="{self.name}"')
        fields.setdefault("stable", f'namespace="{self.namespace}",app="{self.name}-primary"')
        final = self.phase in FLAGGER_FINAL_PHASES or self.hook in GATE_HOOKS
        fields["final"] = _truthy(meta["final"]) if "final" in meta else final
        return JudgeRequest.model_validate(fields)

    def status(self, verdict: Verdict) -> int:
        """HTTP status for Flagger: 200-202 lets the canary go on, anything else stops it."""
        if self.hook == "rollback":  # a rollback hook rolls back on success
            return 200 if verdict is Verdict.ROLLBACK else 409
        if self.hook in GATE_HOOKS:
            return 200 if verdict is Verdict.PROMOTE else 409
        return 409 if verdict is Verdict.ROLLBACK else 200


@dataclass
class _Step:
    judge: CanaryJudge
    started: float
    used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class JudgeService:
    """Judges canaries from what Prometheus counted, keeping one CanaryJudge per step."""

    def __init__(self, prometheus_url: str, settings: JudgeSettings | None = None,
                 slo: SLO | None = None, *, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.prometheus_url = prometheus_url.rstrip("/")
        self.settings = settings or JudgeSettings()
        self.slo = slo or SLO()
        self.timeout = timeout
        self._clock = clock
        self._steps: OrderedDict[tuple[str, ...], _Step] = OrderedDict()
        self._lock = threading.Lock()
        # httpx clients are safe to share between threads; one keeps connections warm.
        self._http = prom.client(timeout)
        CanaryJudge(self.settings, self.slo)  # a bad `judge.metrics` fails now, not per call

    def judge(self, req: JudgeRequest, key: tuple[str, ...] = ()) -> Judgement:
        """Read both versions from Prometheus and judge the step `key + (req.step,)` so far."""
        now = self._clock()
        step = self._step((*key, req.canary, req.stable, req.step), now)
        if req.window is not None:
            window_s = _seconds(req.window)
            window = req.window
        else:
            window_s = math.ceil(now - step.started + STEP_LEAD_S)
            window = f"{window_s}s"
        read = {name: self._read(req, sel, window) for name, sel in
                (("baseline", req.stable), ("canary", req.canary))}
        base, base_scale = prom.samples_from_traffic("stable", read["baseline"], now, window_s)
        can, can_scale = prom.samples_from_traffic("canary", read["canary"], now, window_s)
        extra = {name: (self._gauge(name, req.stable, window),
                        self._gauge(name, req.canary, window))
                 for name in sorted(self.settings.metrics)}
        with step.lock:
            j = step.judge.judge(base, can, final=req.final, extra=extra)
        metrics = dict(j.metrics)
        has_buckets = bool(read["canary"].buckets and read["baseline"].buckets)
        metrics.update({
            "source": "prometheus",
            "window": window,
            "latency_samples": "histogram buckets (approximate)" if has_buckets else "none",
            "sample_scale": min(base_scale, can_scale),
            "final": req.final,
        })
        return Judgement(verdict=j.verdict, reason=j.reason, metrics=metrics)

    def close(self) -> None:
        """Close the connections to Prometheus."""
        self._http.close()

    def _read(self, req: JudgeRequest, selector: str, window: str) -> prom.Traffic:
        queries = prom.TrafficQueries.build(selector, window, req.requests_metric,
                                            req.latency_metric, req.status_label)
        return prom.read_traffic(self.prometheus_url, queries, self.timeout, self._http)

    def _gauge(self, name: str, selector: str, window: str) -> float:
        return prom.gauge(self.prometheus_url, name, selector, window, self.timeout, self._http)

    def _step(self, key: tuple[str, ...], now: float) -> _Step:
        with self._lock:
            for old in [k for k, s in self._steps.items() if now - s.used > STEP_IDLE_S]:
                del self._steps[old]
            step = self._steps.pop(key, None)
            if step is None:
                step = _Step(CanaryJudge(self.settings, self.slo), started=now, used=now)
            step.used = now
            self._steps[key] = step
            while len(self._steps) > MAX_STEPS:
                self._steps.popitem(last=False)
            return step


def _seconds(duration: str) -> float:
    unit = "ms" if duration.endswith("ms") else duration[-1]
    return float(duration[: -len(unit)]) * _UNITS[unit]


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                     for e in exc.errors())


class JudgeServer:
    """A threaded HTTP server around a JudgeService; `with` runs it on a background thread."""

    def __init__(self, service: JudgeService, host: str = "127.0.0.1", port: int = 0,
                 log: Callable[[str], None] | None = None) -> None:
        self.service = service
        self.log = log or (lambda line: None)
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where the server listens, e.g. http://127.0.0.1:8787."""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        """Answer requests until `shutdown()` is called from another thread."""
        self._http.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop `serve_forever` (call from another thread) and close the sockets."""
        self._http.shutdown()
        self._http.server_close()
        self.service.close()

    def __enter__(self) -> JudgeServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON for one request; never raises."""
        parts = urlsplit(path)
        try:
            if parts.path == "/healthz" and method == "GET":
                return 200, {"status": "ok", "prometheus": self.service.prometheus_url}
            if parts.path == "/v1/judge" and method in ("GET", "POST"):
                fields = ({k: v[-1] for k, v in parse_qs(parts.query).items()}
                          if method == "GET" else _json(body))
                req = JudgeRequest.model_validate(fields)
                return 200, _judgement(self.service.judge(req, ("web",)))
            if parts.path == "/v1/flagger" and method == "POST":
                hook = FlaggerPayload.model_validate(_json(body))
                key = ("flagger", hook.namespace, hook.name, hook.checksum)
                j = self.service.judge(hook.request(), key)
                return hook.status(j.verdict), _judgement(j)
            if parts.path in ("/healthz", "/v1/judge", "/v1/flagger"):
                return 405, {"error": f"{method} is not allowed on {parts.path}"}
            return 404, {"error": f"no such endpoint: {parts.path}",
                         "hint": "POST /v1/judge (Argo), POST /v1/flagger, GET /healthz"}
        except ValidationError as exc:
            return 400, {"error": f"bad request: {_one_line(exc)}",
                         "hint": "name the versions as PromQL label matchers: "
                         '{"canary": "app=\\"x\\",hash=\\"1\\"", "stable": "..."}'}
        except _BadBody as exc:
            return 400, {"error": f"bad request: {exc}", "hint": "send a JSON object"}
        except ToolError as exc:
            return 503, {"error": f"cannot judge: {exc.message}", "hint": exc.hint}
        except SutureError as exc:
            return 500, {"error": exc.message, "hint": exc.hint}
        except Exception as exc:  # the answer must stay JSON, whatever broke
            self.log(f"internal error on {method} {parts.path}: {type(exc).__name__}: {exc}")
            return 500, {"error": f"internal error: {type(exc).__name__}: {exc}"}


class _BadBody(ValueError):
    pass


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadBody(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _BadBody("body must be a JSON object")
    return data


def _judgement(j: Judgement) -> dict[str, Any]:
    data = j.model_dump(mode="json")
    # JSON has no NaN or Infinity; Argo's and Flagger's parsers would reject the whole answer.
    data["metrics"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                       for k, v in data["metrics"].items()}
    return data


def _handler(server: JudgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "suture-judge"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # one line per answer is written by _serve instead

        def _serve(self, method: str) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            if size > MAX_BODY:
                status, data = 413, {"error": f"body over {MAX_BODY} bytes"}
            else:
                status, data = server.answer(method, self.path, self.rfile.read(size))
            raw = json.dumps(data, allow_nan=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            outcome = data.get("verdict") or data.get("error") or data.get("status", "")
            server.log(f"{method} {urlsplit(self.path).path} {status} {outcome}")

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler
