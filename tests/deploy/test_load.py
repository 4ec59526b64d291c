"""The load generator against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from suture.deploy import load
from suture.errors import UsageError


class _Handler(BaseHTTPRequestHandler):
    """/ok answers 200, /fail 500, /missing 404, /slow 200 after 0.2 s; /chunked, /until-close and
    /drop frame their answers in the other ways HTTP/1.1 allows; /garbage is not HTTP."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b'{"status": "ok"}'
        if self.path == "/garbage":
            self.wfile.write(b"garbage\r\n\r\n")
            self.close_connection = True
            return
        status = {"/fail": 500, "/missing": 404}.get(self.path, 200)
        if self.path == "/slow":
            time.sleep(0.2)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
            return
        if self.path == "/until-close":
            # No length, no chunks: the body ends when the server closes the connection.
            self.end_headers()
            self.wfile.write(body * 100)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # /drop keeps the connection alive by the headers, then closes it anyway, as a server
        # does when its keep-alive timeout ends between two requests.
        self.close_connection = self.path == "/drop"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Base URL of a threaded HTTP server on a free 127.0.0.1 port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _read_request(conn: socket.socket) -> bool:
    """Read one request head; False when the client closed the connection instead."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


@contextmanager
def _raw_server(serve: Callable[[socket.socket], None]) -> Iterator[tuple[str, list[int]]]:
    """A TCP server on 127.0.0.1 running `serve` on every connection it accepts; yields its URL
    and a one-item list counting connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = [0]

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted[0] += 1
            threading.Thread(target=_serve_and_close, args=(serve, conn), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        listener.close()


def _serve_and_close(serve: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with conn:
        serve(conn)


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("reset", [False, True])
def test_retries_once_when_a_kept_alive_connection_was_closed(reset):
    # Each connection answers its first request, then reads the second and hangs up without an
    # answer: what a server whose keep-alive timeout ends at that moment does.
    def serve(conn: socket.socket) -> None:
        if _read_request(conn):
            conn.sendall(OK_HEAD)
        if _read_request(conn) and reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with _raw_server(serve) as (url, accepted):
        report = load.drive(url, 100, duration_s=5, max_requests=8, concurrency=1)
    assert (report.sent, report.ok, report.errors) == (8, 8, 0)
    assert accepted[0] == 8  # every request after the first needed its retry


def test_a_new_connection_closed_without_answer_is_an_error():
    with _raw_server(_read_request) as (url, accepted):
        report = load.drive(url, 100, duration_s=5, max_requests=3, concurrency=1)
    assert (report.sent, report.errors, accepted[0]) == (3, 3, 3)  # no retry on new ones


def test_skips_interim_answers_and_keeps_the_connection_after_no_content():
    def serve(conn: socket.socket) -> None:
        while _read_request(conn):
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")

    with _raw_server(serve) as (url, accepted):
        report = load.drive(url, 100, duration_s=5, max_requests=5, concurrency=1)
    assert (report.sent, report.ok, accepted[0]) == (5, 5, 1)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_stops_at_max_requests(server):
    report = load.drive(server, 200, duration_s=10, max_requests=20, paths=["/ok"])
    assert (report.sent, report.ok, report.errors, report.client_errors) == (20, 20, 0, 0)
    assert report.duration_s < 5
    assert report.p50_s is not None and report.p95_s is not None
    assert 0 < report.p50_s <= report.p95_s


def test_stops_at_duration(server):
    report = load.drive(server, 40, duration_s=0.5, max_requests=1000, paths=["/ok"])
    # 0.5 s at 40 rps is 20 requests on the schedule, never more.
    assert 10 <= report.sent <= 20
    assert report.duration_s < 3


def test_paces_requests_instead_of_bursting(server):
    began = time.monotonic()
    report = load.drive(server, 50, duration_s=10, max_requests=25, paths=["/ok"])
    elapsed = time.monotonic() - began
    # 25 requests at 50 rps are due over 0.48 s; a burst would finish in a few milliseconds.
    assert report.sent == 25
    assert 0.4 <= elapsed < 3
    assert 8 <= report.rps <= 70


def test_keeps_the_rate_when_responses_are_slow(server):
    # Open loop: 0.2 s answers do not slow the sender down (closed loop on one connection would
    # manage 5 in this time).
    report = load.drive(server, 40, duration_s=1.0, max_requests=40, paths=["/slow"])
    assert report.sent == 40 and report.ok == 40
    assert report.duration_s < 2.5
    assert report.p50_s is not None and report.p50_s >= 0.15


def test_counts_server_errors_and_client_errors_apart(server):
    report = load.drive(
        server, 300, duration_s=5, max_requests=30, paths=["/ok", "/fail", "/missing"]
    )
    assert (report.sent, report.ok, report.errors, report.client_errors) == (30, 10, 10, 10)
    assert report.error_rate == pytest.approx(1 / 3)


@pytest.mark.parametrize("path", ["/chunked", "/until-close", "/drop"])
def test_reads_every_framing_and_survives_dropped_connections(server, path):
    report = load.drive(server, 200, duration_s=5, max_requests=20, paths=[path, "/ok"])
    assert (report.sent, report.ok, report.errors) == (20, 20, 0)


def test_counts_answers_that_are_not_http_as_errors(server):
    report = load.drive(server, 200, duration_s=5, max_requests=10, paths=["/garbage", "/ok"])
    assert (report.sent, report.ok, report.errors) == (10, 5, 5)


def test_time_bound_wins_when_the_server_cannot_keep_up(server):
    # Two connections at 0.2 s each serve 10 rps; asked for 100 rps over 0.5 s the run must
    # still end near 0.5 s (plus the answers in flight), far short of 50 requests.
    report = load.drive(
        server, 100, duration_s=0.5, max_requests=1000, paths=["/slow"], concurrency=2
    )
    assert 2 <= report.sent <= 12
    assert report.duration_s < 1.5
    assert report.max_lag_s > 0.1


def test_a_timed_out_request_is_an_error(server):
    report = load.drive(server, 10, duration_s=5, max_requests=2, paths=["/slow"], timeout_s=0.05)
    assert (report.sent, report.errors) == (2, 2)


def test_counts_unreachable_backend_as_errors():
    report = load.drive(_closed_port_url(), 100, duration_s=5, max_requests=10)
    assert (report.sent, report.ok, report.errors) == (10, 0, 10)
    assert report.p50_s is None  # no answered request, no latency


def test_stop_ends_a_long_run_promptly(server):
    handle = load.start(server, 50, duration_s=60, max_requests=10_000, paths=["/ok"])
    deadline = time.monotonic() + 5
    while handle.report().sent < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    progress = handle.report()
    assert not handle.done and progress.sent >= 5
    began = time.monotonic()
    final = handle.stop()
    assert time.monotonic() - began < 2
    assert handle.done and progress.sent <= final.sent < 100
    assert final.errors == 0


def test_drive_honours_a_stop_event(server):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    report = load.drive(server, 50, duration_s=60, max_requests=10_000, paths=["/ok"], stop=stop)
    assert 3 <= report.sent < 100


def test_wait_times_out_while_running(server):
    handle = load.start(server, 20, duration_s=30, max_requests=1000, paths=["/ok"])
    try:
        assert handle.wait(0.1) is None
    finally:
        handle.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:8080",
        "http://10.0.0.5:8080",
        "http://0.0.0.0:8080",
        "http://127.0.0.1.nip.io:8080",
        "ftp://127.0.0.1/",
        "https://127.0.0.1:8443",
        "not a url",
    ],
)
def test_refuses_anything_but_this_machine(url):
    with pytest.raises(UsageError, match="only drives traffic at 127.0.0.1"):
        load.drive(url, 10, duration_s=1, max_requests=1)


