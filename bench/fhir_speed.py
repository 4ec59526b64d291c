"""Measure the fhir gate on generated FHIR files: schema load, then runs with and without it.

    .venv/bin/python bench/fhir_speed.py                       # 300 files, ../shared/data schema
    .venv/bin/python bench/fhir_speed.py --files 1000 --entries 50 --schema path/to/fhir.schema.json
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from suture.gates import fhir_schema
from suture.gates.fhir import FhirConfig, FhirGate
from suture.gates.interface import GateContext

DEFAULT_SCHEMA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "fhir-r4"


def patient(rng: random.Random, n: int) -> dict[str, Any]:
    """A fictional Patient; one in fifty has a gender code the schema rejects."""
    gender = "unknown-value" if rng.random() < 0.02 else rng.choice(["male", "female", "other"])
    return {
        "resourceType": "Patient",
        "id": f"p{n}",
        "identifier": [{"system": "urn:example:mrn", "value": f"MRN-{n:05d}"}],
        "name": [{"use": "official", "family": f"Patient{n}", "given": ["Test"]}],
        "gender": gender,
        "birthDate": f"19{rng.randint(30, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "address": [{"line": [f"{n} Example St"], "city": "Springfield", "postalCode": "00000"}],
    }


def observation(rng: random.Random, n: int) -> dict[str, Any]:
    """A heart-rate Observation about patient n."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/p{n}"},
        "effectiveDateTime": "2024-01-01T10:00:00Z",
        "valueQuantity": {"value": rng.randint(50, 120), "unit": "/min",
                          "system": "http://unitsofmeasure.org", "code": "/min"},
    }  # fmt: skip


def bundle(rng: random.Random, n: int, entries: int) -> dict[str, Any]:
    """A transaction Bundle: one Patient and entries-1 Observations about it."""
    resources = [patient(rng, n)] + [observation(rng, n) for _ in range(entries - 1)]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }


def generate(root: Path, files: int, entries: int, seed: int = 7) -> None:
    """Half single resources, half Bundles, plus non-FHIR JSON the gate must skip."""
    rng = random.Random(seed)
    (root / "fhir").mkdir(parents=True)
    for n in range(files):
        doc = bundle(rng, n, entries) if n % 2 else patient(rng, n)
        (root / "fhir" / f"r{n}.json").write_text(json.dumps(doc, indent=2))
    (root / "package.json").write_text('{"name": "x", "version": "1.0.0"}')


def main() -> None:
    """Print the schema's load time and the gate's wall time per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA / "fhir.schema.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.files, args.entries)
        ctx = GateContext(root=root, python="python", state_dir=root / ".suture", timeout=60)
        start = time.perf_counter()
        fhir_schema.load(args.schema)
        print(f"schema load: {time.perf_counter() - start:.2f} s (once per process)")
        for label, config in (
            ("models only", FhirConfig()),
            ("models + schema", FhirConfig.model_validate({"schema": str(args.schema)})),
        ):
            start = time.perf_counter()
            report = FhirGate("fhir", config).run(ctx)
            took = time.perf_counter() - start
            files = report.metrics["fhir_files"]
            print(f"{label}: {took:.2f} s for {files:.0f} files, "
                  f"{report.metrics['resources']:.0f} resources "
                  f"({1000 * took / files:.1f} ms/file), {len(report.findings)} findings")


if __name__ == "__main__":
    main()
