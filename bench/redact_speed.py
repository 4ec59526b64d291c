"""Measure the redactor's speed on a generated CI log (pytest output, service logs, seeded PHI).

    .venv/bin/python bench/redact_speed.py            # ~1 MB log, 3 repeats
    .venv/bin/python bench/redact_speed.py --mb 4 --repeat 5
"""

from __future__ import annotations

import argparse
import random
import time

from suture.llm.redact import Redactor

_LINES = [
    "{ts} INFO  uvicorn.access 127.0.0.1:{port} - \"GET /Patient/{n} HTTP/1.1\" 200",
    "{ts} WARNING app.db retrying connection to postgres at 10.0.{a}.{b}:5432 attempt {n}/5",
    "{ts} ERROR app.api request {sha} failed after 0.{n}s: upstream timeout",
    "tests/test_api.py::TestPatients::test_create[case-{n}] PASSED          [ {a}%]",
    "src/app/routes.py:{n}: in create_patient",
    "    resp = client.post(\"/Patient\", json=payload, timeout={a})",
    "E   AssertionError: assert {n} == {b}",
    "Successfully installed requests-2.31.0 urllib3-2.0.{a} fastapi-0.104.{b}",
    "commit {sha}{sha2} (HEAD -> main) bump version to 2.{a}.{b}",
    "  File \"/usr/lib/python3.11/site-packages/httpx/_client.py\", line {n}, in send",
]
_PHI = [
    "{ts} DEBUG app.fhir patient: Jane Doe, DOB: 1972-0{a}-1{b}, MRN: A{n}",
    "{ts} DEBUG app.notify sent SMS to (555) 1{a}2-34{b}7 for {n}@example.org",
    "{ts} ERROR app.cfg AWS_ACCESS_KEY_ID=AKIA{n:016d} rejected",
    "E   {{\"resourceType\": \"Patient\", \"birthDate\": \"1961-03-0{a}\", \"family\": \"Smith\"}}",
]


def generate(megabytes: float, seed: int = 7) -> str:
    """A reproducible log of about `megabytes` MB, one line in fifty carrying PHI or a secret."""
    rng = random.Random(seed)
    lines: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        template = rng.choice(_PHI) if rng.random() < 0.02 else rng.choice(_LINES)
        line = template.format(
            ts=f"2024-05-{rng.randint(10, 28)}T{rng.randint(10, 23)}:{rng.randint(10, 59)}:"
            f"{rng.randint(10, 59)}.{rng.randint(100, 999)}Z",
            port=rng.randint(1024, 65535), n=rng.randint(1, 9999), a=rng.randint(1, 9),
            b=rng.randint(1, 9), sha=f"{rng.getrandbits(80):020x}",
            sha2=f"{rng.getrandbits(80):020x}",
        )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print MB/s for a fresh Redactor over the generated log."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = generate(args.mb)
    megabytes = len(text.encode()) / 1_000_000
    Redactor().redact("warm up: load detect-secrets plugins once")
    timings = []
    for _ in range(args.repeat):
        redactor = Redactor()
        start = time.perf_counter()
        redactor.redact(text)
        timings.append(time.perf_counter() - start)
    best = min(timings)
    print(f"log: {megabytes:.2f} MB, {text.count(chr(10))} lines")
    print(f"redact: best {best:.3f} s, mean {sum(timings) / len(timings):.3f} s "
          f"-> {megabytes / best:.2f} MB/s")
    print(f"replaced: {redactor.counts}")


if __name__ == "__main__":
    main()
