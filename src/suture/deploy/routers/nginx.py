"""Router "nginx": Debian's nginx with a generated config, a weighted upstream and a JSON log.

Everything lives in the router's workdir: nginx.conf, pid, temp paths, error.log and access.log.
route() rewrites the config, checks it with `nginx -t`, reloads, and waits until a second
server block (an admin port answering the config's generation) proves new workers serve it.
Samples come from the JSON access log, read from a byte offset kept in the workdir, and are
mapped to versions by backend address through the history of every backend ever routed.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from suture import proc
from suture.deploy.model import RequestSample
from suture.deploy.routers.common import (
    attach_info,
    ensure_port_free,
    free_port,
    log_tail,
    port_in_use_error,
    read_json,
    remove,
    validate_backends,
    write_json,
)
from suture.deploy.routers.interface import Backend, RouterState
from suture.errors import ToolError, UsageError

START_TIMEOUT_S = 10.0
RELOAD_TIMEOUT_S = 10.0
STOP_GRACE_S = 3.0
# The access log is rotated past this size; the router may serve an environment for months.
ROTATE_BYTES = 64 * 1024 * 1024
NGINX_HINT = "apt-get install nginx-light (or set `deploy.router: builtin`, which needs no install)"
SEARCH_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
# One JSON object per request. $upstream_header_time is "-" when the backend never answered,
# which is how a refused or reset connection (status 0) is told apart from a real 502.
LOG_FORMAT = (
    "'{\"msec\":$msec,\"addr\":\"$upstream_addr\",\"status\":$status,"
    "\"ustatus\":\"$upstream_status\",\"uht\":\"$upstream_header_time\",\"rt\":$request_time}'"
)


class NginxRouter:
    """nginx as the router: one worker doing exact weighted round-robin, every request logged."""

    kind = "nginx"

    def __init__(self, workdir: Path, nginx: str | None = None) -> None:
        self.workdir = Path(workdir)
        self._nginx = nginx
        self._state: RouterState | None = None
        self._generation = 0

    # -- files -----------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.workdir / name

    @property
    def conf_path(self) -> Path:
        """The generated nginx.conf."""
        return self._path("nginx.conf")

    @property
    def error_log(self) -> Path:
        """nginx's error log (start-up failures, refused backends)."""
        return self._path("error.log")

    @property
    def access_log(self) -> Path:
        """The JSON access log samples are read from."""
        return self._path("access.log")

    def _binary(self) -> str:
        if self._nginx is not None:
            if os.access(self._nginx, os.X_OK) and Path(self._nginx).is_file():
                return self._nginx
            raise ToolError(f"nginx not found at {self._nginx}", hint=NGINX_HINT)
        found = proc.find_tool("nginx")
        if found:
            return found
        for path in SEARCH_PATHS:
            if os.access(path, os.X_OK):
                return path
        raise ToolError("nginx is not installed (not on PATH nor in /usr/sbin)", hint=NGINX_HINT)

    def _cmd(self, nginx: str, conf: Path | None = None) -> tuple[str, ...]:
        return (nginx, "-p", f"{self.workdir}/", "-c", str(conf or self.conf_path),
                "-e", str(self.error_log))

    # -- protocol --------------------------------------------------------------------------

    def start(self, listen_port: int, backends: Sequence[Backend]) -> RouterState:
        """Write the config, start nginx (own session, no daemon) and wait until it serves."""
        nginx = self._binary()
        routes = validate_backends(backends)
        _check_path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        old = read_json(self._path("router.json"))
        if old and proc.running(_int(old.get("pid"))):
            raise UsageError(
                f"an nginx router already runs from {self.workdir} (pid {old['pid']}, "
                f"port {old.get('listen_port')})",
                hint="attach to it, or stop it before starting another",
            )
        port = listen_port or free_port()
        ensure_port_free(port)
        admin = free_port()
        for name in ("access.log", "access.log.1", "samples.json", "backends.json", "nginx.pid",
                     "nginx.out", "error.log"):
            remove(self._path(name))
        (self.workdir / "tmp").mkdir(exist_ok=True)
        self._install_config(nginx, port, admin, 1, routes)
        self._remember(routes)
        pid = proc.spawn(self._cmd(nginx), cwd=self.workdir, log_path=self._path("nginx.out"))
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._served_generation(admin) != 1:
            if not proc.running(pid) or time.monotonic() > deadline:
                proc.terminate(pid, grace_s=1.0)
                text = log_tail(self.error_log) + "\n" + log_tail(self._path("nginx.out"))
                if "Address already in use" in text:
                    raise port_in_use_error(port)
                raise ToolError("nginx did not start", hint=f"{self.error_log}:\n{text}")
            time.sleep(0.02)
        self._state = RouterState(kind=self.kind, listen_port=port, pid=pid, admin_port=admin,
                                  workdir=str(self.workdir))
        self._generation = 1
        self._save()
        return self._state

    def attach(self, state: RouterState) -> None:
        """Take over an nginx started earlier, from its workdir's state file."""
        self.workdir, info = attach_info(self.kind, state, self.workdir)
        self._state = RouterState(kind=self.kind, listen_port=int(info["listen_port"]),
                                  pid=int(info["pid"]), admin_port=int(info["admin_port"]),
                                  workdir=str(self.workdir))
        self._generation = int(info.get("generation", 0))

    def alive(self) -> bool:
        """Whether the nginx master runs and its workers answer."""
        state = self._state
        return (state is not None and proc.running(state.pid)
                and state.admin_port is not None
                and self._served_generation(state.admin_port) is not None)

    def route(self, backends: Sequence[Backend]) -> None:
        """Rewrite the upstream, check it, reload, and return once new workers serve it."""
        state = self._require()
        assert state.admin_port is not None
        nginx = self._binary()
        routes = validate_backends(backends)
        generation = self._generation + 1
        self._install_config(nginx, state.listen_port, state.admin_port, generation, routes)
        self._remember(routes)
        assert state.pid is not None
        old_workers = _workers(state.pid)
        res = proc.run((*self._cmd(nginx), "-s", "reload"), cwd=self.workdir, timeout=30)
        if res.returncode != 0:
            raise ToolError("nginx -s reload failed", hint=res.describe())
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        # nginx lets old workers accept connections for ~100 ms after new ones start, and they
        # keep serving their keep-alive connections until told to quit: wait for both.
        while (self._served_generation(state.admin_port) != generation
               or not _all_quitting(old_workers)):
            if time.monotonic() > deadline or not proc.running(state.pid):
                raise ToolError(
                    f"nginx did not apply the new routes within {RELOAD_TIMEOUT_S:g}s",
                    hint=f"{self.error_log}:\n{log_tail(self.error_log)}",
                )
            time.sleep(0.005)
        self._generation = generation
        self._save()

    def samples(self) -> list[RequestSample]:
        """Requests logged since the previous call (by any controller), oldest first.

        A log past ROTATE_BYTES is renamed and nginx told to reopen; its last lines are read
        on the next call, when every worker has long switched to the new file.
        """
        cursor = read_json(self._path("samples.json")) or {}
        offset = int(cursor.get("offset", 0))
        history = _History(read_json(self._path("backends.json")) or {})
        out: list[RequestSample] = []
        rotated = self._path("access.log.1")
        if cursor.get("rotated"):
            out += _read_log(rotated, offset, history)[0]
            remove(rotated)
            offset = 0
        found, offset = _read_log(self.access_log, offset, history)
        out += found
        state = self._state
        rotate = offset >= ROTATE_BYTES and state is not None and proc.running(state.pid)
        if rotate:
            self.access_log.replace(rotated)
            res = proc.run((*self._cmd(self._binary()), "-s", "reopen"), cwd=self.workdir,
                           timeout=30)
            rotate = res.returncode == 0
            if not rotate:  # nginx still writes to the renamed file: keep reading it as before
                rotated.replace(self.access_log)
        write_json(self._path("samples.json"), {"offset": offset, "rotated": rotate})
        return out

    def stop(self) -> None:
        """Stop nginx (SIGTERM to its group, SIGKILL if it lingers); its port is free after."""
        state = self._state
        info = read_json(self._path("router.json")) or {}
        pid = state.pid if state else _int(info.get("pid"))
        if pid is not None and proc.running(pid):
            proc.terminate(pid, grace_s=STOP_GRACE_S)
        remove(self._path("router.json"))
        self._state = None

    # -- helpers ---------------------------------------------------------------------------

    def _require(self) -> RouterState:
        if self._state is None or self._state.admin_port is None:
            raise UsageError("the nginx router is not started or attached")
        return self._state

    def _save(self) -> None:
        state = self._require()
        write_json(self._path("router.json"), {
            "pid": state.pid, "listen_port": state.listen_port, "admin_port": state.admin_port,
            "generation": self._generation,
        })

    def _install_config(self, nginx: str, port: int, admin: int, generation: int,
                        routes: Sequence[Backend]) -> None:
        """Write the config beside the live one, `nginx -t` it, then put it in place."""
        candidate = self._path("nginx.conf.new")
        candidate.write_text(self.render(port, admin, generation, routes), encoding="utf-8")
        res = proc.run((*self._cmd(nginx, candidate), "-t", "-q"), cwd=self.workdir, timeout=30)
        if res.returncode != 0:
            problem = next((ln for ln in res.stderr.splitlines() if "[emerg]" in ln),
                           res.stderr.strip() or "unknown problem")
            raise ToolError(f"nginx rejected the generated configuration: {problem}",
                            hint=f"config: {candidate}\n{res.describe()}")
        candidate.replace(self.conf_path)

    def render(self, port: int, admin: int, generation: int, routes: Sequence[Backend]) -> str:
        """The whole nginx.conf for this split; weight-0 backends are left out."""
        w = self.workdir
        servers = "\n".join(
            f"        server {_hostport(b.host, b.port)} weight={b.weight} max_fails=0;"
            f"  # {_comment(b.name)} = {_comment(b.version)}"
            for b in routes if b.weight > 0
        )
        temp = "\n".join(f"    {kind}_temp_path {_q(w / 'tmp' / kind)};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return f"""\
# Generated by suture (router "nginx", generation {generation}); it is rewritten on every route.
{_user_directive()}
worker_processes 1;
daemon off;
pid {_q(w / 'nginx.pid')};
error_log {_q(self.error_log)} error;
events {{
    worker_connections 4096;
}}
http {{
{temp}
    log_format suture escape=json {LOG_FORMAT};
    access_log {_q(self.access_log)} suture;
    upstream suture_backends {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://suture_backends;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # A failed backend must show as its own error, not be retried on the other version.
            proxy_next_upstream off;
            proxy_buffering off;
            proxy_request_buffering off;
            client_max_body_size 0;
            proxy_connect_timeout 5s;
            proxy_read_timeout 120s;
        }}
    }}
    server {{
        listen 127.0.0.1:{admin};
        access_log off;
        location = /generation {{
            return 200 "{generation}";
        }}
        location / {{
            return 404;
        }}
    }}
}}
"""

    def _remember(self, routes: Sequence[Backend]) -> None:
        """Add the split's addresses to the history old log lines are mapped through."""
        path = self._path("backends.json")
        history = _History(read_json(path) or {})
        now = time.time()
        for b in routes:
            for addr in _addresses(b.host, b.port):
                history.add(addr, b.version, now)
        write_json(path, history.data)

    def _served_generation(self, admin_port: int) -> int | None:
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=2.0)
        try:
            conn.request("GET", "/generation")
            resp = conn.getresponse()
            body = resp.read()
            return int(body) if resp.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            conn.close()


