"""What the controller needs from a place that runs versions of the app."""

from __future__ import annotations

from typing import Protocol

from suture.deploy.state import Instance


class Target(Protocol):
    """Starts, checks and stops instances of a commit of the app."""

    kind: str

    def start(self, commit: str, name: str) -> Instance:
        """Start one instance of `commit` and return once it answers its health check."""
        ...

    def alive(self, instance: Instance) -> bool:
        """Whether the instance's process is still running."""
        ...

    def healthy(self, instance: Instance) -> bool:
        """Whether the instance answers its health check now."""
        ...

    def stop(self, instance: Instance) -> None:
        """Stop the instance (its checkout stays for a quick restart or switch-back)."""
        ...
