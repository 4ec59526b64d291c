"""Bounded synthetic traffic at a local router, so a canary can be judged on one machine.

Requests follow a fixed schedule (open loop): request i is due at start + i / rps whatever the
server does, so a slow release is offered the same load as a fast one instead of less the slower
it gets. Every run is bounded in rate, time and count, and only ever aims at this machine.

The client is a minimal HTTP/1.1 GET over asyncio streams with keep-alive connections, not httpx:
on the 2-core box this was measured on, httpx spent ~1.9 ms of CPU per request against ~0.2 ms
here, and the generator shares the machine with the router and both versions it is judging.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from suture.errors import UsageError

MAX_RPS = 2000.0
MAX_DURATION_S = 3600.0
MAX_REQUESTS = 1_000_000
MAX_CONCURRENCY = 1024
DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT_S = 5.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Longest single sleep of the pacer, so a stop request is noticed promptly.
_STOP_POLL_S = 0.05
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load run sent and how it was answered; latencies are of answered requests only.

    `sent` = `ok` (1xx-3xx) + `client_errors` (4xx) + `errors` (5xx and requests that got no
    answer: refused, reset, malformed, timed out). `max_lag_s` is how far the generator fell
    behind its schedule (near 0 when the asked rate was achieved).
    """

    sent: int
    ok: int
    client_errors: int
    errors: int
    duration_s: float
    p50_s: float | None
    p95_s: float | None
    target_rps: float
    max_lag_s: float

    @property
    def rps(self) -> float:
        """Requests completed per second over the whole run."""
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        """Share of sent requests that were errors (0 when nothing was sent)."""
        return self.errors / self.sent if self.sent else 0.0


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """A validated load run: where, how fast, and the bounds it must stay within."""

    url: str
    host: str
    port: int
    prefix: str
    rps: float
    duration_s: float
    max_requests: int
    paths: tuple[str, ...]
    concurrency: int
    timeout_s: float

    @property
    def total(self) -> int:
        """Requests the run sends if nobody stops it: the smaller of both bounds."""
        return min(self.max_requests, math.ceil(self.duration_s * self.rps))


