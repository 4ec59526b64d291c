"""Argo Rollouts manifests, validated against the Argo Rollouts CRDs and the Service schema."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from suture.deploy.settings import CanarySettings, DeploySettings
from suture.deploy.targets import argo
from suture.errors import UsageError

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
JUDGE = "http://suture-judge.deploy.svc:8787"
# Kubernetes' own name rules (apimachinery validation), which no OpenAPI schema carries.
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _strict(schema: Any) -> Any:
    """A CRD schema that rejects unknown fields, as `kubectl --validate=strict` does."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _crd_validator(file: str) -> jsonschema.Draft7Validator:
    crd = yaml.safe_load((SCHEMAS / "argo-rollouts" / file).read_text())
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1"
    return jsonschema.Draft7Validator(_strict(version["schema"]["openAPIV3Schema"]))


SERVICE_SCHEMA = json.loads((SCHEMAS / "kubernetes" / "service-v1.json").read_text())
VALIDATORS = {
    "Rollout": _crd_validator("rollout-crd.yaml"),
    "AnalysisTemplate": _crd_validator("analysis-template-crd.yaml"),
    "Service": jsonschema.Draft7Validator(SERVICE_SCHEMA),
}
OBJECT_META = jsonschema.Draft7Validator(SERVICE_SCHEMA["properties"]["metadata"])


