"""Release evidence: CycloneDX SBOMs and signed SLSA provenance, kept per run.

Everything is written under `.suture/evidence/<run_id>/` and each file is recorded in the audit
log with its SHA-256 (`sbom.created`, `provenance.created`), so an auditor can tie a release's
bill of materials and build attestation to the run that checked it.

Public API (the deploy step uses the provenance part for every release)::

    from suture.evidence import provenance, sbom

    doc = sbom.generate(python=python, cwd=root)                 # or requirements=Path(...)
    statement = provenance.build_statement(artifacts, provenance.build_info(root, run))
    envelope = provenance.sign(statement, key)                    # DSSE, Ed25519 audit key
    provenance.verify(envelope, public_key)                       # -> the statement, or raises
"""

from __future__ import annotations

from pathlib import Path

from suture.store.db import STATE_DIR, ensure_state_dir

EVIDENCE_DIR = "evidence"


def evidence_dir(root: Path, run_id: str) -> Path:
    """`<root>/.suture/evidence/<run_id>/`, created (with `.suture/`'s .gitignore) on demand."""
    ensure_state_dir(root / STATE_DIR)
    folder = root / STATE_DIR / EVIDENCE_DIR / run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


__all__ = ["EVIDENCE_DIR", "evidence_dir"]