class _History:
    """Backend address -> [(since, version)], so a reused port maps old lines to the old version."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data: dict[str, list[list[Any]]] = {
            str(k): [list(e) for e in v] for k, v in data.items() if isinstance(v, list)
        }

    def add(self, addr: str, version: str, since: float) -> None:
        entries = self.data.setdefault(addr, [])
        if not entries or entries[-1][1] != version:
            entries.append([since, version])

    def version(self, addr: str, at: float) -> str | None:
        entries = self.data.get(addr)
        if not entries:
            return None
        chosen = entries[0][1]
        for since, version in entries:
            if since <= at:
                chosen = version
        return str(chosen)


def _workers(master: int) -> list[int]:
    """The master's worker pids (Linux /proc); empty when they cannot be listed."""
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def _all_quitting(pids: Sequence[int]) -> bool:
    """Whether each worker has exited or retitled itself "shutting down" (no longer accepts)."""
    for pid in pids:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"shutting down" not in title and proc.running(pid):
            return False
    return True


def _read_log(path: Path, offset: int, history: _History) -> tuple[list[RequestSample], int]:
    """Samples from complete lines after `offset`, and the offset after the last of them."""
    try:
        with path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_size < offset:
                offset = 0  # the log was truncated or replaced: start over
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], 0
    end = data.rfind(b"\n") + 1  # a line nginx is still writing waits for the next call
    return [s for line in data[:end].splitlines() if (s := _sample(line, history))], offset + end


