"""Gates: one module per gate, each wrapping one real tool, registered in one table."""

from __future__ import annotations

from suture.gates.command import CommandGate
from suture.gates.deps import DepsGate
from suture.gates.fhir import FhirGate
from suture.gates.iac import IacGate
from suture.gates.interface import Gate
from suture.gates.lint import LintGate
from suture.gates.phi import PhiGate
from suture.gates.sast import SastGate
from suture.gates.secrets import SecretsGate
from suture.gates.tests import TestsGate

# The one registry of gate kinds; order is the order `suture init` writes and docs list them.
GATES: dict[str, type[Gate]] = {
    "tests": TestsGate,
    "lint": LintGate,
    "sast": SastGate,
    "secrets": SecretsGate,
    "deps": DepsGate,
    "iac": IacGate,
    "fhir": FhirGate,
    "phi": PhiGate,
    "command": CommandGate,
}

__all__ = ["GATES", "Gate"]
