"""Diagnosis codes."""


def normalise_codes(codes: list[str]) -> list[str]:
    """ICD-10 codes, trimmed and upper-case, without duplicates, in first-seen order."""
    seen: list[str] = []
    for raw in codes:
        code = raw.strip()
        if code not in seen:
            seen.append(code)
    return seen


def chapter(code: str) -> str:
    """The chapter letter of a code."""
    return code[0]
