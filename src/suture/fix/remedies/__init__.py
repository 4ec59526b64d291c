"""The remedies `suture fix` tries, cheapest and safest first: the one table that lists them."""

from __future__ import annotations

from collections.abc import Callable

from suture.fix.remedies.interface import Remedy


def _table() -> tuple[Callable[[], Remedy], ...]:
    # Imported here so `suture --help` does not pay for libcst.
    from suture.fix.remedies.culprit_revert import CulpritRevert
    from suture.fix.remedies.dependency_bump import DependencyBump
    from suture.fix.remedies.flaky_quarantine import FlakyQuarantine
    from suture.fix.remedies.llm_patch import LLMPatch
    from suture.fix.remedies.missing_dependency import MissingDependency
    from suture.fix.remedies.ruff_fix import RuffFix
    from suture.fix.remedies.search_repair import SearchRepair
    from suture.fix.remedies.security_codemod import SecurityCodemod

    return (RuffFix, SecurityCodemod, DependencyBump, MissingDependency, CulpritRevert,
            FlakyQuarantine, SearchRepair, LLMPatch)


def make_remedies() -> list[Remedy]:
    """A fresh instance of every remedy, in the order they are tried."""
    return [factory() for factory in _table()]


def remedy_names() -> tuple[str, ...]:
    """Every remedy's name, in order."""
    return tuple(r.name for r in make_remedies())
