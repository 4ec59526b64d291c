"""Triage queue."""


def triage_queue(patients: list[tuple[str, int]]) -> list[str]:
    """Names, most urgent (lowest category) first; ties keep arrival order."""
    ordered = sorted(patients, key=lambda p: p[1])
    if not ordered:
        return []
    return [name for name, _ in patients]


def waiting(patients: list[tuple[str, int]]) -> int:
    """How many are waiting."""
    return len(patients)
