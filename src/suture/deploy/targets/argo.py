"""Kubernetes manifests for Argo Rollouts: a canary Rollout whose steps ask suture's judge.

`render` writes, for one app: three Services (the app's own, selecting every pod, so traffic
splits by replica count; and the stable and canary Services the Rollout points at, whose
selectors Argo narrows to each version's pod-template hash), an AnalysisTemplate whose `web`
metrics call `suture judge serve`, and the Rollout. Each canary weight below 100 is a
`setWeight` step followed by an inline `analysis` step, which blocks the rollout until it ends:

- metric `suture-judge` looks every `canary.look_s` seconds (at least MIN_LOOK_S: Prometheus
  only has new points once per scrape) for `canary.interval_s`; `rollback` fails it at once
  (failureLimit 0), so Argo aborts and sends all traffic back to stable;
- metric `suture-judge-final` asks once, when the step's time is up (`final: true`): `promote`
  ends the step, `rollback` aborts, `continue` (too little traffic to judge) is inconclusive,
  which pauses the rollout for a person rather than promoting blind.

Without a traffic router Argo approximates a weight with replica counts, so with 2 replicas a
5% step really sends about half the traffic to the canary: run enough replicas (or add
`trafficRouting` by hand) for the weights to mean what they say.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from suture.deploy.settings import DeploySettings
from suture.errors import UsageError

API_VERSION = "argoproj.io/v1alpha1"

HASH_LABEL = "rollouts_pod_template_hash"
"""Prometheus' name for the pod label `rollouts-pod-template-hash` that Argo puts on each
version's pods (the usual `labelmap` of Kubernetes pod labels turns dashes into underscores)."""

MIN_LOOK_S = 5.0
"""Shortest time between two looks on a cluster: Prometheus has new points only per scrape."""

CONSECUTIVE_ERRORS = 4
"""Judge answers in a row that may fail (Prometheus or the judge unreachable) before Argo
aborts the rollout: not judged is not safe, but one lost scrape is no reason to roll back."""

WEB_TIMEOUT_S = 10
SUCCESS_LOOKING = 'result == "promote" || result == "continue"'
SUCCESS_FINAL = 'result == "promote"'
FAILURE = 'result == "rollback"'

_DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_SERVICE_SUFFIXES = ("-stable", "-canary")


def render(settings: DeploySettings, app_name: str, image: str, namespace: str, judge_url: str,
           *, port: int = 8080, app_label: str = "app",
           hash_label: str = HASH_LABEL) -> list[dict[str, Any]]:
    """The Services, AnalysisTemplate and Rollout of a judged canary, as Kubernetes objects.

    `port` is the container port the image listens on; `app_label` the pod label that selects
    the app (also the label Prometheus knows it by, next to `namespace` and `hash_label`).
    """
    _check(app_name, image, namespace, judge_url, port)
    template = f"{app_name}-suture-judge"
    pods = {app_label: app_name}
    objects: list[dict[str, Any]] = [
        _service(app_name, namespace, pods, port),
        *(_service(app_name + suffix, namespace, pods, port) for suffix in _SERVICE_SUFFIXES),
        _analysis_template(settings, template, namespace, app_name, judge_url,
                           app_label, hash_label),
        _rollout(settings, app_name, image, namespace, judge_url, template, pods, port),
    ]
    return objects


def write(manifests: Sequence[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write each object as YAML into `out_dir`, numbered in apply order; return the paths."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out_dir}: {exc.strerror or exc}",
                         hint="choose a writable output directory") from exc
    paths = []
    for i, obj in enumerate(manifests, 1):
        kind, name = obj["kind"].lower(), obj["metadata"]["name"]
        path = out_dir / f"{i:02d}-{kind}-{name}.yaml"
        text = "# Written by `suture deploy --target argo-rollouts`.\n" + yaml.safe_dump(
            obj, sort_keys=False, default_flow_style=False, width=100)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}",
                             hint="choose a writable output directory") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        paths.append(path)
    return paths


