"""What the controller needs from a traffic router: split by weight, report every request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from suture.deploy.model import RequestSample


@dataclass(frozen=True, slots=True)
class Backend:
    """One running instance of a version: where it listens and its share of the traffic.

    Weights are relative integers; a backend of weight 0 gets no new requests.
    """

    name: str
    version: str
    port: int
    weight: int
    host: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class RouterState:
    """What must be persisted to reach a running router again from another process."""

    kind: str
    listen_port: int
    pid: int | None = None
    admin_port: int | None = None
    workdir: str | None = None


class Router(Protocol):
    """A long-lived reverse proxy that outlives the `suture deploy` process that started it."""

    kind: str

    def start(self, listen_port: int, backends: Sequence[Backend]) -> RouterState:
        """Start serving on 127.0.0.1:`listen_port` (0: any free port); return how to reach it."""
        ...

    def attach(self, state: RouterState) -> None:
        """Take control of a router started earlier (by this or a crashed controller)."""
        ...

    def alive(self) -> bool:
        """Whether the router process is still serving."""
        ...

    def route(self, backends: Sequence[Backend]) -> None:
        """Replace the traffic split at once; returns when new requests follow it."""
        ...

    def samples(self) -> list[RequestSample]:
        """Requests completed since the previous call, oldest first."""
        ...

    def stop(self) -> None:
        """Stop the router and release its port."""
        ...
