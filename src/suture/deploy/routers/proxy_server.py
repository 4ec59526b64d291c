"""The built-in router process: an asyncio HTTP/1.1 reverse proxy that splits traffic by weight.

Started by `suture.deploy.routers.proxy.BuiltinRouter` as
`python -m suture.deploy.routers.proxy_server --workdir DIR --port PORT --routes FILE`.
Standard library only, so it runs wherever suture does and starts fast. It writes
`DIR/router.json` (pid, ports, admin token) once it listens, or `DIR/router.error.json` when it
cannot. The admin API (127.0.0.1, bearer token) serves `GET /health`, `PUT /routes` and
`GET /samples?after=CURSOR`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hmac
import itertools
import json
import os
import secrets
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATE_FILE = "router.json"
ERROR_FILE = "router.error.json"
MAX_SAMPLES = 200_000
SAMPLES_PER_PAGE = 20_000
HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024
CONNECT_TIMEOUT_S = 5.0
# Idle limits: a backend silent this long mid-answer is dead; a client idle this long is gone.
BACKEND_IDLE_S = 120.0
CLIENT_IDLE_S = 75.0
DRAIN_S = 2.0
MAX_ADMIN_BODY = 4 * 1024 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded. Upgrade goes too: no websockets here.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "upgrade",
                        "expect"})
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           413: "Payload Too Large", 431: "Request Header Fields Too Large",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class BadMessage(Exception):
    """An HTTP message this proxy cannot frame safely."""


class PeerFailed(Exception):
    """Reading from or writing to one side of an exchange failed."""

    def __init__(self, side: Peer, timed_out: bool = False) -> None:
        super().__init__(side.name)
        self.side = side
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Target:
    """One backend as the proxy sees it."""

    name: str
    version: str
    host: str
    port: int
    weight: int


@dataclass(slots=True)
class Head:
    """The start line and headers of a request or response."""

    start: str
    headers: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        """Every value of a header, comma lists split, lower-cased names matched."""
        name = name.lower()
        out: list[str] = []
        for key, value in self.headers:
            if key.lower() == name:
                out.extend(v.strip() for v in value.split(",") if v.strip())
        return out

    def body_framing(self) -> tuple[str, int]:
        """("chunked", 0), ("length", n) or ("none", 0) for a request; raises on ambiguity."""
        codings = [c.lower() for c in self.values("transfer-encoding")]
        lengths = set(self.values("content-length"))
        if codings:
            # Both framings at once is how requests get smuggled past proxies: refuse it.
            if lengths or codings[-1] != "chunked":
                raise BadMessage("ambiguous or unsupported request framing")
            return "chunked", 0
        if lengths:
            if len(lengths) > 1 or not next(iter(lengths)).isdigit():
                raise BadMessage("invalid Content-Length")
            return "length", int(next(iter(lengths)))
        return "none", 0


def parse_head(raw: bytes) -> Head:
    """Split a message head (ending in a blank line) into its start line and headers."""
    lines = raw.decode("latin-1").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise BadMessage(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip()))
    return Head(lines[0], headers)


class Picker:
    """Smooth weighted round-robin (nginx's): exact shares, evenly interleaved, no randomness."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = [t for t in targets if t.weight > 0]
        self.current = [0] * len(self.targets)
        self.total = sum(t.weight for t in self.targets)

    def pick(self) -> Target | None:
        """The next backend, or None when nobody has weight."""
        best = -1
        for i, target in enumerate(self.targets):
            self.current[i] += target.weight
            if best < 0 or self.current[i] > self.current[best]:
                best = i
        if best < 0:
            return None
        self.current[best] -= self.total
        return self.targets[best]


def parse_routes(data: Any) -> list[Target]:
    """Backends from the admin API's JSON; raises ValueError naming what is wrong."""
    items = data.get("backends") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("expected {\"backends\": [...]}")
    out: list[Target] = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("each backend must be an object")
        port, weight = item.get("port"), item.get("weight")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"invalid port in {item}")
        if not isinstance(weight, int) or weight < 0:
            raise ValueError(f"invalid weight in {item}")
        out.append(Target(str(item.get("name", "")), str(item["version"]),
                          str(item.get("host", "127.0.0.1")), port, weight))
    if not any(t.weight > 0 for t in out):
        raise ValueError("no backend has a traffic weight above 0")
    return out