def _check(app_name: str, image: str, namespace: str, judge_url: str, port: int) -> None:
    longest = 63 - max(len(s) for s in _SERVICE_SUFFIXES)
    if not _DNS_LABEL.fullmatch(app_name) or len(app_name) > longest:
        raise UsageError(
            f"app name {app_name!r} cannot name Kubernetes Services",
            hint=f"use lower-case letters, digits and '-', starting with a letter, at most "
            f"{longest} characters (its Services add -stable and -canary)")
    if not _DNS_LABEL.fullmatch(namespace) or len(namespace) > 63:
        raise UsageError(f"namespace {namespace!r} is not a valid Kubernetes namespace",
                         hint="lower-case letters, digits and '-', at most 63 characters")
    if not image or any(c.isspace() for c in image):
        raise UsageError(f"image {image!r} is not a container image reference",
                         hint="e.g. registry.example.org/clinic-api:1.4.2")
    url = urlsplit(judge_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise UsageError(f"judge URL {judge_url!r} is not an http(s) URL",
                         hint="where `suture judge serve` answers inside the cluster, e.g. "
                         "http://suture-judge.deploy.svc:8787")
    if not 0 < port < 65536:
        raise UsageError(f"port {port} is not a TCP port")


def _meta(name: str, namespace: str, app_name: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/name": app_name,
                       "app.kubernetes.io/managed-by": "suture"}}


def _service(name: str, namespace: str, pods: dict[str, str], port: int) -> dict[str, Any]:
    app_name = next(iter(pods.values()))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, app_name),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(pods),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _duration(seconds: float) -> str:
    """A Go duration string (`30s`, `2.5s`) as Argo's DurationString wants it."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def _web(judge_url: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": judge_url.rstrip("/") + "/v1/judge",
        "method": "POST",
        "headers": [{"key": "Content-Type", "value": "application/json"}],
        "body": json.dumps(body, separators=(",", ":")),
        "timeoutSeconds": WEB_TIMEOUT_S,
        "jsonPath": "{$.verdict}",
    }


def _analysis_template(settings: DeploySettings, name: str, namespace: str, app_name: str,
                       judge_url: str, app_label: str, hash_label: str) -> dict[str, Any]:
    canary = settings.canary
    look = max(canary.look_s, MIN_LOOK_S)
    base = f'namespace="{namespace}",{app_label}="{app_name}",{hash_label}='
    body = {
        "canary": base + '"{{args.canary-hash}}"',
        "stable": base + '"{{args.stable-hash}}"',
        "step": "{{args.step}}",
    }
    looking = {
        "name": "suture-judge",
        "interval": _duration(look),
        "count": max(1, math.ceil(canary.interval_s / look)),
        "successCondition": SUCCESS_LOOKING,
        "failureCondition": FAILURE,
        "failureLimit": 0,
        "consecutiveErrorLimit": CONSECUTIVE_ERRORS,
        "provider": {"web": _web(judge_url, {**body, "final": False})},
    }
    final = {
        "name": "suture-judge-final",
        "initialDelay": _duration(canary.interval_s),
        "count": 1,
        "successCondition": SUCCESS_FINAL,
        "failureCondition": FAILURE,
        "failureLimit": 0,
        "consecutiveErrorLimit": CONSECUTIVE_ERRORS,
        "provider": {"web": _web(judge_url, {**body, "final": True})},
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "AnalysisTemplate",
        "metadata": _meta(name, namespace, app_name),
        "spec": {
            "args": [{"name": "canary-hash"}, {"name": "stable-hash"}, {"name": "step"}],
            "metrics": [looking, final],
        },
    }


def _rollout(settings: DeploySettings, app_name: str, image: str, namespace: str,
             judge_url: str, template: str, pods: dict[str, str], port: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for i, weight in enumerate(w for w in settings.canary.steps if w < 100):
        steps.append({"setWeight": weight})
        steps.append({"analysis": {
            "templates": [{"templateName": template}],
            "args": [
                {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
                {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
                {"name": "step", "value": f"{i + 1}-{weight}"},
            ],
        }})
    pod_meta: dict[str, Any] = {"labels": dict(pods)}
    if settings.metrics_path:
        pod_meta["annotations"] = {"prometheus.io/scrape": "true",
                                   "prometheus.io/port": str(port),
                                   "prometheus.io/path": settings.metrics_path}
    container = {
        "name": app_name,
        "image": image,
        "env": [{"name": "PORT", "value": str(port)}],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": settings.health_path, "port": "http"},
                           "periodSeconds": 5, "failureThreshold": 3},
    }
    meta = _meta(app_name, namespace, app_name)
    meta["annotations"] = {"suture/judge": judge_url}
    return {
        "apiVersion": API_VERSION,
        "kind": "Rollout",
        "metadata": meta,
        "spec": {
            "replicas": settings.replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": dict(pods)},
            "template": {"metadata": pod_meta, "spec": {"containers": [container]}},
            "strategy": {"canary": {
                "canaryService": f"{app_name}-canary",
                "stableService": f"{app_name}-stable",
                "steps": steps,
            }},
        },
    }
