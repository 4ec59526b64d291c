"""Pins from an environment: the distributions installed in the project's interpreter."""

from __future__ import annotations

import json

from suture import proc
from suture.errors import ToolError
from suture.gates.deps.records import Pin, PinSet

# Runs inside the project's interpreter; the empty sys.path entry (the cwd) is left out so a
# checkout's own *.egg-info folders do not pass for installed packages.
_LIST_DISTRIBUTIONS = """
import importlib.metadata as md, json, sys
found = []
for dist in md.distributions(path=[p for p in sys.path if p]):
    name = dist.metadata["Name"]
    if name:
        found.append([name, dist.version])
json.dump(found, sys.stdout)
"""


def environment_pins(python: str, *, timeout: float) -> PinSet:
    """Every distribution installed for `python`, as a pin with no source file."""
    res = proc.run([python, "-c", _LIST_DISTRIBUTIONS], timeout=timeout)
    hint = "check that the project's interpreter runs: " + res.describe()
    if res.returncode != 0:
        raise ToolError(f"could not list the packages installed for {python}", hint=hint)
    try:
        found = json.loads(res.stdout)
    except json.JSONDecodeError as exc:
        raise ToolError(
            f"listing the packages installed for {python} printed no JSON", hint=hint
        ) from exc
    return PinSet(pins=tuple(Pin(str(name), str(version)) for name, version in found))
