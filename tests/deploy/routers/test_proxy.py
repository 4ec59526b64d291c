"""The built-in router: a real proxy process, real backends and real HTTP over 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from suture import proc
from suture.deploy.routers import ROUTERS, get_router, proxy_server
from suture.deploy.routers.common import ensure_port_free, free_port
from suture.deploy.routers.interface import Backend, RouterState
from suture.deploy.routers.nginx import NginxRouter
from suture.deploy.routers.proxy import BuiltinRouter
from suture.errors import ConfigError, UsageError
from tests.fixtures.backends import VersionBackend, unused_port

Make = Callable[..., VersionBackend]


@pytest.fixture
def router(tmp_path: Path) -> Iterator[BuiltinRouter]:
    r = BuiltinRouter(tmp_path / "router")
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


def test_weights_are_respected_and_every_request_is_sampled(
    router: BuiltinRouter, backend_server: Make
) -> None:
    v1, v2 = backend_server("v1"), backend_server("v2")
    t0 = time.time()
    state = router.start(0, [Backend("a", "v1", v1.port, 100), Backend("b", "v2", v2.port, 0)])
    assert state.kind == "builtin" and state.listen_port > 0 and proc.running(state.pid)
    assert versions(state.listen_port, 40) == {"v1": 40}
    assert v2.hits == 0

    router.route([Backend("a", "v1", v1.port, 50), Backend("b", "v2", v2.port, 50)])
    split = versions(state.listen_port, 400)
    assert abs(split["v1"] - 200) <= 40 and split["v1"] + split["v2"] == 400

    samples = router.samples()
    assert len(samples) == 440
    assert Counter(s.version for s in samples) == {"v1": 40 + split["v1"], "v2": split["v2"]}
    assert {s.status for s in samples} == {200}
    assert all(t0 <= s.at <= time.time() and 0 < s.latency_s < 5 for s in samples)
    assert [s.at for s in samples] == sorted(s.at for s in samples)
    assert router.samples() == []  # each call returns only what is new


def test_a_route_change_applies_to_the_very_next_request(
    router: BuiltinRouter, backend_server: Make
) -> None:
    v1, v2 = backend_server("v1"), backend_server("v2")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    took = []
    with httpx.Client(base_url=f"http://127.0.0.1:{state.listen_port}") as client:
        client.get("/")  # the keep-alive connection now exists and stays open
        for i in range(10):
            version, port = ("v2", v2.port) if i % 2 == 0 else ("v1", v1.port)
            start = time.monotonic()
            router.route([Backend("x", version, port, 1), Backend("y", "other", v1.port, 0)])
            took.append(time.monotonic() - start)
            assert client.get("/").headers["x-version"] == version
    assert max(took) < 0.5


def test_samples_carry_status_and_latency(router: BuiltinRouter, backend_server: Make) -> None:
    slow = backend_server("v1", status=503, latency_s=0.15)
    state = router.start(0, [Backend("a", "v1", slow.port, 1)])
    assert httpx.get(f"http://127.0.0.1:{state.listen_port}/").status_code == 503
    [sample] = router.samples()
    assert sample.version == "v1" and sample.status == 503 and sample.is_error
    assert 0.15 <= sample.latency_s < 2


def test_a_backend_that_refuses_connections_gives_502_and_a_status_0_sample(
    router: BuiltinRouter, backend_server: Make
) -> None:
    good = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", good.port, 1),
                             Backend("b", "v2", unused_port(), 1)])
    # Not retried on the other version: half the traffic fails, as the judge must see.
    assert versions(state.listen_port, 20) == {"v1": 10, "502": 10}
    by_version = Counter((s.version, s.status) for s in router.samples())
    assert by_version == {("v1", 200): 10, ("v2", 0): 10}
    assert router.alive()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path, backend_server: Make) -> None:
    v1 = backend_server("v1")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = BuiltinRouter(tmp_path / "r")
        try:
            with pytest.raises(UsageError) as err:
                r.start(port, [Backend("a", "v1", v1.port, 1)])
        finally:
            r.stop()
    assert str(err.value) == (f"port {port} is in use by another process; "
                              "choose another `port:` for the environment")
    assert not (tmp_path / "r" / "router.json").exists()


def test_another_process_attaches_routes_and_reads_the_samples(
    router: BuiltinRouter, backend_server: Make
) -> None:
    v1, v2 = backend_server("v1"), backend_server("v2")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    assert versions(state.listen_port, 5) == {"v1": 5}
    # A second controller process (as after a crash) takes over from the persisted state only.
    script = (
        "import json, sys\n"
        "from suture.deploy.routers.interface import Backend, RouterState\n"
        "from suture.deploy.routers.proxy import BuiltinRouter\n"
        "r = BuiltinRouter('/nonexistent')\n"
        "r.attach(RouterState(**json.loads(sys.argv[1])))\n"
        f"r.route([Backend('b', 'v2', {v2.port}, 1)])\n"
        "print(json.dumps([r.alive(), [s.version for s in r.samples()]]))\n"
    )
    state_json = json.dumps({"kind": state.kind, "listen_port": state.listen_port,
                             "pid": state.pid, "admin_port": state.admin_port,
                             "workdir": state.workdir})
    out = subprocess.run([sys.executable, "-c", script, state_json], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [True, ["v1"] * 5]
    assert versions(state.listen_port, 3) == {"v2": 3}

    other = BuiltinRouter(Path("/nonexistent"))
    other.attach(state)
    assert other.alive()
    assert [s.version for s in other.samples()] == ["v2"] * 3  # continues after the child's read
    with pytest.raises(UsageError, match="not pid"):
        BuiltinRouter(Path("/x")).attach(RouterState("builtin", state.listen_port, pid=1,
                                                     workdir=state.workdir))
    with pytest.raises(UsageError):
        BuiltinRouter(Path("/x")).attach(RouterState("nginx", state.listen_port))


def test_the_admin_api_needs_the_token(router: BuiltinRouter, backend_server: Make) -> None:
    v1 = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    admin = f"http://127.0.0.1:{state.admin_port}"
    assert httpx.get(f"{admin}/health").status_code == 401
    put = httpx.put(f"{admin}/routes", json={"backends": []},
                    headers={"Authorization": "Bearer wrong"})
    assert put.status_code == 401
    assert (Path(state.workdir or "") / "router.json").stat().st_mode & 0o077 == 0


def test_stop_frees_the_port(tmp_path: Path, backend_server: Make) -> None:
    v1 = backend_server("v1")
    port = free_port()
    r = BuiltinRouter(tmp_path / "r")
    try:
        state = r.start(port, [Backend("a", "v1", v1.port, 1)])
        assert versions(port, 3) == {"v1": 3}
        r.stop()
        assert not r.alive() and not proc.running(state.pid)
        ensure_port_free(port)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/")
        again = r.start(port, [Backend("a", "v1", v1.port, 1)])
        assert again.listen_port == port and versions(port, 1) == {"v1": 1}
    finally:
        r.stop()


def test_bodies_and_framings_pass_through(router: BuiltinRouter, backend_server: Make) -> None:
    v1 = backend_server("v1")
    state = router.start(0, [Backend("a", "v1", v1.port, 1)])
    base = f"http://127.0.0.1:{state.listen_port}"
    with httpx.Client(base_url=base) as client:
        payload = b"x" * 300_000
        assert client.post("/echo", content=payload).content == payload
        assert client.post("/echo", content=iter([b"ab", b"", b"cd"])).text == "abcd"  # chunked
        assert client.get("/chunked").text == "v1-chunked"
        assert client.get("/close").text == "v1-closed"  # ends by closing; client gets close
        assert client.head("/").status_code == 200
        assert client.get("/after").text == "v1"
    # Two requests on one raw connection: keep-alive towards the client works.
    with socket.create_connection(("127.0.0.1", state.listen_port), timeout=5) as sock:
        request = b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        answers = b""
        for _ in range(2):
            sock.sendall(request)
            while answers.count(b"v1") < answers.count(b"HTTP/1.1 200") or not answers:
                answers += sock.recv(65536)
        sock.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while chunk := sock.recv(65536):
            answers += chunk
    assert answers.count(b"HTTP/1.1 200 OK") == 3
    # A request framed two ways at once is refused, not forwarded.
    with socket.create_connection(("127.0.0.1", state.listen_port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    # Expect: 100-continue is answered by the proxy, so the client sends its body at once.
    with socket.create_connection(("127.0.0.1", state.listen_port), timeout=5) as sock:
        sock.sendall(b"PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"hello")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
    assert len(router.samples()) == 10


def test_the_proxy_reports_a_port_taken_after_the_check(tmp_path: Path) -> None:
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"backends": [{"name": "a", "version": "v1", "port": 9,
                                                "weight": 1}]}))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code = proxy_server.main(["--workdir", str(tmp_path), "--port", str(port),
                                  "--routes", str(routes)])
    assert code == 2
    error = json.loads((tmp_path / proxy_server.ERROR_FILE).read_text())
    assert error["error"] == "port_in_use" and error["port"] == port


def test_a_split_nobody_gets_traffic_from_is_refused(
    router: BuiltinRouter, backend_server: Make
) -> None:
    v1 = backend_server("v1")
    with pytest.raises(UsageError, match="no backend has a traffic weight"):
        router.start(0, [Backend("a", "v1", v1.port, 0)])
    router.start(0, [Backend("a", "v1", v1.port, 1)])
    with pytest.raises(UsageError, match="no backend has a traffic weight"):
        router.route([Backend("a", "v1", v1.port, 0)])
    with pytest.raises(UsageError, match="already runs"):
        BuiltinRouter(router.workdir).start(0, [Backend("a", "v1", v1.port, 1)])


def test_routers_by_kind(tmp_path: Path) -> None:
    assert set(ROUTERS) == {"builtin", "nginx"}
    assert isinstance(get_router("builtin", tmp_path), BuiltinRouter)
    assert isinstance(get_router("nginx", tmp_path), NginxRouter)
    with pytest.raises(ConfigError, match="known routers: builtin, nginx"):
        get_router("haproxy", tmp_path)
