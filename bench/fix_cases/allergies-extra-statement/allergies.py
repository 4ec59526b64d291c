"""Allergy reconciliation."""


def collect_allergies(records: list[dict[str, list[str]]]) -> list[str]:
    """Every allergy recorded across a patient's encounters, sorted, without duplicates."""
    found: list[str] = []
    for record in records:
        found = []
        found.extend(record.get("allergies", []))
    return sorted(set(found))


def has_allergy(allergies: list[str], substance: str) -> bool:
    """Case-insensitive lookup."""
    return substance.lower() in (a.lower() for a in allergies)
