"""Traffic routers of the local target: the built-in asyncio proxy and nginx.

Imports stay lazy: the proxy process is started as a submodule of this package and should not
pay for the controller's imports (pydantic and friends) on every start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from suture.errors import ConfigError

if TYPE_CHECKING:
    from suture.deploy.routers.interface import Router


def _builtin(workdir: Path) -> Router:
    from suture.deploy.routers.proxy import BuiltinRouter

    return BuiltinRouter(workdir)


def _nginx(workdir: Path) -> Router:
    from suture.deploy.routers.nginx import NginxRouter

    return NginxRouter(workdir)


# Router kind (the `deploy.router` setting) -> constructor taking the router's work directory.
ROUTERS: dict[str, Callable[[Path], Router]] = {
    "builtin": _builtin,
    "nginx": _nginx,
}


def get_router(kind: str, workdir: Path) -> Router:
    """A router of `kind` keeping its config, logs and pid in `workdir`."""
    try:
        make = ROUTERS[kind]
    except KeyError:
        known = ", ".join(sorted(ROUTERS))
        raise ConfigError(f"unknown router {kind!r}; known routers: {known}",
                          hint="set `deploy.router:` in suture.yml to one of them") from None
    return make(workdir)
