"""What the local target leaves running, persisted per environment so any process can take over.

`.suture/deploy/<env>/state.json` names the router and every app instance (pid, port, commit)
and where the current release stands. It is replaced atomically, and the previous good copy is
kept as `state.json.bak`, so a crash mid-write or a hand edit never strands a serving version.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from suture.errors import UsageError

STATE_VERSION = 1
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Instance(BaseModel):
    """One running process of one version of the app."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    commit: str
    port: int
    pid: int
    workdir: str
    log: str

    @property
    def version(self) -> str:
        """The label requests are recorded under: the commit's first 12 hex digits."""
        return self.commit[:12]


class RouterInfo(BaseModel):
    """How to reach the environment's router process again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    listen_port: int
    pid: int | None = None
    admin_port: int | None = None
    workdir: str | None = None


class EnvState(BaseModel):
    """Everything running for one environment and the release (if any) moving traffic in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = STATE_VERSION
    env: str
    stable: str | None = None
    instances: tuple[Instance, ...] = ()
    router: RouterInfo | None = None
    release_id: str | None = None
    phase: int = 0
    rollback_requested: bool = False

    def of(self, commit: str | None) -> tuple[Instance, ...]:
        """Instances running `commit`."""
        return tuple(i for i in self.instances if i.commit == commit)


def check_env_name(env: str) -> str:
    """An environment name safe to use as a folder name."""
    if not _ENV_NAME.match(env):
        raise UsageError(f"environment name {env!r} is not allowed",
                         hint="use letters, digits, '.', '_' or '-' (e.g. staging, production)")
    return env


def env_dir(root: Path, env: str) -> Path:
    """Where an environment's state, logs and checkouts live."""
    return root / ".suture" / "deploy" / check_env_name(env)


def load(root: Path, env: str) -> EnvState:
    """The environment's state; a fresh one when nothing was ever deployed there."""
    path = env_dir(root, env) / "state.json"
    if not path.exists():
        return EnvState(env=env)
    try:
        return EnvState.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError, OSError) as exc:
        detail = str(exc).splitlines()[0]
        backup = path.with_name("state.json.bak")
        hint = (f"the last good copy is {backup}: inspect both and copy it over state.json "
                "(the serving processes are untouched)" if backup.exists() else
                "remove it only after stopping the processes it listed (ps -ef | grep suture)")
        raise UsageError(f"deploy state {path} is corrupted ({detail})", hint=hint) from None


def save(root: Path, state: EnvState) -> None:
    """Replace the state atomically, keeping the previous copy as state.json.bak."""
    folder = env_dir(root, state.env)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "state.json"
    tmp = folder / f"state.json.{os.getpid()}.tmp"
    tmp.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    if path.exists():
        try:
            EnvState.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValueError, ValidationError, OSError):
            pass  # never let a corrupted file overwrite the last good backup
        else:
            os.replace(path, folder / "state.json.bak")
    os.replace(tmp, path)