class Peer:
    """One side of an exchange; turns its I/O errors into PeerFailed naming this side."""

    def __init__(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 idle_s: float | None) -> None:
        self.name = name
        self.reader = reader
        self.writer = writer
        self.idle_s = idle_s

    async def _io(self, op: Any) -> Any:
        try:
            if self.idle_s is None:
                return await op
            async with asyncio.timeout(self.idle_s):
                return await op
        except TimeoutError as exc:
            raise PeerFailed(self, timed_out=True) from exc
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            raise PeerFailed(self) from exc

    async def head(self) -> bytes:
        """The next message head, blank line included."""
        data: bytes = await self._io(self.reader.readuntil(b"\r\n\r\n"))
        return data

    async def line(self) -> bytes:
        """One CRLF-terminated line (chunk sizes, trailers)."""
        data: bytes = await self._io(self.reader.readuntil(b"\r\n"))
        return data

    async def read(self, n: int) -> bytes:
        """Up to `n` bytes; b"" at end of stream."""
        data: bytes = await self._io(self.reader.read(n))
        return data

    async def send(self, data: bytes) -> None:
        """Write and wait until the socket took it."""
        self.writer.write(data)
        await self._io(self.writer.drain())

    def close(self) -> None:
        """Close the connection, ignoring a peer that is already gone."""
        with contextlib.suppress(Exception):
            self.writer.close()


async def relay_body(src: Peer, dst: Peer, framing: str, length: int) -> None:
    """Copy one message body from src to dst as framed, byte for byte (chunks and trailers kept)."""
    if framing == "length":
        await relay_exact(src, dst, length)
    elif framing == "chunked":
        while True:
            size_line = await src.line()
            await dst.send(size_line)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise PeerFailed(src) from exc
            if size == 0:
                while (trailer := await src.line()) != b"\r\n":
                    await dst.send(trailer)
                await dst.send(b"\r\n")
                return
            await relay_exact(src, dst, size + 2)
    elif framing == "close":
        while data := await src.read(CHUNK):
            await dst.send(data)


async def relay_exact(src: Peer, dst: Peer, n: int) -> None:
    """Copy exactly `n` bytes; a short stream is the source's failure."""
    while n > 0:
        data = await src.read(min(n, CHUNK))
        if not data:
            raise PeerFailed(src)
        await dst.send(data)
        n -= len(data)


