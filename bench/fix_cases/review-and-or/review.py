"""Medication review rules."""


def needs_pharmacist_review(age: int, on_anticoagulant: bool) -> bool:
    """Patients over 65, or on anticoagulants, get a pharmacist review."""
    return age > 65 and on_anticoagulant


def is_polypharmacy(medications: list[str]) -> bool:
    """Five or more regular medications."""
    return len(medications) >= 5