def _problems(obj: dict[str, Any]) -> list[str]:
    """Every schema error of one manifest, as `kind/name: path: message`."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    errors = list(VALIDATORS[obj["kind"]].iter_errors(obj))
    errors += OBJECT_META.iter_errors(obj["metadata"])
    return [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def _render(**changes: Any) -> list[dict[str, Any]]:
    settings = DeploySettings(metrics_path="/metrics", **changes)
    return argo.render(settings, "clinic-api", "registry.example.org/clinic-api:1.4.2",
                       "clinical", JUDGE)


def _by_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def test_manifests_are_valid_against_the_argo_and_kubernetes_schemas() -> None:
    manifests = _render()
    assert [m["kind"] for m in manifests] == ["Service"] * 3 + ["AnalysisTemplate", "Rollout"]
    assert [p for m in manifests for p in _problems(m)] == []
    for obj in manifests:
        name = obj["metadata"]["name"]
        rule = DNS_1035_LABEL if obj["kind"] == "Service" else DNS_1123_SUBDOMAIN
        assert rule.fullmatch(name) and len(name) <= 63, name
        assert obj["metadata"]["namespace"] == "clinical"


def test_the_schemas_reject_what_kubernetes_would_reject() -> None:
    # The validation is only worth something if it can fail: a misspelt step, a weight given
    # as text, an unknown web-metric field and a Service port without its number all fail.
    rollout = copy.deepcopy(_by_kind(_render(), "Rollout")[0])
    rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setweight": 5}
    assert any("'setweight' was unexpected" in p for p in _problems(rollout))
    rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setWeight": "5"}
    assert any("is not of type 'integer'" in p for p in _problems(rollout))

    template = copy.deepcopy(_by_kind(_render(), "AnalysisTemplate")[0])
    template["spec"]["metrics"][0]["provider"]["web"]["jsonBody"] = {"canary": "x"}
    assert any("'jsonBody' was unexpected" in p for p in _problems(template))

    service = copy.deepcopy(_by_kind(_render(), "Service")[0])
    del service["spec"]["ports"][0]["port"]
    assert any("'port' is a required property" in p for p in _problems(service))


def test_rollout_steps_follow_the_configured_canary_weights() -> None:
    manifests = _render(canary=CanarySettings(steps=[10, 50, 100], interval_s=60, look_s=15))
    rollout = _by_kind(manifests, "Rollout")[0]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    assert weights == [10, 50]  # 100% is the promotion Argo does after the last step
    template = _by_kind(manifests, "AnalysisTemplate")[0]
    declared = {a["name"] for a in template["spec"]["args"] if "value" not in a}
    for setweight, analysis in zip(steps[::2], steps[1::2], strict=True):
        assert "setWeight" in setweight
        (ref,) = analysis["analysis"]["templates"]
        assert ref == {"templateName": template["metadata"]["name"]}
        # Argo refuses to start an AnalysisRun when a template argument has no value.
        assert {a["name"] for a in analysis["analysis"]["args"]} == declared
    looking, final = template["spec"]["metrics"]
    assert (looking["interval"], looking["count"]) == ("15s", 4)  # 60 s step, a look per 15 s
    assert final["initialDelay"] == "60s" and final["count"] == 1
    assert looking["failureLimit"] == 0 and looking["failureCondition"] == 'result == "rollback"'
    # The Services the Rollout names exist, and all three select the app's pods.
    services = {s["metadata"]["name"]: s for s in _by_kind(manifests, "Service")}
    canary = rollout["spec"]["strategy"]["canary"]
    assert {canary["canaryService"], canary["stableService"]} < services.keys()
    pods = rollout["spec"]["template"]["metadata"]["labels"]
    assert all(s["spec"]["selector"] == pods for s in services.values())
    assert rollout["spec"]["selector"]["matchLabels"] == pods


def test_looks_are_not_more_frequent_than_prometheus_can_answer() -> None:
    template = _by_kind(_render(canary=CanarySettings(interval_s=12.5, look_s=1)),
                        "AnalysisTemplate")[0]
    looking, final = template["spec"]["metrics"]
    assert looking["interval"] == "5s" and looking["count"] == 3
    assert final["initialDelay"] == "12.5s"


def test_the_web_metrics_ask_the_judge_about_each_version() -> None:
    template = _by_kind(_render(), "AnalysisTemplate")[0]
    for metric, final in zip(template["spec"]["metrics"], (False, True), strict=True):
        web = metric["provider"]["web"]
        assert web["url"] == f"{JUDGE}/v1/judge" and web["method"] == "POST"
        assert web["jsonPath"] == "{$.verdict}"
        body = json.loads(web["body"])
        assert body["canary"] == ('namespace="clinical",app="clinic-api",'
                                  'rollouts_pod_template_hash="{{args.canary-hash}}"')
        assert body["stable"].endswith('rollouts_pod_template_hash="{{args.stable-hash}}"')
        assert body["final"] is final


def test_bad_names_and_urls_are_refused_with_a_hint() -> None:
    settings = DeploySettings()
    cases = [
        ("Clinic_API", "img:1", "clinical", JUDGE, "cannot name Kubernetes Services"),
        ("a" * 60, "img:1", "clinical", JUDGE, "at most 56 characters"),
        ("clinic", "img:1", "Clinical", JUDGE, "not a valid Kubernetes namespace"),
        ("clinic", "", "clinical", JUDGE, "not a container image reference"),
        ("clinic", "img:1", "clinical", "ftp://judge", "not an http(s) URL"),
    ]
    for app, image, namespace, url, message in cases:
        with pytest.raises(UsageError) as exc:
            argo.render(settings, app, image, namespace, url)
        assert message in exc.value.message + (exc.value.hint or ""), (app, message)


def test_write_puts_one_yaml_per_object_in_apply_order(tmp_path: Path) -> None:
    manifests = _render()
    paths = argo.write(manifests, tmp_path / "k8s")
    assert [p.name for p in paths] == [
        "01-service-clinic-api.yaml", "02-service-clinic-api-stable.yaml",
        "03-service-clinic-api-canary.yaml", "04-analysistemplate-clinic-api-suture-judge.yaml",
        "05-rollout-clinic-api.yaml",
    ]
    assert [yaml.safe_load(p.read_text()) for p in paths] == manifests
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == [p.name for p in paths]

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(UsageError, match="cannot create"):
        argo.write(manifests, blocker / "k8s")
