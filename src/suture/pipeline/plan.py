"""The order gates run in: a dependency graph from `needs:`, checked for cycles."""

from __future__ import annotations

from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter

from suture.config import SutureConfig
from suture.errors import ConfigError, UsageError


def plan(config: SutureConfig, only: Iterable[str] = ()) -> dict[str, tuple[str, ...]]:
    """Enabled gates -> the gates each waits for, in a valid order; `only` narrows the set.

    A gate picked with `only` brings the gates it needs along.
    """
    enabled = {n: c for n, c in config.gates.items() if c.enabled}
    wanted = list(only)
    for name in wanted:
        if name not in config.gates:
            raise UsageError(
                f"no gate named '{name}' in suture.yml",
                hint=f"configured gates: {', '.join(config.gates) or 'none'}",
            )
        if name not in enabled:
            raise UsageError(f"gate '{name}' is disabled in suture.yml", hint="set enabled: true")
    if wanted:
        keep: set[str] = set()
        stack = wanted[:]
        while stack:
            name = stack.pop()
            if name in keep:
                continue
            keep.add(name)
            stack.extend(enabled[name].needs if name in enabled else [])
        enabled = {n: c for n, c in enabled.items() if n in keep}
    graph = {n: tuple(d for d in c.needs if d in enabled) for n, c in enabled.items()}
    for name, cfg in enabled.items():
        missing = [d for d in cfg.needs if d not in enabled]
        if missing:
            raise ConfigError(
                f"gate '{name}' needs {', '.join(missing)}, which is disabled",
                hint="enable it, or remove it from `needs:`",
            )
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ConfigError(f"gates depend on each other in a cycle: {cycle}",
                          hint="remove one of the `needs:` entries") from exc
    return {n: graph[n] for n in order}
