"""Fault injection: fault.json makes a release fail and slow down, never its health probe."""

from __future__ import annotations

import importlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.main
from app.fault import (
    DEFAULT_FAULT_FILE,
    FAULT_FILE_ENV,
    FaultFileError,
    FaultMiddleware,
    FaultSettings,
    load_faults,
)
from app.main import create_app
from tests.samples import FHIR_JSON

PROJECT = Path(__file__).resolve().parent.parent


def test_failing_release_answers_outcome_500_but_stays_healthy() -> None:
    client = TestClient(create_app(faults=FaultSettings(error_rate=1.0)))

    response = client.get("/metadata")
    assert response.status_code == 500
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "exception"
    assert "fault.json" in body["issue"][0]["diagnostics"]
    assert client.post("/Patient", json={"resourceType": "Patient"}).status_code == 500
    assert client.get("/healthz").json() == {"status": "ok"}


def test_fails_exactly_the_requests_drawn_below_the_rate() -> None:
    draws = itertools.cycle([0.10, 0.90, 0.29, 0.30])
    faulty = FaultMiddleware(create_app(), FaultSettings(error_rate=0.3), draw=lambda: next(draws))

    with TestClient(faulty) as client:
        statuses = [client.get("/metadata").status_code for _ in range(8)]

    assert statuses == [500, 200, 500, 200] * 2


def test_error_share_follows_the_rate() -> None:
    with TestClient(create_app(faults=FaultSettings(error_rate=0.25))) as client:
        failed = sum(client.get("/metadata").status_code == 500 for _ in range(120))

    # Binomial(120, 0.25): mean 30, standard deviation 4.7; this window is over 4 of them.
    assert 10 <= failed <= 50


def test_extra_latency_slows_everything_but_the_health_probe() -> None:
    with TestClient(create_app(faults=FaultSettings(extra_latency_s=0.3))) as client:
        began = time.perf_counter()
        assert client.get("/metadata").status_code == 200
        slow = time.perf_counter() - began

        began = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        fast = time.perf_counter() - began

    assert slow >= 0.3
    assert fast < 0.3


def test_healthy_settings_install_nothing() -> None:
    assert not FaultSettings().active
    assert create_app(faults=FaultSettings()).user_middleware == []
    assert len(create_app(faults=FaultSettings(error_rate=0.01)).user_middleware) == 1


@pytest.mark.parametrize("text", [None, "", "  \n", "{}"])
def test_absent_or_empty_file_means_healthy(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "fault.json"
    if text is not None:
        path.write_text(text)

    assert load_faults(path) == FaultSettings()


def test_reads_error_rate_and_latency(tmp_path: Path) -> None:
    path = tmp_path / "fault.json"
    path.write_text('{"error_rate": 0.05, "extra_latency_s": 0.2}')

    assert load_faults(path) == FaultSettings(error_rate=0.05, extra_latency_s=0.2)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{error_rate: 0.05}", "not valid JSON"),
        ('{"error_rate": 1.5}', "error_rate: Input should be less than or equal to 1"),
        ('{"error_rate": "high"}', "error_rate: Input should be a valid number"),
        ('{"errors": 0.05}', "errors: Extra inputs are not permitted"),
        ('{"extra_latency_s": -1}', "extra_latency_s: Input should be greater than or equal"),
        ("[0.05]", "fault settings: Input should be a valid dictionary"),
    ],
)
def test_malformed_file_is_refused_with_its_path(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "fault.json"
    path.write_text(text)

    with pytest.raises(FaultFileError) as raised:
        load_faults(path)

    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)
    assert '"error_rate": 0.05' in str(raised.value)


def test_project_file_is_next_to_suture_yml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAULT_FILE_ENV, raising=False)

    assert DEFAULT_FAULT_FILE == PROJECT / "fault.json"
    assert (PROJECT / "suture.yml").is_file()


def test_environment_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad-release.json"
    path.write_text('{"error_rate": 0.5}')
    monkeypatch.setenv(FAULT_FILE_ENV, str(path))

    assert load_faults() == FaultSettings(error_rate=0.5)


def test_environment_naming_no_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_FILE_ENV, str(tmp_path / "missing.json"))

    with pytest.raises(FaultFileError, match="names no file"):
        load_faults()


@pytest.fixture
def reload_main(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lets a test re-import app.main as a process start would; restores it afterwards."""
    yield
    monkeypatch.delenv(FAULT_FILE_ENV, raising=False)
    importlib.reload(app.main)


def test_served_app_reads_fault_file_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reload_main: None
) -> None:
    path = tmp_path / "fault.json"
    path.write_text('{"error_rate": 1.0}')
    monkeypatch.setenv(FAULT_FILE_ENV, str(path))
    served = importlib.reload(app.main).app
    path.write_text("{}")  # read once: a running release does not change

    client = TestClient(served)
    assert client.get("/metadata").status_code == 500
    assert client.get("/healthz").status_code == 200


def test_served_app_refuses_to_start_on_malformed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reload_main: None
) -> None:
    path = tmp_path / "fault.json"
    path.write_text('{"error_rate": 2}')
    monkeypatch.setenv(FAULT_FILE_ENV, str(path))

    with pytest.raises(FaultFileError, match="error_rate"):
        importlib.reload(app.main)
