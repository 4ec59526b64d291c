"""Router "builtin": starts and drives the asyncio proxy in proxy_server.py (no install needed).

The proxy runs as its own process and outlives the controller; this side talks to its admin API
on 127.0.0.1 with the token from `<workdir>/router.json`, so any process can attach to it.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from suture import proc
from suture.deploy.model import RequestSample
from suture.deploy.routers.common import (
    attach_info,
    ensure_port_free,
    log_tail,
    port_in_use_error,
    read_json,
    remove,
    validate_backends,
    write_json,
)
from suture.deploy.routers.interface import Backend, RouterState
from suture.deploy.routers.proxy_server import ERROR_FILE, STATE_FILE
from suture.errors import ToolError, UsageError

START_TIMEOUT_S = 15.0
ADMIN_TIMEOUT_S = 10.0
STOP_GRACE_S = 3.0


class BuiltinRouter:
    """The built-in reverse proxy: smooth weighted round-robin, every request sampled."""

    kind = "builtin"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self._state: RouterState | None = None
        self._token = ""
        # Sequence number of the last sample handed out; None: continue where the proxy says.
        self._cursor: int | None = None

    @property
    def log_path(self) -> Path:
        """The proxy's own output (start-up errors, tracebacks)."""
        return self.workdir / "router.log"

    def start(self, listen_port: int, backends: Sequence[Backend]) -> RouterState:
        """Spawn the proxy on 127.0.0.1:`listen_port` (0: any free port); wait until it serves."""
        routes = validate_backends(backends)
        self.workdir.mkdir(parents=True, exist_ok=True)
        old = read_json(self.workdir / STATE_FILE)
        if old and proc.running(_int(old.get("pid"))):
            raise UsageError(
                f"a builtin router already runs from {self.workdir} (pid {old['pid']}, "
                f"port {old.get('listen_port')})",
                hint="attach to it, or stop it before starting another",
            )
        if listen_port:
            ensure_port_free(listen_port)
        for name in (STATE_FILE, ERROR_FILE):
            remove(self.workdir / name)
        routes_file = self.workdir / "routes.json"
        write_json(routes_file, {"backends": [asdict(b) for b in routes]})
        pid = proc.spawn(
            (sys.executable, "-m", "suture.deploy.routers.proxy_server", "--workdir",
             str(self.workdir), "--port", str(listen_port), "--routes", str(routes_file)),
            cwd=self.workdir, env=_import_path_env(), log_path=self.log_path,
        )
        info = self._wait_started(pid, listen_port)
        self._load(info, self.workdir)
        self._cursor = 0
        assert self._state is not None
        return self._state

    def _wait_started(self, pid: int, listen_port: int) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            info = read_json(self.workdir / STATE_FILE)
            if info and info.get("pid") == pid:
                return info
            error = read_json(self.workdir / ERROR_FILE)
            if error or not proc.running(pid):
                proc.terminate(pid, grace_s=1.0)
                if error and error.get("error") == "port_in_use":
                    raise port_in_use_error(listen_port)
                raise ToolError(
                    "the builtin router could not start: "
                    + str((error or {}).get("message", "it exited")),
                    hint=f"its log ({self.log_path}):\n{log_tail(self.log_path)}",
                )
            time.sleep(0.02)
        proc.terminate(pid, grace_s=1.0)
        raise ToolError(f"the builtin router did not start within {START_TIMEOUT_S:g}s",
                        hint=f"its log ({self.log_path}):\n{log_tail(self.log_path)}")

    def attach(self, state: RouterState) -> None:
        """Take over a proxy started earlier, from its workdir's state file."""
        workdir, info = attach_info(self.kind, state, self.workdir)
        self.workdir = workdir
        self._load(info, workdir)
        self._cursor = None

    def _load(self, info: dict[str, Any], workdir: Path) -> None:
        self._token = str(info["token"])
        self._state = RouterState(kind=self.kind, listen_port=int(info["listen_port"]),
                                  pid=int(info["pid"]), admin_port=int(info["admin_port"]),
                                  workdir=str(workdir))

    def alive(self) -> bool:
        """Whether the proxy process runs and its admin API answers."""
        state = self._state
        if state is None or not proc.running(state.pid):
            return False
        try:
            return bool(self._call("GET", "/health", timeout=2.0).get("ok"))
        except ToolError:
            return False

    def route(self, backends: Sequence[Backend]) -> None:
        """Send the new split; the proxy applies it before it answers, so it is live on return."""
        routes = validate_backends(backends)
        self._call("PUT", "/routes", {"backends": [asdict(b) for b in routes]})

    def samples(self) -> list[RequestSample]:
        """Requests completed since the previous call (by any controller), oldest first."""
        out: list[RequestSample] = []
        while True:
            path = "/samples" if self._cursor is None else f"/samples?after={self._cursor}"
            page = self._call("GET", path)
            out.extend(RequestSample(str(v), float(at), float(lat), int(st))
                       for v, at, lat, st in page["samples"])
            self._cursor = int(page["next"])
            if not page["more"]:
                return out

    def stop(self) -> None:
        """Terminate the proxy (SIGTERM, then SIGKILL) and forget it; its port is free after."""
        state = self._state
        pid = state.pid if state else _int((read_json(self.workdir / STATE_FILE) or {}).get("pid"))
        if pid is not None and proc.running(pid):
            proc.terminate(pid, grace_s=STOP_GRACE_S)
        remove(self.workdir / STATE_FILE)
        self._state = None
        self._cursor = None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              timeout: float = ADMIN_TIMEOUT_S) -> dict[str, Any]:
        state = self._state
        if state is None or state.admin_port is None:
            raise UsageError("the builtin router is not started or attached")
        conn = http.client.HTTPConnection("127.0.0.1", state.admin_port, timeout=timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Authorization": f"Bearer {self._token}",
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            status, raw = resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ToolError(
                f"the builtin router (pid {state.pid}, port {state.listen_port}) is not "
                f"answering its admin API: {exc}",
                hint=f"its log ({self.log_path}):\n{log_tail(self.log_path)}",
            ) from exc
        finally:
            conn.close()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {"error": raw[:200].decode("utf-8", "replace")}
        if status != 200 or not isinstance(payload, dict):
            raise ToolError(f"the builtin router refused {method} {path} ({status}): "
                            f"{payload.get('error') if isinstance(payload, dict) else payload}")
        return payload


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _import_path_env() -> dict[str, str]:
    """PYTHONPATH that finds this suture, even when it runs from a source tree."""
    here = str(Path(__file__).resolve().parents[3])
    current = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": here + (os.pathsep + current if current else "")}
