"""`suture deploy` end to end: the real CLI, real app processes, the built-in router, real HTTP."""

from __future__ import annotations

import json

import httpx

from tests.fixtures.deploy_app import DeployRepo

LOAD = ("--load", "150", "--load-path", "/")


def serving(port: int, n: int = 20) -> set[str]:
    """Which versions answer on the environment's port."""
    seen = set()
    with httpx.Client(timeout=5) as client:
        for _ in range(n):
            res = client.get(f"http://127.0.0.1:{port}/")
            if res.status_code == 200:
                seen.add(res.text)
    return seen


def deploy(suture_cli, repo: DeployRepo, *args: str, env: dict[str, str] | None = None):
    res = suture_cli(repo.path, "deploy", "--json", *args, env=env, timeout=120)
    doc = json.loads(res.stdout) if res.stdout.strip().startswith("{") else None
    return res, doc


def test_first_release_then_healthy_canary_is_promoted(suture_cli, deploy_repo: DeployRepo):
    first = deploy_repo.git("rev-parse", "HEAD")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging")
    assert res.code == 0, res.out
    assert doc["status"] == "promoted" and doc["commit"] == first
    assert serving(deploy_repo.staging) == {first[:12]}

    second = deploy_repo.release({}, "healthy change")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 0, res.out
    assert doc["status"] == "promoted", res.out
    assert doc["risk"]["level"] in {"low", "medium", "high"} and doc["risk"]["reasons"]
    assert [s["weight"] for s in doc["steps"]] == [20, 50, 100]
    assert all(s["verdict"] == "promote" for s in doc["steps"])
    assert doc["steps"][0]["requests"] >= 30
    assert serving(deploy_repo.staging) == {second[:12]}

    listed = json.loads(suture_cli(deploy_repo.path, "releases", "--json").stdout)
    assert [r["status"] for r in listed["releases"]] == ["promoted", "promoted"]
    audit = suture_cli(deploy_repo.path, "audit", "log", "--json")
    actions = {json.loads(line)["action"] for line in audit.stdout.splitlines() if line.strip()}
    assert {"deploy.step", "judge.verdict"} <= actions
    assert suture_cli(deploy_repo.path, "audit", "verify").code == 0


def test_bad_canary_is_rolled_back_and_stable_keeps_serving(suture_cli, deploy_repo):
    first = deploy_repo.git("rev-parse", "HEAD")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"error_rate": 0.25}, "bad change")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 1, res.out
    assert doc["status"] == "rolled_back"
    assert doc["steps"][-1]["verdict"] == "rollback"
    assert doc["mttr_s"] is not None and doc["mttr_s"] >= 0
    assert doc["first_bad_at"] <= doc["restored_at"]
    assert serving(deploy_repo.staging) == {first[:12]}
    shown = suture_cli(deploy_repo.path, "releases", "show", doc["id"][:8])
    assert "rollback" in shown.stdout and "time to restore" in shown.stdout


def test_crashing_canary_is_rolled_back(suture_cli, deploy_repo):
    first = deploy_repo.git("rev-parse", "HEAD")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"exit_after": 5}, "crashes")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 1, res.out
    assert doc["status"] == "rolled_back"
    assert "stopped answering" in doc["error"] or "error rate" in doc["error"]
    assert serving(deploy_repo.staging) == {first[:12]}


def test_approval_by_someone_else_then_resume(suture_cli, deploy_repo):
    author = "Test Author <author@example.test>"
    res, doc = deploy(suture_cli, deploy_repo, "--env", "production", "--no-wait",
                      env={"SUTURE_ACTOR": author})
    assert res.code == 0, res.out
    assert doc["status"] == "awaiting_approval"
    rid = doc["id"][:10]

    busy = deploy(suture_cli, deploy_repo, "--env", "production", "--no-wait")[0]
    assert busy.code == 1 and "is busy" in busy.stderr and rid in busy.stderr

    own = suture_cli(deploy_repo.path, "approve", rid, env={"SUTURE_ACTOR": author})
    assert own.code == 2 and "cannot approve" in own.stderr

    ok = suture_cli(deploy_repo.path, "approve", rid,
                    env={"SUTURE_ACTOR": "Ada Reviewer <ada@example.test>"})
    assert ok.code == 0, ok.out
    res = suture_cli(deploy_repo.path, "deploy", "resume", "--json", timeout=120)
    assert res.code == 0, res.out
    doc = json.loads(res.stdout)
    assert doc["status"] == "promoted" and doc["approved_by"].startswith("Ada Reviewer")
    audit = suture_cli(deploy_repo.path, "audit", "log", "--json")
    assert any(json.loads(x)["action"] == "approval.granted" for x in audit.stdout.splitlines())