def plan(
    url: str,
    rps: float,
    *,
    duration_s: float,
    max_requests: int,
    paths: Sequence[str] = ("/healthz",),
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LoadPlan:
    """Check a load request against the local-only rule and the bounds; UsageError if it fails."""
    host, port, prefix = _local_target(url)
    _check_bound("rps", rps, MAX_RPS)
    _check_bound("duration", duration_s, MAX_DURATION_S)
    _check_bound("max_requests", max_requests, MAX_REQUESTS)
    _check_bound("concurrency", concurrency, MAX_CONCURRENCY)
    _check_bound("timeout", timeout_s, MAX_DURATION_S)
    if isinstance(paths, str) or not paths or any(not p.startswith("/") for p in paths):
        raise UsageError(
            f"load paths must be a non-empty list of paths starting with '/', got {paths!r}"
        )
    return LoadPlan(
        url=url.rstrip("/"),
        host=host,
        port=port,
        prefix=prefix,
        rps=float(rps),
        duration_s=float(duration_s),
        max_requests=int(max_requests),
        paths=tuple(paths),
        concurrency=int(concurrency),
        timeout_s=float(timeout_s),
    )


def _local_target(url: str) -> tuple[str, int, str]:
    """(host, port, path prefix) of an http URL on this machine; UsageError for anything else."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise UsageError(f"--load target {url!r} is not a URL: {exc}") from exc
    if parts.scheme != "http" or host not in LOCAL_HOSTS:
        raise UsageError(
            f"--load only drives traffic at 127.0.0.1, localhost or ::1 over http, not {url!r}",
            hint="synthetic traffic is for judging a canary on this machine; real environments "
            "are judged on the traffic they already have",
        )
    return host, port or 80, parts.path.rstrip("/")


def _check_bound(name: str, value: float, limit: float) -> None:
    # NaN fails the comparison too, so it is refused with the rest.
    if not (isinstance(value, int | float) and 0 < value <= limit):
        raise UsageError(
            f"load {name} must be above 0 and at most {limit:g}, got {value!r}",
            hint="every load run is bounded in rate, time and request count",
        )


class _Tally:
    """Counts shared between the loop thread (writer) and callers asking for progress."""

    def __init__(self, target_rps: float) -> None:
        self.lock = threading.Lock()
        self.target_rps = target_rps
        self.ok = 0
        self.client_errors = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.max_lag_s = 0.0
        self.started = time.monotonic()
        self.ended: float | None = None

    def add(self, status: int, latency_s: float) -> None:
        with self.lock:
            if status == 0 or status >= 500:
                self.errors += 1
            elif status >= 400:
                self.client_errors += 1
            else:
                self.ok += 1
            if status:
                self.latencies.append(latency_s)

    def lag(self, lag_s: float) -> None:
        with self.lock:
            self.max_lag_s = max(self.max_lag_s, lag_s)

    def report(self) -> LoadReport:
        with self.lock:
            latencies = sorted(self.latencies)
            end = self.ended if self.ended is not None else time.monotonic()
            return LoadReport(
                sent=self.ok + self.client_errors + self.errors,
                ok=self.ok,
                client_errors=self.client_errors,
                errors=self.errors,
                duration_s=end - self.started,
                p50_s=_quantile(latencies, 0.50),
                p95_s=_quantile(latencies, 0.95),
                target_rps=self.target_rps,
                max_lag_s=self.max_lag_s,
            )


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted values (None for none)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class _Stale(Exception):
    """A kept-alive connection was closed by the server before it answered; safe to retry."""


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _exchange(conn: _Conn, request: bytes) -> tuple[int, bool]:
    """Send one GET, read its whole answer; (status, whether the connection can be reused)."""
    reader, writer = conn
    writer.write(request)
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale from exc
            raise
        except ConnectionResetError as exc:
            raise _Stale from exc
        lines = head.decode("latin-1").split("\r\n")
        version, code = lines[0].split(" ", 2)[:2]
        status = int(code)
        if not version.startswith("HTTP/1.") or not 100 <= status <= 999:
            raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        if status >= 200 or status == 101:
            break  # 1xx interim answers come before the real one
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "")
    if status in (101, 204, 304):
        return status, keep and status != 101
    if "chunked" in headers.get("transfer-encoding", ""):
        while size := int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16):
            await reader.readexactly(size + 2)
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass  # trailers
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        while await reader.read(_READ_CHUNK):
            pass  # the body ends when the server closes
        keep = False
    return status, keep


class _Client:
    """GETs over a pool of kept-alive connections to one local server."""

    def __init__(self, load: LoadPlan) -> None:
        self.load = load
        netloc = f"[{load.host}]" if ":" in load.host else load.host
        self.head = f"Host: {netloc}:{load.port}\r\nUser-Agent: suture-load\r\nAccept: */*\r\n\r\n"
        self.idle: list[_Conn] = []

    async def get(self, path: str) -> int:
        """The status of one GET (0: no usable answer)."""
        request = f"GET {self.load.prefix}{path} HTTP/1.1\r\n{self.head}".encode("latin-1")
        conn = self._idle_connection()
        status = await self._attempt(conn, request)
        if status is None and conn is not None:
            # The server closed a kept-alive connection as this request went out (its idle
            # timeout): not an answer from the app, so retry once on a new connection.
            status = await self._attempt(None, request)
        return status or 0

    async def _attempt(self, conn: _Conn | None, request: bytes) -> int | None:
        """One GET on `conn` (None: a new connection); None if it closed without answering."""
        try:
            async with asyncio.timeout(self.load.timeout_s):
                if conn is None:
                    conn = await asyncio.open_connection(self.load.host, self.load.port)
                status, keep = await _exchange(conn, request)
        except _Stale:
            _close(conn)
            return None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            # OSError covers refused, reset and timed-out requests (TimeoutError is one).
            _close(conn)
            return 0
        if keep:
            self.idle.append(conn)
        else:
            _close(conn)
        return status

    def _idle_connection(self) -> _Conn | None:
        """An idle connection that still looks open, or None to open a new one."""
        while self.idle:
            conn = self.idle.pop()
            if not conn[0].at_eof() and not conn[1].is_closing():
                return conn
            _close(conn)
        return None

    async def close(self) -> None:
        """Close every idle connection."""
        for conn in self.idle:
            _close(conn)
            with contextlib.suppress(OSError):
                await conn[1].wait_closed()
        self.idle.clear()


def _close(conn: _Conn | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError, RuntimeError):
            conn[1].close()


class LoadHandle:
    """A load run going on in its own thread and event loop; stop it or read its progress."""

    def __init__(self, load: LoadPlan, stop: threading.Event | None = None) -> None:
        self.plan = load
        self._stop = stop or threading.Event()
        self._tally = _Tally(load.rps)
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="suture-load", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        """Whether the run has ended (bounds reached or stopped) and every answer is in."""
        return not self._thread.is_alive()

    def report(self) -> LoadReport:
        """The counts so far while running, the final ones once done; never blocks."""
        return self._tally.report()

    def wait(self, timeout: float | None = None) -> LoadReport | None:
        """Wait for the run to end by its bounds; its report, or None if `timeout` ran out."""
        self._thread.join(timeout)
        return None if self._thread.is_alive() else self._final()

    def stop(self) -> LoadReport:
        """Send no more requests, wait for those in flight (at most the request timeout)."""
        self._stop.set()
        return self.join()

    def join(self) -> LoadReport:
        """Wait as long as the run's bounds allow (duration + request timeout); its report."""
        self._thread.join()
        return self._final()

    def _final(self) -> LoadReport:
        if self._failure is not None:
            raise self._failure
        return self._tally.report()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread by join()
            self._failure = exc
        finally:
            with self._tally.lock:
                self._tally.ended = time.monotonic()

    async def _main(self) -> None:
        load = self.plan
        client = _Client(load)
        slots = asyncio.Semaphore(load.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        interval = 1.0 / load.rps
        start = time.monotonic()
        deadline = start + load.duration_s
        with self._tally.lock:
            self._tally.started = start
        try:
            for i in range(load.total):
                due = start + i * interval
                if not await self._until(due):
                    break
                await slots.acquire()
                now = time.monotonic()
                if now >= deadline:
                    # Behind schedule at the end: the time bound wins over the request count.
                    slots.release()
                    break
                self._tally.lag(now - due)
                task = asyncio.create_task(self._one(client, load.paths[i % len(load.paths)]))
                task.add_done_callback(lambda _: slots.release())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.gather(*in_flight)
        finally:
            await client.close()

    async def _until(self, due: float) -> bool:
        """Sleep until `due`; False if asked to stop first."""
        while not self._stop.is_set():
            delay = due - time.monotonic()
            if delay <= 0:
                return True
            await asyncio.sleep(min(delay, _STOP_POLL_S))
        return False

    async def _one(self, client: _Client, path: str) -> None:
        began = time.perf_counter()
        status = await client.get(path)
        self._tally.add(status, time.perf_counter() - began)


def start(
    url: str,
    rps: float,
    *,
    duration_s: float,
    max_requests: int,
    paths: Sequence[str] = ("/healthz",),
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    stop: threading.Event | None = None,
) -> LoadHandle:
    """Start driving `rps` requests per second at a local `url` in the background."""
    load = plan(
        url,
        rps,
        duration_s=duration_s,
        max_requests=max_requests,
        paths=paths,
        concurrency=concurrency,
        timeout_s=timeout_s,
    )
    return LoadHandle(load, stop)


def drive(
    url: str,
    rps: float,
    *,
    duration_s: float,
    max_requests: int,
    paths: Sequence[str] = ("/healthz",),
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    stop: threading.Event | None = None,
) -> LoadReport:
    """Drive bounded traffic at a local `url` until a bound is reached or `stop` is set."""
    handle = start(
        url,
        rps,
        duration_s=duration_s,
        max_requests=max_requests,
        paths=paths,
        concurrency=concurrency,
        timeout_s=timeout_s,
        stop=stop,
    )
    return handle.join()