class Proxy:
    """The listening proxy, its routes, its sample ring and its admin API."""

    def __init__(self, workdir: Path, port: int, admin_port: int, routes: list[Target]) -> None:
        self.workdir = workdir
        self.port = port
        self.admin_port = admin_port
        self.routes = routes
        self.picker = Picker(routes)
        self.generation = 1
        self.token = secrets.token_urlsafe(24)
        self.ring: deque[tuple[int, str, float, float, int]] = deque(maxlen=MAX_SAMPLES)
        self.seq = 0
        self.delivered = 0
        self.active = 0
        self.stopping = asyncio.Event()

    # -- traffic ---------------------------------------------------------------------------

    def record(self, target: Target, started: float, status: int) -> None:
        """Remember one finished request (status 0: the backend never answered in full)."""
        self.seq += 1
        self.ring.append((self.seq, target.version, time.time(),
                          time.monotonic() - started, status))

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection: requests in order while it keeps the connection alive."""
        peer = Peer("client", reader, writer, CLIENT_IDLE_S)
        addr = writer.get_extra_info("peername")
        client_ip = addr[0] if isinstance(addr, tuple) else "127.0.0.1"
        try:
            while not self.stopping.is_set():
                try:
                    raw = await peer.head()
                except PeerFailed as exc:
                    cause = exc.__cause__
                    if isinstance(cause, asyncio.LimitOverrunError):
                        await self.reply(peer, 431, "request head too large")
                    elif isinstance(cause, asyncio.IncompleteReadError) and cause.partial:
                        await self.reply(peer, 400, "incomplete request")
                    return
                started = time.monotonic()
                self.active += 1
                try:
                    keep = await self.exchange(raw, peer, client_ip, started)
                finally:
                    self.active -= 1
                if not keep:
                    return
        except PeerFailed:
            pass
        except Exception:  # a proxy bug must not take the other connections down
            traceback.print_exc()
        finally:
            peer.close()

    async def exchange(self, raw: bytes, client: Peer, client_ip: str, started: float) -> bool:
        """Forward one request and relay its answer; True when the client connection stays open."""
        try:
            head = parse_head(raw)
            method, target_uri, version = head.start.split(" ", 2)
            framing, length = head.body_framing()
        except (BadMessage, ValueError):
            await self.reply(client, 400, "malformed request")
            return False
        tokens = {t.lower() for t in head.values("connection")}
        keep = version == "HTTP/1.1" and "close" not in tokens
        target = self.picker.pick()
        if target is None:
            await self.reply(client, 503, "no backend has traffic weight")
            return False
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                breader, bwriter = await asyncio.open_connection(
                    target.host, target.port, limit=HEAD_LIMIT)
        except (OSError, TimeoutError):
            self.record(target, started, 0)
            await self.reply(client, 502, f"backend {target.name} is not reachable")
            return False
        backend = Peer("backend", breader, bwriter, BACKEND_IDLE_S)
        answered = False
        status = 0
        try:
            if framing != "none" and "100-continue" in {e.lower() for e in head.values("expect")}:
                # Answer for the backend, else the client waits for a 100 we relay too late.
                await client.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            await backend.send(request_head(head, method, target_uri, tokens, client_ip, target))
            await relay_body(client, backend, framing, length)
            resp = parse_head(await backend.head())
            status = int(resp.start.split(" ", 2)[1])
            while 100 <= status < 200 and status != 101:  # 101 cannot happen: Upgrade is dropped
                await client.send(f"{resp.start}\r\n\r\n".encode("latin-1"))
                resp = parse_head(await backend.head())
                status = int(resp.start.split(" ", 2)[1])
            rframing = response_framing(resp, method, status)
            keep = keep and rframing[0] != "close"
            answered = True
            await client.send(response_head(resp, keep))
            await relay_body(backend, client, *rframing)
        except PeerFailed as exc:
            if exc.side is client:
                # The client left: keep the backend's answer if it came, else nginx's 499.
                self.record(target, started, status if answered else 499)
                return False
            self.record(target, started, 0)
            if not answered:
                code = 504 if exc.timed_out else 502
                await self.reply(client, code, f"backend {target.name} failed to answer")
            return False
        except (BadMessage, ValueError, IndexError):
            self.record(target, started, 0)
            if not answered:
                await self.reply(client, 502, f"backend {target.name} sent a malformed answer")
            return False
        finally:
            backend.close()
        self.record(target, started, status)
        return keep

    async def reply(self, client: Peer, status: int, text: str) -> None:
        """A short answer from the proxy itself; the connection closes after it."""
        body = (text + "\n").encode()
        head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        with contextlib.suppress(PeerFailed):
            await client.send(head + body)

    # -- admin -----------------------------------------------------------------------------

    async def admin(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one admin request (the controller's), then close."""
        status, payload = 400, {"error": "bad request"}
        try:
            async with asyncio.timeout(10):
                head = parse_head(await reader.readuntil(b"\r\n\r\n"))
                method, target, _ = head.start.split(" ", 2)
                size = int((head.values("content-length") or ["0"])[0])
                if size > MAX_ADMIN_BODY:
                    raise BadMessage("admin body too large")
                body = await reader.readexactly(size) if size else b""
            auth = (head.values("authorization") or [""])[0]
            if not hmac.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
                status, payload = 401, {"error": "missing or wrong admin token"}
            else:
                status, payload = self.admin_call(method, target, body)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                BadMessage, ValueError) as exc:
            payload = {"error": f"bad admin request: {exc}"}
        data = json.dumps(payload).encode()
        writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                     "Connection: close\r\n\r\n".encode() + data)
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    def admin_call(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Dispatch one authorised admin request to its handler."""
        url = urlsplit(target)
        if method == "GET" and url.path == "/health":
            return 200, self.health()
        if method == "PUT" and url.path == "/routes":
            try:
                routes = parse_routes(json.loads(body or b"null"))
            except (ValueError, KeyError, TypeError) as exc:
                return 400, {"error": str(exc)}
            # One assignment: the next request picks from the new split, in-flight ones finish.
            self.routes, self.picker = routes, Picker(routes)
            self.generation += 1
            return 200, {"generation": self.generation}
        if method == "GET" and url.path == "/samples":
            query = parse_qs(url.query)
            after = int(query["after"][0]) if "after" in query else self.delivered
            limit = int(query.get("limit", [SAMPLES_PER_PAGE])[0])
            return 200, self.samples_after(after, max(1, min(limit, SAMPLES_PER_PAGE)))
        return 404, {"error": f"no admin endpoint {method} {url.path}"}

    def health(self) -> dict[str, Any]:
        """What the controller checks: alive, where, which split, how many requests so far."""
        return {
            "ok": True, "pid": os.getpid(), "listen_port": self.port,
            "admin_port": self.admin_port, "generation": self.generation, "served": self.seq,
            "routes": [vars_of(t) for t in self.routes],
        }

    def samples_after(self, after: int, limit: int) -> dict[str, Any]:
        """Samples with a sequence number above `after`, at most `limit`, oldest first."""
        first = self.ring[0][0] if self.ring else self.seq + 1
        start = max(0, after + 1 - first)
        rows = list(itertools.islice(self.ring, start, start + limit))
        nxt = rows[-1][0] if rows else max(after, min(self.seq, first - 1))
        self.delivered = max(self.delivered, nxt)
        return {
            "samples": [list(r[1:]) for r in rows],
            "next": nxt,
            "more": nxt < self.seq,
            "dropped": max(0, first - after - 1),
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def serve(self) -> int:
        """Listen, announce the ports in the workdir, serve until SIGTERM; return an exit code."""
        try:
            server = await asyncio.start_server(
                self.client, "127.0.0.1", self.port, limit=HEAD_LIMIT, backlog=1024)
            admin = await asyncio.start_server(self.admin, "127.0.0.1", self.admin_port)
        except OSError as exc:
            kind = "port_in_use" if exc.errno == errno.EADDRINUSE else "bind"
            write_private(self.workdir / ERROR_FILE,
                          {"error": kind, "port": self.port, "message": str(exc)})
            print(f"suture router: cannot listen on 127.0.0.1:{self.port}: {exc}", flush=True)
            return 2
        self.port = server.sockets[0].getsockname()[1]
        self.admin_port = admin.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        write_private(self.workdir / STATE_FILE, {
            "pid": os.getpid(), "listen_port": self.port, "admin_port": self.admin_port,
            "token": self.token, "started_at": time.time(),
        })
        print(f"suture router: pid {os.getpid()} listening on 127.0.0.1:{self.port}, "
              f"admin on 127.0.0.1:{self.admin_port}", flush=True)
        await self.stopping.wait()
        server.close()
        admin.close()
        deadline = time.monotonic() + DRAIN_S
        while self.active and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        state = self.workdir / STATE_FILE
        with contextlib.suppress(OSError, ValueError):
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        print("suture router: stopped", flush=True)
        return 0


def vars_of(target: Target) -> dict[str, Any]:
    """A target as the JSON the admin API speaks."""
    return {"name": target.name, "version": target.version, "host": target.host,
            "port": target.port, "weight": target.weight}


def request_head(head: Head, method: str, uri: str, tokens: set[str], client_ip: str,
                 target: Target) -> bytes:
    """The head sent to the backend: hop-by-hop headers out, one connection per request."""
    lines = [f"{method} {uri} HTTP/1.1"]
    has_host = False
    for name, value in head.headers:
        low = name.lower()
        if low in HOP_BY_HOP or low in tokens:
            continue
        if low == "x-forwarded-for":
            continue
        has_host = has_host or low == "host"
        lines.append(f"{name}: {value}")
    if not has_host:
        lines.append(f"Host: {target.host}:{target.port}")
    forwarded = ", ".join([*head.values("x-forwarded-for"), client_ip])
    lines += [f"X-Forwarded-For: {forwarded}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def response_framing(resp: Head, method: str, status: int) -> tuple[str, int]:
    """How the backend's body ends: nothing, a length, chunks, or the connection closing."""
    if method == "HEAD" or status in (204, 304):
        return "none", 0
    codings = [c.lower() for c in resp.values("transfer-encoding")]
    if codings:
        return ("chunked", 0) if codings[-1] == "chunked" else ("close", 0)
    lengths = set(resp.values("content-length"))
    if len(lengths) == 1 and next(iter(lengths)).isdigit():
        return "length", int(next(iter(lengths)))
    if lengths:
        raise BadMessage("invalid Content-Length from backend")
    return "close", 0


def response_head(resp: Head, keep: bool) -> bytes:
    """The head sent to the client: HTTP/1.1, hop-by-hop headers out, close when not kept."""
    _, status, *reason = resp.start.split(" ", 2)
    tokens = {t.lower() for t in resp.values("connection")}
    lines = [f"HTTP/1.1 {status} {reason[0] if reason else ''}".rstrip()]
    lines += [f"{n}: {v}" for n, v in resp.headers
              if n.lower() not in HOP_BY_HOP and n.lower() not in tokens]
    if not keep:
        lines.append("Connection: close")
    lines += ["", ""]
    return "\r\n".join(lines).encode("latin-1")


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Atomically write JSON only the owner can read (it carries the admin token)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the proxy until it is told to stop."""
    parser = argparse.ArgumentParser(prog="suture-router", description=__doc__)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--admin-port", type=int, default=0)
    parser.add_argument("--routes", required=True, type=Path,
                        help="JSON file with the initial {\"backends\": [...]}")
    args = parser.parse_args(argv)
    try:
        routes = parse_routes(json.loads(args.routes.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        write_private(args.workdir / ERROR_FILE, {"error": "routes", "message": str(exc)})
        print(f"suture router: bad routes file {args.routes}: {exc}", flush=True)
        return 2
    proxy = Proxy(args.workdir, args.port, args.admin_port, routes)
    return asyncio.run(proxy.serve())


if __name__ == "__main__":
    sys.exit(main())