def test_rollback_by_hand_returns_to_the_previous_release(suture_cli, deploy_repo):
    first = deploy_repo.git("rev-parse", "HEAD")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    second = deploy_repo.release({}, "second")
    assert deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary",
                  *LOAD)[0].code == 0
    assert serving(deploy_repo.staging) == {second[:12]}
    res = suture_cli(deploy_repo.path, "rollback", "--env", "staging", "--json")
    assert res.code == 0, res.out
    assert json.loads(res.stdout)["status"] == "rolled_back"
    assert serving(deploy_repo.staging) == {first[:12]}


def test_bad_input_is_explained(suture_cli, deploy_repo, tmp_path):
    res = suture_cli(deploy_repo.path, "deploy", "--env", "qa")
    assert res.code == 2 and "no environment 'qa'" in res.stderr

    import socket
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", deploy_repo.staging))
        blocker.listen()
        res = suture_cli(deploy_repo.path, "deploy", "--env", "staging")
    assert res.code == 2 and "in use" in res.stderr

    state = deploy_repo.path / ".suture" / "deploy" / "staging" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json")
    res = suture_cli(deploy_repo.path, "deploy", "--env", "staging")
    assert res.code == 2 and "corrupted" in res.stderr


def test_blue_green_switches_back_when_the_new_version_is_bad(suture_cli, deploy_repo):
    first = deploy_repo.git("rev-parse", "HEAD")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"error_rate": 0.3}, "bad change")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "blue-green",
                      *LOAD)
    assert res.code == 1, res.out
    assert doc["strategy"] == "blue-green" and doc["status"] == "rolled_back"
    assert [s["weight"] for s in doc["steps"]] == [0, 100]
    assert doc["steps"][-1]["verdict"] == "rollback"
    assert serving(deploy_repo.staging) == {first[:12]}


def test_rolling_replaces_instances_in_batches(suture_cli, deploy_repo):
    from tests.fixtures.deploy_app import suture_yml

    deploy_repo.write("suture.yml", suture_yml(deploy_repo.staging, deploy_repo.production,
                                               replicas=2))
    deploy_repo.commit("two replicas")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    second = deploy_repo.release({}, "healthy change")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "rolling",
                      *LOAD)
    assert res.code == 0, res.out
    assert [s["weight"] for s in doc["steps"]] == [50, 100]
    assert serving(deploy_repo.staging) == {second[:12]}
    state = json.loads((deploy_repo.path / ".suture/deploy/staging/state.json").read_text())
    assert [i["commit"] for i in state["instances"]] == [second, second]


def test_a_killed_controller_is_resumed(suture_cli, deploy_repo):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.fixtures.deploy_app import suture_yml

    deploy_repo.write("suture.yml", suture_yml(deploy_repo.staging, deploy_repo.production,
                                               steps="[10, 100]"))
    deploy_repo.commit("slow steps")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    second = deploy_repo.release({}, "healthy change")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    controller = subprocess.Popen(
        [sys.executable, "-m", "suture", "deploy", "--env", "staging", "--strategy", "canary"],
        cwd=deploy_repo.path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = deploy_repo.path / ".suture/deploy/staging/state.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        if state.get("release_id") and any(i["commit"] == second for i in state["instances"]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the canary never started")
    time.sleep(0.5)
    controller.send_signal(signal.SIGKILL)
    controller.wait()
    # Nobody watches now, but the stable version still serves and a new deploy is refused.
    refused = suture_cli(deploy_repo.path, "deploy", "--env", "staging")
    assert refused.code == 1 and "suture deploy resume" in refused.stderr
    res = suture_cli(deploy_repo.path, "deploy", "resume", "--json", *LOAD[:2], timeout=120)
    assert res.code == 0, res.out
    doc = json.loads(res.stdout)
    assert doc["status"] == "promoted" and doc["commit"] == second
    assert serving(deploy_repo.staging) == {second[:12]}


