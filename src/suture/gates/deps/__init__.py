"""The `deps` gate: pinned dependencies checked against OSV advisories (local mirror or API)."""

from __future__ import annotations

from suture.gates.deps.gate import AdvisorySource, DepsConfig, DepsGate, PinSource

__all__ = ["AdvisorySource", "DepsConfig", "DepsGate", "PinSource"]
