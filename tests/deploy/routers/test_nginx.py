"""The nginx router: a real nginx, real backends and real HTTP over 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from suture import proc
from suture.deploy.model import RequestSample
from suture.deploy.routers import nginx as nginx_module
from suture.deploy.routers.common import ensure_port_free, free_port
from suture.deploy.routers.interface import Backend, RouterState
from suture.deploy.routers.nginx import SEARCH_PATHS, NginxRouter
from suture.errors import ToolError, UsageError
from tests.fixtures.backends import VersionBackend, unused_port

Make = Callable[..., VersionBackend]

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") or any(os.access(p, os.X_OK) for p in SEARCH_PATHS)),
    reason="nginx is not installed (apt-get install nginx-light)",
)


@pytest.fixture
def router(tmp_path: Path) -> Iterator[NginxRouter]:
    r = NginxRouter(tmp_path / "nginx")
    try:
        yield r
    finally:
        r.stop()


def versions(port: int, n: int, path: str = "/") -> Counter[str]:
    """Send n requests over one keep-alive connection; count answers by version (or status)."""
    out: Counter[str] = Counter()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for _ in range(n):
            resp = client.get(path)
            out[resp.headers.get("x-version", str(resp.status_code))] += 1
    return out


def settled(router: NginxRouter, expected: int) -> list[RequestSample]:
    """Samples until `expected` arrived (nginx logs a request just after answering it)."""
    samples = router.samples()
    deadline = time.monotonic() + 5
    while len(samples) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
        samples += router.samples()
    return samples


def test_weights_are_respected_and_every_request_is_sampled(
    router: NginxRouter, backend_server: Make
) -> None:
    v1, v2 = backend_server("v1"), backend_server("v2")
    t0 = time.time()
    state = router.start(0, [Backend("a", "v1", v1.port, 100), Backend("b", "v2", v2.port, 0)])
    assert state.kind == "nginx" and proc.running(state.pid)
    conf = router.conf_path.read_text()
    assert f"server 127.0.0.1:{v1.port} weight=100 max_fails=0;" in conf
    assert str(v2.port) not in conf  # weight 0: left out of the upstream
    assert ("user root;" in conf) == (os.geteuid() == 0)
    assert versions(state.listen_port, 40) == {"v1": 40}

    router.route([Backend("a", "v1", v1.port, 50), Backend("b", "v2", v2.port, 50)])
    split = versions(state.listen_port, 400)
    assert abs(split["v1"] - 200) <= 40 and split["v1"] + split["v2"] == 400

    samples = settled(router, 440)
    assert len(samples) == 440
    assert Counter(s.version for s in samples) == {"v1": 40 + split["v1"], "v2": split["v2"]}
    assert {s.status for s in samples} == {200}
    assert all(t0 - 0.01 <= s.at <= time.time() and 0 <= s.latency_s < 5 for s in samples)
    assert router.samples() == []


def test_a_route_change_applies_to_the_very_next_request(
    router: NginxRouter, backend_server: Make
) -> None:
    v1, v2 = backend_server("v1"), backend_server("v2")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    took = []
    with httpx.Client(base_url=f"http://127.0.0.1:{state.listen_port}") as client:
        client.get("/")  # a keep-alive connection held by the current worker
        for i in range(6):
            version, port = ("v2", v2.port) if i % 2 == 0 else ("v1", v1.port)
            start = time.monotonic()
            router.route([Backend("x", version, port, 1)])
            took.append(time.monotonic() - start)
            assert client.get("/").headers["x-version"] == version
    assert max(took) < 2.0


def test_samples_carry_status_and_latency(router: NginxRouter, backend_server: Make) -> None:
    slow = backend_server("v1", status=503, latency_s=0.15)
    state = router.start(0, [Backend("a", "v1", slow.port, 1)])
    assert httpx.get(f"http://127.0.0.1:{state.listen_port}/").status_code == 503
    [sample] = settled(router, 1)
    assert sample.version == "v1" and sample.status == 503
    assert 0.15 <= sample.latency_s < 2


def test_a_backend_that_refuses_connections_gives_502_and_a_status_0_sample(
    router: NginxRouter, backend_server: Make
) -> None:
    good = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", good.port, 1),
                             Backend("b", "v2", unused_port(), 1)])
    # proxy_next_upstream off: a dead canary is not hidden by retries on the stable version.
    assert versions(state.listen_port, 20) == {"v1": 10, "502": 10}
    by_version = Counter((s.version, s.status) for s in settled(router, 20))
    assert by_version == {("v1", 200): 10, ("v2", 0): 10}


def test_a_port_in_use_is_a_clear_error(tmp_path: Path, backend_server: Make) -> None:
    v1 = backend_server("v1")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = NginxRouter(tmp_path / "n")
        try:
            with pytest.raises(UsageError) as err:
                r.start(port, [Backend("a", "v1", v1.port, 1)])
        finally:
            r.stop()
    assert str(err.value) == (f"port {port} is in use by another process; "
                              "choose another `port:` for the environment")


def test_attach_and_old_log_lines_keep_their_version(
    router: NginxRouter, backend_server: Make
) -> None:
    first = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", first.port, 1)])
    assert versions(state.listen_port, 3) == {"v1": 3}
    # The same port later serves another version: earlier lines must still count for v1.
    port = first.port
    first.stop()
    second = backend_server("v3", port=port)

    other = NginxRouter(Path("/nonexistent"))
    other.attach(RouterState("nginx", state.listen_port, pid=state.pid,
                             admin_port=state.admin_port, workdir=state.workdir))
    assert other.alive()
    other.route([Backend("b", "v3", second.port, 1)])
    assert versions(state.listen_port, 2) == {"v3": 2}
    assert [s.version for s in other.samples()] == ["v1"] * 3 + ["v3"] * 2
    assert router.samples() == []  # the byte offset is shared through the workdir
    with pytest.raises(UsageError, match="not pid"):
        NginxRouter(Path("/x")).attach(RouterState("nginx", 1, pid=1, workdir=state.workdir))


def test_the_access_log_rotates_without_losing_requests(
    router: NginxRouter, backend_server: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nginx_module, "ROTATE_BYTES", 1)  # rotate on every read
    v1 = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    seen = 0
    for n in (3, 2, 4):
        versions(state.listen_port, n)
        seen += len(router.samples())
        assert (router.workdir / "access.log.1").exists()
    versions(state.listen_port, 1)
    seen += len(router.samples())
    assert seen == 10


def test_a_config_nginx_rejects_names_the_problem_and_keeps_serving(
    router: NginxRouter, backend_server: Make
) -> None:
    v1 = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    with pytest.raises(ToolError, match="nginx rejected the generated configuration: .*invalid"):
        router.route([Backend("a", "v1", v1.port, 1, host="bad host")])
    assert router.alive() and versions(state.listen_port, 2) == {"v1": 2}
    with pytest.raises(UsageError, match="no backend has a traffic weight"):
        router.route([Backend("a", "v1", v1.port, 0)])


def test_stop_frees_the_port(tmp_path: Path, backend_server: Make) -> None:
    v1 = backend_server("v1")
    port = free_port()
    r = NginxRouter(tmp_path / "n")
    try:
        state = r.start(port, [Backend("a", "v1", v1.port, 1)])
        assert versions(port, 2) == {"v1": 2}
        r.stop()
        assert not r.alive() and not proc.running(state.pid)
        ensure_port_free(port)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/")
        assert r.start(port, [Backend("a", "v1", v1.port, 1)]).listen_port == port
    finally:
        r.stop()


def test_missing_nginx_says_how_to_install_it(tmp_path: Path) -> None:
    r = NginxRouter(tmp_path / "n", nginx=str(tmp_path / "no-nginx"))
    with pytest.raises(ToolError) as err:
        r.start(0, [Backend("a", "v1", 8000, 1)])
    assert "apt-get install nginx-light" in (err.value.hint or "")
