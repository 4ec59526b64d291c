"""The `suture why` corpus: one module per family of failing repositories (see why_corpus.py)."""

from __future__ import annotations

from why_cases import failing_tests, findings, gate_errors, regressions
from why_cases.project import Case

CASES: tuple[Case, ...] = (
    *regressions.CASES,
    *failing_tests.CASES,
    *findings.CASES,
    *gate_errors.CASES,
)