def test_argo_rollouts_target_writes_manifests(suture_cli, deploy_repo):
    import yaml

    res = suture_cli(deploy_repo.path, "deploy", "--env", "staging", "--target", "argo-rollouts",
                     "--image", "registry.example/app:1.2.3", "-o", "k8s")
    assert res.code == 0, res.out
    kinds = set()
    for path in (deploy_repo.path / "k8s").iterdir():
        for doc in yaml.safe_load_all(path.read_text()):
            kinds.add(doc["kind"])
            if doc["kind"] == "Rollout":
                containers = doc["spec"]["template"]["spec"]["containers"]
                assert containers[0]["image"] == "registry.example/app:1.2.3"
    assert {"Rollout", "AnalysisTemplate", "Service"} <= kinds
    missing = suture_cli(deploy_repo.path, "deploy", "--env", "staging", "--target",
                         "argo-rollouts")
    assert missing.code == 2 and "--image" in missing.stderr


def test_nginx_router_rolls_a_bad_canary_back(suture_cli, deploy_repo):
    from tests.fixtures.deploy_app import suture_yml

    deploy_repo.write("suture.yml", suture_yml(deploy_repo.staging, deploy_repo.production,
                                               extra="  router: nginx\n"))
    first = deploy_repo.commit("route with nginx")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"error_rate": 0.25}, "bad change")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 1, res.out
    assert doc["status"] == "rolled_back" and doc["mttr_s"] is not None
    assert serving(deploy_repo.staging) == {first[:12]}
    state = json.loads((deploy_repo.path / ".suture/deploy/staging/state.json").read_text())
    assert state["router"]["kind"] == "nginx"


def _with_metrics(deploy_repo) -> str:
    from tests.fixtures.deploy_app import suture_yml

    yml = suture_yml(deploy_repo.staging, deploy_repo.production,
                     extra="  metrics_path: /metrics\n")
    yml = yml.replace("    min_requests: 30\n",
                      "    min_requests: 30\n    metrics: {app_queue_depth: lower}\n")
    deploy_repo.write("suture.yml", yml)
    return deploy_repo.commit("judge the queue depth too")


def test_a_worse_prometheus_metric_rolls_the_canary_back(suture_cli, deploy_repo):
    first = _with_metrics(deploy_repo)
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"queue_depth": 40}, "queue grows")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 1, res.out
    assert doc["status"] == "rolled_back" and "app_queue_depth" in doc["error"]
    assert serving(deploy_repo.staging) == {first[:12]}


def test_a_broken_metrics_endpoint_fails_the_release_safely(suture_cli, deploy_repo):
    first = _with_metrics(deploy_repo)
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    deploy_repo.release({"metrics_down": 1}, "metrics broken")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary", *LOAD)
    assert res.code == 1, res.out
    assert doc["status"] == "failed" and "metrics endpoint" in doc["error"]
    assert serving(deploy_repo.staging) == {first[:12]}


def test_an_app_that_never_becomes_healthy_fails_and_stable_keeps_serving(suture_cli,
                                                                          deploy_repo):
    first = deploy_repo.git("rev-parse", "HEAD")
    assert deploy(suture_cli, deploy_repo, "--env", "staging")[0].code == 0
    yml = (deploy_repo.path / "suture.yml").read_text()
    deploy_repo.write("suture.yml", yml.replace("ready_timeout_s: 15", "ready_timeout_s: 2"))
    deploy_repo.release({"unhealthy": 1}, "health check fails")
    res, doc = deploy(suture_cli, deploy_repo, "--env", "staging", "--strategy", "canary")
    assert res.code == 1, res.out
    assert doc["status"] == "failed" and "did not become healthy" in doc["error"]
    assert "HTTP 503" in doc["error"]
    assert serving(deploy_repo.staging) == {first[:12]}