@pytest.mark.parametrize(
    ("url", "host", "port", "prefix"),
    [
        ("http://localhost:1", "localhost", 1, ""),
        ("http://[::1]:8480/", "::1", 8480, ""),
        ("http://127.0.0.1/api/", "127.0.0.1", 80, "/api"),
    ],
)
def test_accepts_local_names(url, host, port, prefix):
    target = load.plan(url, 10, duration_s=1, max_requests=1)
    assert (target.host, target.port, target.prefix) == (host, port, prefix)


def test_refuses_a_port_out_of_range():
    with pytest.raises(UsageError, match="is not a URL"):
        load.plan("http://127.0.0.1:99999", 10, duration_s=1, max_requests=1)


@pytest.mark.parametrize(
    ("rps", "duration_s", "max_requests", "concurrency", "name"),
    [
        (0, 1, 1, 8, "rps"),
        (load.MAX_RPS + 1, 1, 1, 8, "rps"),
        (float("nan"), 1, 1, 8, "rps"),
        (10, 0, 1, 8, "duration"),
        (10, load.MAX_DURATION_S + 1, 1, 8, "duration"),
        (10, 1, 0, 8, "max_requests"),
        (10, 1, load.MAX_REQUESTS + 1, 8, "max_requests"),
        (10, 1, 1, 0, "concurrency"),
    ],
)
def test_refuses_unbounded_runs(rps, duration_s, max_requests, concurrency, name):
    with pytest.raises(UsageError, match=f"load {name} must be above 0"):
        load.plan(
            "http://127.0.0.1:1",
            rps,
            duration_s=duration_s,
            max_requests=max_requests,
            concurrency=concurrency,
        )


@pytest.mark.parametrize("paths", [[], ["healthz"], "/healthz"])
def test_refuses_bad_paths(paths):
    with pytest.raises(UsageError, match="load paths"):
        load.plan("http://127.0.0.1:1", 10, duration_s=1, max_requests=1, paths=paths)


def test_plan_total_is_the_tighter_bound():
    by_time = load.plan("http://127.0.0.1:1", 100, duration_s=0.5, max_requests=1000)
    by_count = load.plan("http://127.0.0.1:1", 100, duration_s=60, max_requests=7)
    assert (by_time.total, by_count.total) == (50, 7)