def _sample(line: bytes, history: _History) -> RequestSample | None:
    """One access-log line as a sample; None for lines no backend was involved in."""
    try:
        rec = json.loads(line)
        addr = _last(rec["addr"])
        status = int(rec["status"])
        at, latency = float(rec["msec"]), float(rec["rt"])
    except (ValueError, KeyError, TypeError):
        return None
    if not addr or addr.startswith("unix:"):
        return None
    if _last(rec.get("uht", "-")) in ("", "-"):
        # 499: the client gave up before the backend answered, which is not the backend's fault.
        status = 499 if status == 499 else 0
    else:
        upstream = _last(rec.get("ustatus", ""))
        status = int(upstream) if upstream.isdigit() else status
    version = history.version(addr, at - latency)
    return None if version is None else RequestSample(version, at, latency, status)


def _last(value: object) -> str:
    """The last attempt's value: nginx joins retries with ", " and redirects with " : "."""
    return str(value).replace(" : ", ", ").split(", ")[-1].strip()


def _addresses(host: str, port: int) -> list[str]:
    """How $upstream_addr spells this backend (it logs resolved IPs)."""
    try:
        ips = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            ips = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})
        except OSError:
            ips = []
    return [_hostport(ip, port) for ip in ips] or [_hostport(host, port)]


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _q(path: Path | str) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _check_path(workdir: Path) -> None:
    # nginx would read `$` in a log path as a variable and `;{}` as syntax.
    if any(c in str(workdir) for c in '$;{}"\\\n'):
        raise UsageError(f"the nginx router cannot use {workdir} as its directory",
                         hint="use a directory whose path has no $ ; { } quote or backslash")


def _user_directive() -> str:
    """Workers run as the user running suture, like the built-in proxy does.

    As root nginx would otherwise drop them to nobody, who cannot enter a private workdir to
    reopen the logs after a rotation.
    """
    return "user root;" if os.geteuid() == 0 else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
