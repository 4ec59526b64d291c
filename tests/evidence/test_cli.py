"""`suture sbom` and `suture provenance` end to end, after a real `suture run`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from suture.audit import AuditLog
from tests.evidence.conftest import installed_version

CONFIG = "python: {python}\ngates:\n  ok:\n    kind: command\n    run: 'true'\n"


def _events(root: Path, action: str) -> list[dict]:
    with AuditLog.open(root) as log:
        return [{"subject": e.subject, **e.data()} for e in log.events(actions=[action])]


def test_sbom_and_provenance_after_a_run(git_repo, suture_cli, small_venv: Path) -> None:
    root = git_repo.path
    git_repo.write("suture.yml", CONFIG.format(python=small_venv))
    git_repo.write("requirements.txt", "requests==2.31.0\n")
    commit = git_repo.commit("app")

    none = suture_cli(root, "sbom")
    assert none.code == 2 and "no runs recorded yet" in none.stderr, none.out
    ran = suture_cli(root, "run")
    assert ran.code == 0, ran.out
    run_id = _events(root, "run.started")[0]["subject"]

    # Default: the project's interpreter (python: in suture.yml), a summary, the stored file.
    env = suture_cli(root, "sbom")
    assert env.code == 0, env.out
    stored = root / ".suture" / "evidence" / run_id / "sbom.cdx.json"
    assert f"stored .suture/evidence/{run_id}/sbom.cdx.json" in env.stdout
    doc = json.loads(stored.read_text())
    pip = installed_version(small_venv, "pip")
    [pip_entry] = [c for c in doc["components"] if c["name"] == "pip"]
    assert (pip_entry["version"], pip_entry["purl"]) == (pip, f"pkg:pypi/pip@{pip}")
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["suture:run_id"] == run_id and props["suture:commit"] == commit

    # From a requirements file, JSON on stdout.
    out = suture_cli(root, "sbom", "--from", "requirements.txt", "-o", "-")
    assert out.code == 0, out.out
    printed = json.loads(out.stdout)
    assert printed["bomFormat"] == "CycloneDX"
    assert [c["purl"] for c in printed["components"]] == ["pkg:pypi/requests@2.31.0"]
    assert json.loads(stored.read_text()) == printed
    events = _events(root, "sbom.created")
    assert len(events) == 2 and events[0]["subject"] == run_id
    assert events[0]["path"] == f".suture/evidence/{run_id}/sbom.cdx.json"

    bad = suture_cli(root, "sbom", "--from", "missing.txt")
    assert bad.code == 2 and "cannot read the requirements file" in bad.stderr, bad.out

    # Provenance for an artifact, written to a file, verified, then tampered with.
    git_repo.write("dist/app.tar.gz", "release bytes")
    made = suture_cli(root, "provenance", "dist/app.tar.gz", "-o", "app.intoto.jsonl")
    assert made.code == 0, made.out
    envelope = json.loads((root / "app.intoto.jsonl").read_text())
    kept = list((root / ".suture" / "evidence" / run_id).glob("provenance-*.intoto.jsonl"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == envelope
    [created] = _events(root, "provenance.created")
    assert created["subject"] == run_id and created["subjects"][0]["name"] == "app.tar.gz"

    ok = suture_cli(root, "provenance", "--verify", "app.intoto.jsonl")
    assert ok.code == 0 and "signature OK" in ok.stdout, ok.out
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicate"]["buildDefinition"]["externalParameters"] == {
        "repository": root.resolve().as_uri(), "ref": "refs/heads/main", "commit": commit}

    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (root / "forged.jsonl").write_text(json.dumps(envelope) + "\n")
    forged = suture_cli(root, "provenance", "--verify", "forged.jsonl")
    assert forged.code == 1 and "forged.jsonl:1: no signature" in forged.stderr, forged.out

    # Envelopes made before an audit key rotation still verify with the retired key.
    rotated = suture_cli(root, "audit", "key", "rotate")
    assert rotated.code == 0, rotated.out
    again = suture_cli(root, "provenance", "--verify", "app.intoto.jsonl")
    assert again.code == 0 and "signature OK" in again.stdout, again.out
